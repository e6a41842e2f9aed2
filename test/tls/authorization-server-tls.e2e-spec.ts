import { Controller, ExecutionContext, Get, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy, OAuth2ResourceOptions } from '../../lib';
import { specErrorBody } from '../support/e2e-kit';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { HttpsIntrospectionServer } from '../support/https-introspection-server';
import {
  Issued,
  certificateAuthority,
  clientCertificate,
  encryptedKey,
  issue,
  serverCertificate,
} from '../support/test-pki';

/**
 * Issue 5, TLS to the authorization server, with a CA and certificates this test makes: https
 * endpoints are verified by default (trust, expiry, host name), `tls.ca` trusts a private CA, `tls.cert`
 * + `tls.key` (+ `passphrase`) present a client certificate (mutual TLS, RFC 8705 client
 * authentication), and only the loudly named `tls.insecureSkipVerify` turns verification off. A
 * connection that fails verification sends nothing: the token never leaves.
 */

const PASSPHRASE = 'correct horse battery staple';

interface Pki {
  ca: Issued;
  rogueCa: Issued;
  clientCa: Issued;
  server: Issued;
  localhostOnly: Issued;
  expired: Issued;
  selfSigned: Issued;
  client: Issued;
  rogueClient: Issued;
}

function makePki(): Pki {
  const ca = certificateAuthority('Test Root CA');
  const rogueCa = certificateAuthority('Rogue CA');
  const clientCa = certificateAuthority('Test Client CA');
  return {
    ca,
    rogueCa,
    clientCa,
    server: serverCertificate(ca),
    localhostOnly: serverCertificate(ca, { commonName: 'localhost', ips: [], dnsNames: ['localhost'] }),
    expired: serverCertificate(ca, { notBeforeDays: -60, notAfterDays: -1 }),
    selfSigned: issue({ commonName: '127.0.0.1', ips: ['127.0.0.1'], usage: 'server' }),
    client: clientCertificate(clientCa, 'orders-api'),
    rogueClient: clientCertificate(rogueCa, 'orders-api'),
  };
}

const fromPath = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.resource;

@Controller('tls')
@UseGuards(OAuth2Guard)
class TlsController {
  @Get(':resource')
  @OAuth2Policy({ oauthResource: fromPath })
  ok() {
    return { ok: true };
  }
}

/** The servers, by the certificate they present. */
type ServerName = 'trusted' | 'localhostOnly' | 'expired' | 'selfSigned' | 'mutual';

const pki = makePki();
const servers: Record<ServerName, HttpsIntrospectionServer> = {
  trusted: new HttpsIntrospectionServer({ key: pki.server.keyPem, cert: pki.server.certPem }),
  localhostOnly: new HttpsIntrospectionServer({ key: pki.localhostOnly.keyPem, cert: pki.localhostOnly.certPem }),
  expired: new HttpsIntrospectionServer({ key: pki.expired.keyPem, cert: pki.expired.certPem }),
  selfSigned: new HttpsIntrospectionServer({ key: pki.selfSigned.keyPem, cert: pki.selfSigned.certPem }),
  mutual: new HttpsIntrospectionServer({
    key: pki.server.keyPem,
    cert: pki.server.certPem,
    ca: pki.clientCa.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  }),
};

beforeAll(async () => {
  await Promise.all(Object.values(servers).map((server) => server.start()));
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map((server) => server.stop()));
});

/** A generic resource at a server, client_secret_basic unless the extra options say otherwise. */
function resource(name: string, server: ServerName, extra: Partial<OAuth2ResourceOptions> = {}): OAuth2ResourceOptions {
  return {
    name,
    type: 'generic',
    introspectionEndpoint: `${servers[server].url}/introspect`,
    clientId: 'orders-api',
    clientSecret: 'secret',
    timeout: 2000,
    ...extra,
  } as OAuth2ResourceOptions;
}

describe.each(ADAPTERS)('TLS to the authorization server, on %s', (adapter) => {
  const logger = new RecordingLogger();
  let app: INestApplication;
  let startupLines: string[];

  const get = (name: string, token = 'good') =>
    request(app.getHttpServer()).get(`/tls/${name}`).set('Authorization', `Bearer ${token}`);
  const expectUnavailable = (response: request.Response) => {
    expect({ status: response.status, body: response.body }).toEqual({
      status: 403,
      body: specErrorBody('OAUTH2_SERVER_UNAVAILABLE'),
    });
  };
  const warningsOf = (name: string) =>
    logger.lines.filter((line) => line.startsWith('warn ') && line.includes(`resource '${name}'`));

  /** Requests a server received during `work`. */
  const receivedDuring = async (server: ServerName, work: () => Promise<unknown>) => {
    const before = servers[server].requests.length;
    await work();
    return servers[server].requests.slice(before);
  };

  beforeAll(async () => {
    const ca = pki.ca.certPem;
    const mtls = { clientId: 'orders-api', clientSecret: undefined, useClientAuthorizationHeader: false };
    app = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [
              resource('default', 'trusted'),
              resource('ca', 'trusted', { tls: { ca } }),
              resource('ca-buffer', 'trusted', { tls: { ca: Buffer.from(ca) } }),
              resource('ca-list', 'trusted', { tls: { ca: [pki.rogueCa.certPem, ca] } }),
              resource('rogue-ca', 'trusted', { tls: { ca: pki.rogueCa.certPem } }),
              resource('altname', 'localhostOnly', { tls: { ca } }),
              resource('expired', 'expired', { tls: { ca } }),
              resource('self-signed', 'selfSigned'),
              resource('insecure', 'selfSigned', { tls: { insecureSkipVerify: true } }),
              resource('mtls-none', 'mutual', { tls: { ca }, ...mtls }),
              resource('mtls', 'mutual', { tls: { ca, cert: pki.client.certPem, key: pki.client.keyPem }, ...mtls }),
              resource('mtls-encrypted', 'mutual', {
                tls: {
                  ca,
                  cert: pki.client.certPem,
                  key: encryptedKey(pki.client, PASSPHRASE),
                  passphrase: PASSPHRASE,
                },
                ...mtls,
              }),
              resource('mtls-rogue', 'mutual', {
                tls: { ca, cert: pki.rogueClient.certPem, key: pki.rogueClient.keyPem },
                ...mtls,
              }),
              {
                name: 'am',
                type: 'gravitee-am',
                serverURL: servers.trusted.url,
                securityDomain: 'dom',
                clientId: 'orders-api',
                clientSecret: 'secret',
                tls: { ca },
              },
            ],
          }),
        ],
        controllers: [TlsController],
      },
      logger,
    );
    startupLines = [...logger.lines];
  });

  afterAll(async () => {
    await app?.close();
  });

  it('trusts a private CA given in tls.ca (string, Buffer, or a list holding it)', async () => {
    for (const name of ['ca', 'ca-buffer', 'ca-list', 'am']) {
      await get(name).expect(200, { ok: true });
    }
    await get('ca', 'other').expect(401);
  });

  it.each([
    [
      'a certificate of a CA it does not know (no tls option: Node’s default list)',
      'default',
      'trusted',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    ],
    ['a certificate of another CA than tls.ca', 'rogue-ca', 'trusted', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    [
      'a certificate for another host name (localhost, not 127.0.0.1)',
      'altname',
      'localhostOnly',
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    ['an expired certificate', 'expired', 'expired', 'CERT_HAS_EXPIRED'],
    ['a self-signed certificate', 'self-signed', 'selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  ] as const)('refuses %s, and sends it nothing', async (_name, name, server, code) => {
    const received = await receivedDuring(server, async () => expectUnavailable(await get(name)));
    expect(received).toEqual([]);
    expect(
      warningsOf(name).some((line) => line.includes(`presented a TLS certificate that is not trusted (${code})`)),
    ).toBe(true);
  });

  it('keeps verifying when NODE_TLS_REJECT_UNAUTHORIZED=0 is in the environment', async () => {
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const received = await receivedDuring('trusted', async () =>
        expectUnavailable(await get('default', 'env-token')),
      );
      expect(received).toEqual([]);
    } finally {
      if (previous === undefined) {
        delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      } else {
        process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
      }
    }
  });

  it('accepts any certificate only with tls.insecureSkipVerify, and warns about it at start-up', async () => {
    await get('insecure').expect(200, { ok: true });
    const warnings = startupLines.filter((line) => line.startsWith('warn ') && line.includes('insecureSkipVerify'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("resource 'insecure'");
    expect(warnings[0]).toContain('NOT verified');
  });

  it('authenticates with a client certificate (mutual TLS, RFC 8705 tls_client_auth): client_id in the form, no secret', async () => {
    const received = await receivedDuring('mutual', async () => get('mtls').expect(200, { ok: true }));
    expect(received).toHaveLength(1);
    expect(received[0].clientCertificateCN).toBe('orders-api');
    expect(received[0].form.get('client_id')).toBe('orders-api');
    expect(received[0].form.has('client_secret')).toBe(false);
    expect(received[0].authorization).toBeUndefined();
  });

  it('loads an encrypted client key with its passphrase', async () => {
    await get('mtls-encrypted').expect(200, { ok: true });
  });

  it.each([
    [
      'without a client certificate',
      'mtls-none',
      /failed the TLS handshake \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)/,
    ],
    // TLS 1.3 finishes the client's side of the handshake before the server checks its certificate: it resets.
    [
      'with a client certificate of a CA the server does not trust',
      'mtls-rogue',
      /(failed the TLS handshake|broke off the connection)/,
    ],
  ])('is refused by a server that requires mutual TLS %s, and sends it nothing', async (_name, name, reason) => {
    const handshakes = servers.mutual.failedHandshakes;
    const received = await receivedDuring('mutual', async () => expectUnavailable(await get(name)));
    expect(received).toEqual([]);
    expect(servers.mutual.failedHandshakes).toBeGreaterThan(handshakes);
    expect(warningsOf(name)).toHaveLength(1);
    expect(warningsOf(name)[0]).toMatch(reason);
  });

  it('never logs a key, a passphrase or a certificate', () => {
    const secrets = [PASSPHRASE, 'PRIVATE KEY', 'BEGIN CERTIFICATE', pki.client.keyPem.split('\n')[1]];
    for (const line of logger.lines) {
      for (const secret of secrets) {
        expect(line).not.toContain(secret);
      }
    }
  });
});

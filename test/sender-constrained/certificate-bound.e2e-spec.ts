import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, type OAuth2ModuleOptions, OAuth2Payload, OAuth2Policy } from '../../lib';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import {
  type SenderConstrainedProvider,
  clientCertHeader,
  httpsGet,
  obtainToken,
  startHttpsApp,
  startSenderConstrainedProvider,
  thumbprintOf,
} from '../support/sender-constrained';
import { type Issued, certificateAuthority, clientCertificate, issue, serverCertificate } from '../support/test-pki';

/**
 * RFC 8705 §3 certificate-bound access tokens, against a real authorization server (node-oidc-provider with
 * `features.mTLS.certificateBoundAccessTokens`): a bound token is accepted only with the certificate it is
 * bound to, from the TLS connection of Nest's own HTTPS server, or from a trusted proxy's RFC 9440
 * `Client-Cert` header. The attacks: the stolen token presented as a plain Bearer token without the
 * certificate, with another certificate, with a forged or malformed header.
 */

@Controller()
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get('orders')
  list(@OAuth2Payload('$.client_id') clientId: unknown, @OAuth2Payload('$.cnf') cnf: unknown) {
    return { clientId, cnf: cnf ?? null };
  }

  @Get('strict')
  @OAuth2Policy({ requireCertificateBinding: true })
  strict(@OAuth2Payload('$.client_id') clientId: unknown) {
    return { clientId };
  }
}

const ca = certificateAuthority('sender-constrained test CA');
const serverTls = serverCertificate(ca);
const alice = clientCertificate(ca, 'alice');
const mallory = clientCertificate(ca, 'mallory');
/** A self-signed client certificate: RFC 8705 §2.2 binds those too. */
const selfSigned = issue({ commonName: 'self-signed client', usage: 'client' });
const tls = { key: serverTls.keyPem, cert: serverTls.certPem, ca: ca.certPem };
const client = (issued: Issued) => ({ cert: issued.certPem, key: issued.keyPem });

let provider: SenderConstrainedProvider;
beforeAll(async () => {
  provider = await startSenderConstrainedProvider();
});
afterAll(async () => {
  await provider?.stop();
});

function moduleOptions(extra: Partial<OAuth2ModuleOptions> = {}): OAuth2ModuleOptions {
  return {
    resources: [
      {
        name: 'as',
        type: 'generic',
        introspectionEndpoint: provider.introspectionUrl,
        clientId: provider.clients.jsonResourceServer.clientId,
        clientSecret: provider.clients.jsonResourceServer.clientSecret,
      },
    ],
    caches: [{ name: 'local', timeToLiveSeconds: 60 }],
    policy: { oauthResource: 'as', oauthCacheResource: 'local', extractPayload: true },
    ...extra,
  };
}

describe.each(ADAPTERS)('certificate-bound tokens on %s', (adapter) => {
  describe("over Nest's own HTTPS server", () => {
    let app: INestApplication;
    const logger = new RecordingLogger();
    beforeAll(async () => {
      app = await startHttpsApp(
        adapter,
        { imports: [OAuth2Module.forRoot(moduleOptions())], controllers: [OrdersController] },
        tls,
        logger,
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it('accepts a bound token with its certificate, then refuses the cached token with another one or none', async () => {
      const token = await obtainToken(provider, provider.clients.bound, alice.certPem);
      const allowed = await httpsGet(app, '/orders', { ca: ca.certPem, token, client: client(alice) });
      expect(allowed.status).toBe(200);
      expect(allowed.body).toEqual({ clientId: 'bound-client', cnf: { 'x5t#S256': thumbprintOf(alice.certPem) } });

      // The payload is now in the cache: the binding is still checked, per request.
      const stolen = await httpsGet(app, '/orders', { ca: ca.certPem, token, client: client(mallory) });
      expect(stolen.status).toBe(401);
      expect(stolen.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      const bare = await httpsGet(app, '/orders', { ca: ca.certPem, token });
      expect(bare.status).toBe(401);
      expect(bare.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      // The certificate's RFC 9440 header, without the certificate on the connection: not trusted here.
      const forged = await httpsGet(app, '/orders', {
        ca: ca.certPem,
        token,
        headers: { 'Client-Cert': clientCertHeader(alice.certPem) },
      });
      expect(forged.status).toBe(401);
      expect(forged.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');

      const again = await httpsGet(app, '/orders', { ca: ca.certPem, token, client: client(alice) });
      expect(again.status).toBe(200);
      expect(logger.lines.join('\n')).not.toContain(token);
    });

    it('binds to a self-signed client certificate as well', async () => {
      const token = await obtainToken(provider, provider.clients.bound, selfSigned.certPem);
      expect((await httpsGet(app, '/orders', { ca: ca.certPem, token, client: client(selfSigned) })).status).toBe(200);
      expect((await httpsGet(app, '/orders', { ca: ca.certPem, token, client: client(alice) })).status).toBe(401);
    });

    it('lets unbound tokens through, except where requireCertificateBinding is on', async () => {
      const token = await obtainToken(provider, provider.clients.plain);
      const plain = await httpsGet(app, '/orders', { ca: ca.certPem, token });
      expect(plain.status).toBe(200);
      expect(plain.body).toEqual({ clientId: 'plain-client', cnf: null });
      const withCertificate = await httpsGet(app, '/strict', { ca: ca.certPem, token, client: client(alice) });
      expect(withCertificate.status).toBe(401);
      expect(withCertificate.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');

      const bound = await obtainToken(provider, provider.clients.bound, alice.certPem);
      expect((await httpsGet(app, '/strict', { ca: ca.certPem, token: bound, client: client(alice) })).status).toBe(
        200,
      );
      expect((await httpsGet(app, '/strict', { ca: ca.certPem, token: bound })).status).toBe(401);
    });
  });

  describe('behind a trusted TLS-terminating proxy (RFC 9440 Client-Cert)', () => {
    let app: INestApplication;
    let token: string;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot(moduleOptions({ trustedClientCertificateHeader: 'Client-Cert' }))],
        controllers: [OrdersController],
      });
      token = await obtainToken(provider, provider.clients.bound, alice.certPem);
    });
    afterAll(async () => {
      await app?.close();
    });

    const get = (headers: Record<string, string | string[]>) => {
      const call = request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);
      for (const [name, value] of Object.entries(headers)) {
        // An array sends the header once per value (superagent's typings allow that for Cookie only).
        (call.set as (field: string, value: string | string[]) => unknown).call(call, name, value);
      }
      return call;
    };

    it("accepts the bound token with the proxy's header of its certificate", async () => {
      const response = await get({ 'Client-Cert': clientCertHeader(alice.certPem) });
      expect(response.status).toBe(200);
      expect(response.body.cnf).toEqual({ 'x5t#S256': thumbprintOf(alice.certPem) });
    });

    it('refuses it with the header of another certificate, or without the header', async () => {
      const cases: Record<string, string>[] = [{ 'Client-Cert': clientCertHeader(mallory.certPem) }, {}];
      for (const headers of cases) {
        const response = await get(headers);
        expect(response.status).toBe(401);
        expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      }
    });

    it('refuses it with a malformed header, never with a 500', async () => {
      const der = clientCertHeader(alice.certPem).slice(1, -1);
      const malformed: Record<string, string | string[]>[] = [
        { 'Client-Cert': der },
        { 'Client-Cert': `:${der}` },
        { 'Client-Cert': `:${der}:;param=1` },
        { 'Client-Cert': ':not base64!:' },
        { 'Client-Cert': '::' },
        { 'Client-Cert': `:${Buffer.from('not a certificate').toString('base64')}:` },
        { 'Client-Cert': `"${der}"` },
        { 'Client-Cert': [clientCertHeader(alice.certPem), clientCertHeader(alice.certPem)] },
      ];
      for (const headers of malformed) {
        const response = await get(headers);
        expect(response.status).toBe(401);
        expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      }
      // The right header still works afterwards.
      expect((await get({ 'Client-Cert': clientCertHeader(alice.certPem) })).status).toBe(200);
    });
  });

  describe('with the trusted header configured on an HTTPS server', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startHttpsApp(
        adapter,
        {
          imports: [OAuth2Module.forRoot(moduleOptions({ trustedClientCertificateHeader: 'Client-Cert' }))],
          controllers: [OrdersController],
        },
        tls,
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it("counts the header alone, never the connection's certificate (the proxy's, behind a proxy)", async () => {
      const token = await obtainToken(provider, provider.clients.bound, alice.certPem);
      const connectionOnly = await httpsGet(app, '/orders', { ca: ca.certPem, token, client: client(alice) });
      expect(connectionOnly.status).toBe(401);
      const header = await httpsGet(app, '/orders', {
        ca: ca.certPem,
        token,
        client: client(mallory),
        headers: { 'Client-Cert': clientCertHeader(alice.certPem) },
      });
      expect(header.status).toBe(200);
    });
  });
});

import { Controller, type ExecutionContext, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  type GenericOAuth2ResourceOptions,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Policy,
  type OAuth2ResourceOptions,
} from '../../lib';
import { ForwardProxy, Socks5Proxy, closedPort } from '../support/forward-proxy';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { HttpsIntrospectionServer } from '../support/https-introspection-server';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { certificateAuthority, clientCertificate, serverCertificate } from '../support/test-pki';

/**
 * Issue 17, point 1: a resource reaches its authorization server through a real forward proxy started
 * here on loopback: `http://` in absolute form, `https://` through CONNECT with the resource's private
 * CA and client certificate end to end, SOCKS5, Basic proxy credentials; a refusing or absent proxy is
 * OAUTH2_SERVER_UNAVAILABLE at once; environment proxies are used only with useSystemProxy, and
 * NO_PROXY is honoured. The proxy's password is never in a log line or an answer.
 */

const PROXY_USER = 'proxy-user';
const PROXY_PASSWORD = 'PROXYCANARY-p4ss';
const PROXY_BASIC = Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64');

const ca = certificateAuthority('Proxy Test Root CA');
const clientCa = certificateAuthority('Proxy Test Client CA');
const serverCert = serverCertificate(ca);
const client = clientCertificate(clientCa, 'orders-api');

const fromPath = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.resource;

@Controller('via')
@UseGuards(OAuth2Guard)
class ViaController {
  @Get(':resource')
  @OAuth2Policy({ oauthResource: fromPath, oauthCacheResource: false })
  ok() {
    return { ok: true };
  }
}

const plain = new ScriptedIntrospectionServer();
const mutual = new HttpsIntrospectionServer(
  {
    key: serverCert.keyPem,
    cert: serverCert.certPem,
    ca: clientCa.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  },
  // Long enough for Node's client to keep the connection between calls.
  5000,
);
const open = new ForwardProxy();
const guarded = new ForwardProxy({ username: PROXY_USER, password: PROXY_PASSWORD });
const socks = new Socks5Proxy({ username: PROXY_USER, password: PROXY_PASSWORD });
let socksPort = 0;
let downPort = 0;

beforeAll(async () => {
  await Promise.all([plain.start(), mutual.start(), open.start(), guarded.start()]);
  socksPort = await socks.start();
  downPort = await closedPort();
  plain.tokens.set('good', { active: true, client_id: 'c1' });
});

afterAll(async () => {
  await Promise.all([plain.stop(), mutual.stop(), open.stop(), guarded.stop(), socks.stop()]);
});

const tls = () => ({ ca: ca.certPem, cert: client.certPem, key: client.keyPem });
const credentials = { username: PROXY_USER, password: PROXY_PASSWORD };

function resources(): OAuth2ResourceOptions[] {
  const https = (name: string, extra: Partial<GenericOAuth2ResourceOptions>): GenericOAuth2ResourceOptions => ({
    name,
    type: 'generic',
    introspectionEndpoint: `${mutual.url}/introspect`,
    clientId: 'orders-api',
    clientSecret: 'secret',
    tls: tls(),
    ...extra,
  });
  return [
    genericResource('http-open', plain.url, { proxy: { host: '127.0.0.1', port: open.port } }),
    genericResource('http-auth', plain.url, { proxy: { host: '127.0.0.1', port: guarded.port, ...credentials } }),
    genericResource('http-wrong', plain.url, {
      proxy: { host: '127.0.0.1', port: guarded.port, username: PROXY_USER, password: 'PROXYCANARY-wrong' },
    }),
    genericResource('http-disabled', plain.url, { proxy: { enabled: false, host: '127.0.0.1', port: open.port } }),
    https('https-auth', { proxy: { host: '127.0.0.1', port: guarded.port, ...credentials } }),
    https('https-wrong', { proxy: { host: '127.0.0.1', port: guarded.port, username: PROXY_USER, password: 'x' } }),
    https('https-none', { proxy: { host: '127.0.0.1', port: guarded.port } }),
    https('https-down', { proxy: { host: '127.0.0.1', port: downPort }, timeout: 4000 }),
    genericResource('http-down', plain.url, { proxy: { host: '127.0.0.1', port: downPort }, timeout: 4000 }),
    https('https-socks', { proxy: { type: 'SOCKS5', host: '127.0.0.1', port: socksPort, ...credentials } }),
    genericResource('http-socks', plain.url, {
      proxy: { type: 'SOCKS5', host: '127.0.0.1', port: socksPort, ...credentials },
    }),
    https('https-capped', {
      proxy: { host: '127.0.0.1', port: open.port },
      http: { maxConcurrentConnections: 2 },
    }),
  ];
}

describe.each(ADAPTERS)('proxy to the authorization server on %s', (adapter) => {
  let app: INestApplication;
  const logger = new RecordingLogger();
  const bodies: string[] = [];

  beforeAll(async () => {
    app = await startApp(
      adapter,
      { imports: [OAuth2Module.forRoot({ resources: resources() })], controllers: [ViaController] },
      logger,
    );
  });
  afterAll(async () => {
    await app.close();
    // Every level, every answer: neither the password nor the Basic value it makes.
    const everything = [...logger.lines, ...bodies].join('\n');
    expect(everything).not.toContain('PROXYCANARY');
    expect(everything).not.toContain(PROXY_BASIC);
  });
  beforeEach(() => {
    plain.requests.length = 0;
    mutual.requests.length = 0;
    open.reset();
    guarded.reset();
  });

  async function call(resource: string, token = 'good') {
    const response = await request(app.getHttpServer()).get(`/via/${resource}`).set('Authorization', `Bearer ${token}`);
    bodies.push(JSON.stringify(response.body), JSON.stringify(response.headers));
    return response;
  }

  it('http:// through an HTTP proxy, in absolute form', async () => {
    expect((await call('http-open')).status).toBe(200);
    expect(open.seen).toEqual([
      { method: 'POST', target: `${plain.url}/introspect`, proxyAuthorization: undefined, allowed: true },
    ]);
    expect(plain.requestsTo('/introspect')).toHaveLength(1);
  });

  it('http:// with Basic proxy credentials, which do not reach the server', async () => {
    expect((await call('http-auth')).status).toBe(200);
    expect(guarded.seen).toEqual([
      expect.objectContaining({ proxyAuthorization: `Basic ${PROXY_BASIC}`, allowed: true }),
    ]);
    expect(plain.requests[0].headers['proxy-authorization']).toBeUndefined();
  });

  it('https:// through CONNECT, with the private CA and the client certificate end to end', async () => {
    expect((await call('https-auth')).status).toBe(200);
    expect(guarded.seen).toEqual([
      {
        method: 'CONNECT',
        target: mutual.url.replace('https://', ''),
        proxyAuthorization: `Basic ${PROXY_BASIC}`,
        allowed: true,
      },
    ]);
    expect(mutual.requests.map((received) => received.clientCertificateCN)).toEqual(['orders-api']);
    const bad = await call('https-auth', 'bad');
    expect(bad.status).toBe(401);
  });

  it('keeps the tunnel alive between calls', async () => {
    for (let index = 0; index < 3; index += 1) {
      expect((await call('https-auth')).status).toBe(200);
    }
    expect(guarded.connections).toBeLessThanOrEqual(1);
    expect(mutual.requests).toHaveLength(3);
  });

  it('keeps the connection cap through the proxy: a burst opens at most maxConcurrentConnections tunnels', async () => {
    // Distinct tokens, so that each is introspected (concurrent requests for one token share a look-up).
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => call('https-capped', `burst-${index}`)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(401));
    expect(open.maxOpen).toBeLessThanOrEqual(2);
    expect(mutual.requests).toHaveLength(8);
  });

  it.each([
    ['https-wrong', 'wrong credentials (407 to CONNECT)'],
    ['https-none', 'no credentials where the proxy needs them'],
    ['http-wrong', 'wrong credentials (407 to the request)'],
  ])('%s: %s is OAUTH2_SERVER_UNAVAILABLE, and the server hears nothing', async (resource) => {
    const response = await call(resource);
    expect(response.status).toBe(403);
    expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
    expect(mutual.requests).toHaveLength(0);
    expect(plain.requests).toHaveLength(0);
  });

  it('logs what the proxy did, naming the resource and the proxy, never the credentials', async () => {
    await call('https-wrong');
    await call('http-wrong');
    const where = `127.0.0.1:${guarded.port}`;
    expect(logger.lines).toContainEqual(
      expect.stringContaining(
        `authorization server of resource 'https-wrong' could not be reached: proxy ${where} refused our credentials (407): check proxy.username and proxy.password`,
      ),
    );
    expect(logger.lines).toContainEqual(
      expect.stringContaining(
        "authorization server of resource 'http-wrong' answered HTTP 407: its proxy refused our credentials",
      ),
    );
  });

  it.each(['https-down', 'http-down'])(
    '%s: a proxy that is down is OAUTH2_SERVER_UNAVAILABLE at once',
    async (resource) => {
      const started = Date.now();
      const response = await call(resource);
      expect(response.body.key).toBe('OAUTH2_SERVER_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(1500);
    },
  );

  it('enabled: false connects directly', async () => {
    expect((await call('http-disabled')).status).toBe(200);
    expect(open.seen).toEqual([]);
    expect(plain.requestsTo('/introspect')).toHaveLength(1);
  });

  it('SOCKS5 with user name and password, for https:// (TLS end to end) and http://', async () => {
    socks.destinations.length = 0;
    expect((await call('https-socks')).status).toBe(200);
    expect((await call('http-socks')).status).toBe(200);
    expect(socks.destinations).toEqual([mutual.url.replace('https://', ''), plain.url.replace('http://', '')]);
    expect(mutual.requests.map((received) => received.clientCertificateCN)).toEqual(['orders-api']);
  });

  it('says at start-up which proxy each resource uses, never its credentials', () => {
    expect(logger.lines).toContainEqual(
      expect.stringContaining(
        `resource 'https-auth' reaches https:// URLs through the HTTP proxy 127.0.0.1:${guarded.port} (with credentials)`,
      ),
    );
  });
});

describe.each(ADAPTERS)('environment proxies on %s', (adapter) => {
  const saved = { ...process.env };
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']) {
      if (saved[name] === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = saved[name];
      }
    }
    open.reset();
    plain.requests.length = 0;
  });

  /** Starts an application with the resource, and calls it once: the status. */
  async function statusThrough(resource: OAuth2ResourceOptions): Promise<number> {
    app = await startApp(adapter, {
      imports: [OAuth2Module.forRoot({ resources: [resource] })],
      controllers: [ViaController],
    });
    const response = await request(app.getHttpServer())
      .get(`/via/${resource.name}`)
      .set('Authorization', 'Bearer good');
    return response.status;
  }

  it('HTTP_PROXY and http_proxy are not used without a proxy option', async () => {
    process.env.HTTP_PROXY = open.url;
    process.env.http_proxy = open.url;
    expect(await statusThrough(genericResource('direct', plain.url))).toBe(200);
    expect(open.seen).toEqual([]);
    expect(plain.requestsTo('/introspect')).toHaveLength(1);
  });

  it('useSystemProxy takes HTTP_PROXY', async () => {
    process.env.HTTP_PROXY = open.url;
    expect(await statusThrough(genericResource('system', plain.url, { proxy: { useSystemProxy: true } }))).toBe(200);
    expect(open.seen).toEqual([expect.objectContaining({ target: `${plain.url}/introspect`, allowed: true })]);
  });

  it('useSystemProxy bypasses the hosts of NO_PROXY', async () => {
    process.env.http_proxy = open.url;
    process.env.NO_PROXY = 'example.com, 127.0.0.1';
    expect(await statusThrough(genericResource('bypassed', plain.url, { proxy: { useSystemProxy: true } }))).toBe(200);
    expect(open.seen).toEqual([]);
    expect(plain.requestsTo('/introspect')).toHaveLength(1);
  });
});

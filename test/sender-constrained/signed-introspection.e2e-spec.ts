import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import { SignJWT } from 'jose';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, type OAuth2ModuleOptions, OAuth2Payload, OAuth2ResourceRegistry } from '../../lib';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import {
  type SenderConstrainedProvider,
  obtainToken,
  startSenderConstrainedProvider,
} from '../support/sender-constrained';
import { type SigningKey, SignedIntrospectionServer, signingKey } from '../support/signed-introspection-server';

/**
 * RFC 9701 signed introspection answers: with `introspectionResponseFormat: 'jwt'` the resource asks for
 * `application/token-introspection+jwt` and accepts only a JWS signed by the issuer's keys, for its
 * client, just made. Against a real server (node-oidc-provider's `features.jwtIntrospection`), and
 * against a scripted one for the attacks: an unsigned answer, `alg: none`, another key, an HMAC, wrong
 * `iss`, `aud`, `typ`, a stale or future `iat`, plain JSON.
 */

@Controller()
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get('orders')
  list(@OAuth2Payload('$.client_id') clientId: unknown, @OAuth2Payload('$.scope') scope: unknown) {
    return { clientId, scope: scope ?? null };
  }
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(ADAPTERS)('signed introspection answers (RFC 9701) on %s', (adapter) => {
  describe('from node-oidc-provider (features.jwtIntrospection)', () => {
    let provider: SenderConstrainedProvider;
    const apps: INestApplication[] = [];
    beforeAll(async () => {
      provider = await startSenderConstrainedProvider();
    });
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
      await provider?.stop();
    });

    async function appAs(
      client: { clientId: string; clientSecret: string },
      jwksUri?: string,
    ): Promise<INestApplication> {
      const options: OAuth2ModuleOptions = {
        resources: [
          {
            name: 'as',
            type: 'generic',
            issuer: provider.issuer,
            clientId: client.clientId,
            clientSecret: client.clientSecret,
            introspectionResponseFormat: 'jwt',
            ...(jwksUri !== undefined && { jwksUri }),
          },
        ],
        policy: { oauthResource: 'as', extractPayload: true },
      };
      const app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot(options)],
        controllers: [OrdersController],
      });
      apps.push(app);
      return app;
    }

    it("accepts the provider's signed answers (keys from the discovered jwks_uri)", async () => {
      const app = await appAs(provider.clients.jwtResourceServer);
      const token = await obtainToken(provider, provider.clients.plain);
      const response = await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(200);
      expect(response.body.clientId).toBe('plain-client');
      const unknown = await request(app.getHttpServer()).get('/orders').set('Authorization', 'Bearer not-a-token');
      expect(unknown.status).toBe(401);
      expect(unknown.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      // A health check counts the signed answer (to its random token) as an answer.
      const health = await app.get(OAuth2ResourceRegistry).get('as').checkHealth();
      expect(health).toMatchObject({ up: true, httpStatus: 200 });
    });

    it("refuses the provider's genuine answers when checked against other keys (jwksUri of another server)", async () => {
      const impostor = await SignedIntrospectionServer.start();
      try {
        // A key under the provider's own kid, which did not sign its answers.
        impostor.published = [await signingKey('sender-constrained', 'RS256')];
        const app = await appAs(provider.clients.jwtResourceServer, `${impostor.issuer}/jwks`);
        const token = await obtainToken(provider, provider.clients.plain);
        const response = await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`);
        expect(response.status).toBe(403);
        expect(response.body.key).toBe('OAUTH2_INVALID_SERVER_RESPONSE');
        expect(impostor.jwksFetches).toBe(1);
      } finally {
        await impostor.close();
      }
    });
  });

  describe('from a scripted server: forged answers', () => {
    let server: SignedIntrospectionServer;
    let key: SigningKey;
    let app: INestApplication;
    const logger = new RecordingLogger();
    const sent: string[] = [];
    const now = () => Math.floor(Date.now() / 1000);

    beforeAll(async () => {
      server = await SignedIntrospectionServer.start();
      key = await signingKey('k1');
      server.published = [key];
      app = await startApp(
        adapter,
        {
          imports: [
            OAuth2Module.forRoot({
              resources: [
                {
                  name: 'as',
                  type: 'generic',
                  issuer: server.issuer,
                  clientId: 'rs',
                  clientSecret: 'rs-secret',
                  introspectionResponseFormat: 'jwt',
                },
              ],
              policy: { oauthResource: 'as', extractPayload: true },
            }),
          ],
          controllers: [OrdersController],
        },
        logger,
      );
    });
    afterAll(async () => {
      await app?.close();
      await server?.close();
    });

    /** The answer of the API to a request whose introspection gets `body` (as an RFC 9701 answer). */
    async function answeredWith(body: string, contentType = 'application/token-introspection+jwt') {
      sent.push(body);
      server.reply = () => ({ status: 200, contentType, body });
      return request(app.getHttpServer()).get('/orders').set('Authorization', 'Bearer some-token');
    }

    it('accepts a valid answer, asked for with Accept: application/token-introspection+jwt', async () => {
      const response = await answeredWith(await server.sign(key));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ clientId: 'orders-client', scope: 'orders:read' });
      expect(server.accepts.at(-1)).toBe('application/token-introspection+jwt');
    });

    it('takes an inactive token from a valid answer as invalid (401), not as a server failure', async () => {
      const response = await answeredWith(await server.sign(key, { tokenIntrospection: { active: false } }));
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    });

    it.each([
      ['plain JSON (unsigned)', async () => JSON.stringify({ active: true, client_id: 'orders-client' })],
      [
        'alg none',
        async () =>
          `${base64url({ alg: 'none', typ: 'token-introspection+jwt' })}.${base64url({
            iss: server.issuer,
            aud: 'rs',
            iat: now(),
            token_introspection: { active: true, client_id: 'orders-client' },
          })}.`,
      ],
      ['signed by another key under the same kid', async () => server.sign(await signingKey('k1'))],
      ['signed by another key under an unknown kid', async () => server.sign(await signingKey('intruder'))],
      [
        "an HMAC with the client's secret",
        async () =>
          new SignJWT({ token_introspection: { active: true, client_id: 'orders-client' } })
            .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'token-introspection+jwt' })
            .setIssuer(server.issuer)
            .setAudience('rs')
            .setIssuedAt()
            .sign(new TextEncoder().encode('rs-secret-rs-secret-rs-secret-32')),
      ],
      ['another iss', async () => server.sign(key, { iss: 'https://evil.example' })],
      ['another aud', async () => server.sign(key, { aud: 'another-client' })],
      ['a stale iat (ten minutes old)', async () => server.sign(key, { iat: now() - 600 })],
      ['an iat ten minutes ahead', async () => server.sign(key, { iat: now() + 600 })],
      ['another typ', async () => server.sign(key, { typ: 'JWT' })],
      ['no token_introspection object', async () => server.sign(key, { tokenIntrospection: 'active' })],
      ['a body that is no JWS at all', async () => 'not.a.jws'],
    ])('refuses %s with OAUTH2_INVALID_SERVER_RESPONSE', async (_name, forge) => {
      const response = await answeredWith(await forge());
      expect(response.status).toBe(403);
      expect(response.body.key).toBe('OAUTH2_INVALID_SERVER_RESPONSE');
    });

    it('logs none of the answers', () => {
      const lines = logger.lines.join('\n');
      expect(lines).toContain('does not verify');
      for (const body of sent) {
        expect(lines).not.toContain(body);
      }
    });
  });

  describe('from a scripted server: key rotation', () => {
    let server: SignedIntrospectionServer;
    let app: INestApplication;

    beforeAll(async () => {
      server = await SignedIntrospectionServer.start();
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [
              {
                name: 'as',
                type: 'generic',
                issuer: server.issuer,
                clientId: 'rs',
                clientSecret: 'rs-secret',
                introspectionResponseFormat: 'jwt',
                // The discovered one is the same: the configured one wins, and is the one fetched.
                jwksUri: `${server.issuer}/jwks`,
              },
            ],
            policy: { oauthResource: 'as' },
          }),
        ],
        controllers: [OrdersController],
      });
    });
    afterAll(async () => {
      await app?.close();
      await server?.close();
    });

    it('fetches the keys once, again on an unknown kid, then not again within the minute', async () => {
      const get = () => request(app.getHttpServer()).get('/orders').set('Authorization', 'Bearer some-token');
      const first = await signingKey('k1');
      server.published = [first];
      const firstAnswer = await server.sign(first);
      server.reply = () => SignedIntrospectionServer.jwt(firstAnswer);
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      expect(server.jwksFetches).toBe(1);

      // The server rotates: it publishes k2, then signs with it.
      const second = await signingKey('k2', 'RS256');
      server.published = [first, second];
      const secondAnswer = await server.sign(second);
      server.reply = () => SignedIntrospectionServer.jwt(secondAnswer);
      expect((await get()).status).toBe(200);
      expect(server.jwksFetches).toBe(2);

      // A key it never published: refused, and no further fetch within the minute, however many requests.
      const stray = await server.sign(await signingKey('k3'));
      server.reply = () => SignedIntrospectionServer.jwt(stray);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const response = await get();
        expect(response.status).toBe(403);
        expect(response.body.key).toBe('OAUTH2_INVALID_SERVER_RESPONSE');
      }
      expect(server.jwksFetches).toBe(2);
      server.reply = () => SignedIntrospectionServer.jwt(secondAnswer);
      expect((await get()).status).toBe(200);
    });
  });
});

import { Controller, ExecutionContext, Get, INestApplication, Req, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Attribute, OAuth2Guard, OAuth2Module, OAuth2Payload, OAuth2Policy, RequiredScopes } from '../../lib';
import { genericResource, nowSeconds, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

type AnyRequest = { headers: Record<string, string | string[] | undefined> };
/** Express's request is Node's message; Fastify's wraps it in `raw`. */
type RawRequest = AnyRequest & { rawHeaders?: string[]; raw?: AnyRequest & { rawHeaders?: string[] } };

const PAYLOAD = { active: true, client_id: 'c1', sub: 'alice', username: 'alice@example.com', scope: 'read write' };

describe.each(ADAPTERS)('policy options on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let url: string;

  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.tokens.set('good', PAYLOAD);
  });

  describe('extractPayload', () => {
    @Controller('payload')
    @UseGuards(OAuth2Guard)
    class PayloadController {
      @Get('off')
      off(@OAuth2Payload() payload: unknown, @OAuth2Payload('$.client_id') clientId: unknown) {
        return { payloadIsUndefined: payload === undefined, clientIdIsUndefined: clientId === undefined };
      }

      @Get('on')
      @OAuth2Policy({ extractPayload: true })
      on(@OAuth2Payload() payload: unknown) {
        return { payload };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot({ resources: [genericResource('as', url)], policy: { oauthResource: 'as' } })],
        controllers: [PayloadController],
      });
    });
    afterAll(async () => {
      await app.close();
    });

    it('false (the default): @OAuth2Payload() is undefined', async () => {
      await request(app.getHttpServer())
        .get('/payload/off')
        .set('Authorization', 'Bearer good')
        .expect(200, { payloadIsUndefined: true, clientIdIsUndefined: true });
    });

    it('true: @OAuth2Payload() is the full payload', async () => {
      await request(app.getHttpServer())
        .get('/payload/on')
        .set('Authorization', 'Bearer good')
        .expect(200, { payload: PAYLOAD });
    });
  });

  describe('checkRequiredScopes, requiredScopes and modeStrict at module level', () => {
    @Controller('scoped')
    @UseGuards(OAuth2Guard)
    class ScopedController {
      @Get('strict')
      strict() {
        return { ok: true };
      }

      @Get('any')
      @OAuth2Policy({ modeStrict: false })
      any() {
        return { ok: true };
      }

      @Get('unchecked')
      @OAuth2Policy({ checkRequiredScopes: false })
      unchecked() {
        return { ok: true };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            policy: { oauthResource: 'as', checkRequiredScopes: true, requiredScopes: ['orders:read', 'orders:write'] },
          }),
        ],
        controllers: [ScopedController],
      });
    });
    afterAll(async () => {
      await app.close();
    });
    beforeEach(() => {
      server.tokens.set('both', { active: true, scope: 'orders:read orders:write extra' });
      server.tokens.set('read-only', { active: true, scope: 'orders:read' });
      server.tokens.set('unrelated', { active: true, scope: 'billing:read ORDERS:READ' });
      server.tokens.set('no-scope', { active: true });
    });

    async function status(path: string, token: string): Promise<number> {
      return (await request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`)).status;
    }

    it('modeStrict true (the default): every required scope is needed', async () => {
      expect(await status('/scoped/strict', 'both')).toBe(200);
      const partial = await request(app.getHttpServer()).get('/scoped/strict').set('Authorization', 'Bearer read-only');
      expect(partial.status).toBe(403);
      expect(partial.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
      expect(partial.headers['www-authenticate']).toContain('scope="orders:read orders:write"');
      expect(await status('/scoped/strict', 'unrelated')).toBe(403);
      expect(await status('/scoped/strict', 'no-scope')).toBe(403);
    });

    it('modeStrict false: any one required scope is enough (exact, case-sensitive)', async () => {
      expect(await status('/scoped/any', 'both')).toBe(200);
      expect(await status('/scoped/any', 'read-only')).toBe(200);
      expect(await status('/scoped/any', 'unrelated')).toBe(403);
      expect(await status('/scoped/any', 'no-scope')).toBe(403);
    });

    it('checkRequiredScopes false on a route: the module requiredScopes are not checked', async () => {
      expect(await status('/scoped/unchecked', 'no-scope')).toBe(200);
      expect(await status('/scoped/unchecked', 'unrelated')).toBe(200);
    });
  });

  describe('requiredScopes without checkRequiredScopes', () => {
    @Controller('lazy')
    @UseGuards(OAuth2Guard)
    class LazyController {
      @Get()
      route() {
        return { ok: true };
      }
    }

    it('are not checked (checkRequiredScopes defaults to false)', async () => {
      const app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            policy: { oauthResource: 'as', requiredScopes: ['admin'] },
          }),
        ],
        controllers: [LazyController],
      });
      try {
        server.tokens.set('no-scope', { active: true });
        await request(app.getHttpServer()).get('/lazy').set('Authorization', 'Bearer no-scope').expect(200);
      } finally {
        await app.close();
      }
    });
  });

  describe('precedence: module < controller @OAuth2Policy < handler @OAuth2Policy / @RequiredScopes', () => {
    @Controller('layers')
    @UseGuards(OAuth2Guard)
    @OAuth2Policy({ requiredScopes: ['controller:scope'], extractPayload: true })
    class LayersController {
      @Get('controller')
      controllerLevel(@OAuth2Payload('$.client_id') clientId: unknown) {
        return { clientId: clientId ?? null };
      }

      @Get('handler-policy')
      @OAuth2Policy({ requiredScopes: ['handler:scope'], extractPayload: false })
      handlerPolicy(@OAuth2Payload('$.client_id') clientId: unknown) {
        return { clientId: clientId ?? null };
      }

      @Get('handler-scopes')
      @RequiredScopes('decorated:scope')
      handlerScopes() {
        return { ok: true };
      }

      @Get('handler-off')
      @OAuth2Policy({ checkRequiredScopes: false })
      handlerOff() {
        return { ok: true };
      }
    }

    @Controller('module-only')
    @UseGuards(OAuth2Guard)
    class ModuleOnlyController {
      @Get()
      route(@OAuth2Payload('$.client_id') clientId: unknown) {
        return { clientId: clientId ?? null };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            policy: {
              oauthResource: 'as',
              checkRequiredScopes: true,
              requiredScopes: ['module:scope'],
              extractPayload: false,
            },
          }),
        ],
        controllers: [LayersController, ModuleOnlyController],
      });
    });
    afterAll(async () => {
      await app.close();
    });
    beforeEach(() => {
      for (const scope of ['module:scope', 'controller:scope', 'handler:scope', 'decorated:scope']) {
        server.tokens.set(tokenFor(scope), { active: true, client_id: `client-of-${scope}`, scope });
      }
      server.tokens.set('none', { active: true, client_id: 'client-of-none' });
    });

    /** The token that holds a scope: named after it, as a b64token (RFC 6750), which a scope's ':' is not. */
    const tokenFor = (scope: string) => scope.replace(':', '.');

    function get(path: string, scope: string) {
      return request(app.getHttpServer())
        .get(path)
        .set('Authorization', `Bearer ${tokenFor(scope)}`);
    }

    it('the module policy applies where nothing overrides it', async () => {
      await get('/module-only', 'module:scope').expect(200, { clientId: null });
      expect((await get('/module-only', 'controller:scope')).status).toBe(403);
    });

    it('the controller overrides the module', async () => {
      await get('/layers/controller', 'controller:scope').expect(200, { clientId: 'client-of-controller:scope' });
      expect((await get('/layers/controller', 'module:scope')).status).toBe(403);
    });

    it('the handler @OAuth2Policy overrides the controller', async () => {
      await get('/layers/handler-policy', 'handler:scope').expect(200, { clientId: null });
      expect((await get('/layers/handler-policy', 'controller:scope')).status).toBe(403);
      expect((await get('/layers/handler-policy', 'module:scope')).status).toBe(403);
    });

    it('the handler @RequiredScopes overrides the controller', async () => {
      await get('/layers/handler-scopes', 'decorated:scope').expect(200);
      const weak = await get('/layers/handler-scopes', 'controller:scope');
      expect(weak.status).toBe(403);
      expect(weak.headers['www-authenticate']).toContain('scope="decorated:scope"');
    });

    it('the handler can turn the check off', async () => {
      await get('/layers/handler-off', 'none').expect(200);
    });
  });

  describe('oauthResource as a function of the ExecutionContext', () => {
    const blue = new ScriptedIntrospectionServer();
    const red = new ScriptedIntrospectionServer();

    @Controller('tenant')
    @UseGuards(OAuth2Guard)
    class TenantController {
      @Get()
      route(@OAuth2Attribute('oauth.client_id') clientId: string) {
        return { clientId };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      const [blueUrl, redUrl] = await Promise.all([blue.start(), red.start()]);
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('blue-as', blueUrl), genericResource('red-as', redUrl)],
            policy: {
              oauthResource: (context: ExecutionContext) => {
                const tenant = context.switchToHttp().getRequest<AnyRequest>().headers['x-tenant'];
                return typeof tenant === 'string' ? `${tenant}-as` : undefined;
              },
            },
          }),
        ],
        controllers: [TenantController],
      });
    });
    afterAll(async () => {
      await app.close();
      await Promise.all([blue.stop(), red.stop()]);
    });
    beforeEach(() => {
      blue.reset();
      red.reset();
      blue.tokens.set('shared', { active: true, client_id: 'blue-client' });
      red.tokens.set('shared', { active: true, client_id: 'red-client' });
      blue.tokens.set('blue-only', { active: true, client_id: 'blue-client' });
    });

    it("each tenant's requests go to its own server, and only there", async () => {
      const http = app.getHttpServer();
      await request(http)
        .get('/tenant')
        .set('x-tenant', 'blue')
        .set('Authorization', 'Bearer shared')
        .expect(200, { clientId: 'blue-client' });
      await request(http)
        .get('/tenant')
        .set('x-tenant', 'red')
        .set('Authorization', 'Bearer shared')
        .expect(200, { clientId: 'red-client' });
      await request(http).get('/tenant').set('x-tenant', 'blue').set('Authorization', 'Bearer blue-only').expect(200);
      const redRejects = await request(http)
        .get('/tenant')
        .set('x-tenant', 'red')
        .set('Authorization', 'Bearer blue-only');
      expect(redRejects.status).toBe(401);
      expect(redRejects.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      expect(blue.requestsTo('/introspect').map((r) => r.form.get('token'))).toEqual(['shared', 'blue-only']);
      expect(red.requestsTo('/introspect').map((r) => r.form.get('token'))).toEqual(['shared', 'blue-only']);
    });

    it('a function that names no registered resource rejects with OAUTH2_MISSING_SERVER', async () => {
      const http = app.getHttpServer();
      for (const tenant of [undefined, 'green']) {
        const call = request(http).get('/tenant').set('Authorization', 'Bearer shared');
        const response = await (tenant ? call.set('x-tenant', tenant) : call);
        expect(response.status).toBe(401);
        expect(response.body.key).toBe('OAUTH2_MISSING_SERVER');
      }
      expect(blue.requests).toHaveLength(0);
      expect(red.requests).toHaveLength(0);
    });
  });

  describe('propagateAuthHeader', () => {
    @Controller('forward')
    @UseGuards(OAuth2Guard)
    class ForwardController {
      @Get('kept')
      kept(@Req() req: AnyRequest) {
        return { authorization: req.headers.authorization ?? null };
      }

      @Get('stripped')
      @OAuth2Policy({ propagateAuthHeader: false })
      stripped(@Req() req: RawRequest) {
        const raw = req.raw ?? req;
        return {
          authorization: req.headers.authorization ?? null,
          rawAuthorization: raw.headers.authorization ?? null,
          inRawHeaders: (req.raw?.rawHeaders ?? req.rawHeaders ?? []).some(
            (name: string) => name.toLowerCase() === 'authorization',
          ),
        };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot({ resources: [genericResource('as', url)], policy: { oauthResource: 'as' } })],
        controllers: [ForwardController],
      });
    });
    afterAll(async () => {
      await app.close();
    });

    it('true (the default): the handler sees the Authorization header', async () => {
      await request(app.getHttpServer())
        .get('/forward/kept')
        .set('Authorization', 'Bearer good')
        .expect(200, { authorization: 'Bearer good' });
    });

    it('false: the handler sees no Authorization header', async () => {
      await request(app.getHttpServer())
        .get('/forward/stripped')
        .set('Authorization', 'Bearer good')
        .expect(200, { authorization: null, rawAuthorization: null, inRawHeaders: false });
    });

    it('false: a rejected request is still rejected', async () => {
      const response = await request(app.getHttpServer())
        .get('/forward/stripped')
        .set('Authorization', 'Bearer unknown');
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    });
  });

  describe('allowAccessTokenQueryParam', () => {
    @Controller('query')
    @UseGuards(OAuth2Guard)
    class QueryController {
      @Get('off')
      off(@OAuth2Attribute('oauth.access_token') token: string) {
        return { token };
      }

      @Get('on')
      @OAuth2Policy({ allowAccessTokenQueryParam: true })
      on(@OAuth2Attribute('oauth.access_token') token: string) {
        return { token };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot({ resources: [genericResource('as', url)], policy: { oauthResource: 'as' } })],
        controllers: [QueryController],
      });
    });
    afterAll(async () => {
      await app.close();
    });

    it('off (the default): ?access_token=... alone gives 401 OAUTH2_MISSING_HEADER', async () => {
      const response = await request(app.getHttpServer()).get('/query/off?access_token=good');
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_MISSING_HEADER');
      expect(server.requests).toHaveLength(0);
    });

    it('on: ?access_token=... is accepted and introspected', async () => {
      await request(app.getHttpServer()).get('/query/on?access_token=good').expect(200, { token: 'good' });
      expect(server.requestsTo('/introspect').map((r) => r.form.get('token'))).toEqual(['good']);
    });

    it('on: a Bearer header still wins over the query parameter', async () => {
      server.tokens.set('header-token', PAYLOAD);
      await request(app.getHttpServer())
        .get('/query/on?access_token=good')
        .set('Authorization', 'Bearer header-token')
        .expect(200, { token: 'header-token' });
    });

    it('on: an unknown query token is rejected as invalid', async () => {
      const response = await request(app.getHttpServer()).get('/query/on?access_token=unknown');
      expect(response.status).toBe(401);
      expect(response.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    });
  });

  describe('clockToleranceSeconds', () => {
    @Controller('clock')
    @UseGuards(OAuth2Guard)
    class ClockController {
      @Get('tolerant')
      tolerant() {
        return { ok: true };
      }

      @Get('exact')
      @OAuth2Policy({ clockToleranceSeconds: 0 })
      exact() {
        return { ok: true };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            policy: { oauthResource: 'as', clockToleranceSeconds: 5 },
          }),
        ],
        controllers: [ClockController],
      });
    });
    afterAll(async () => {
      await app.close();
    });

    it('exp 3 s in the past passes with a tolerance of 5, fails with 0', async () => {
      server.tokens.set('stale', { active: true, exp: nowSeconds() - 3 });
      await request(app.getHttpServer()).get('/clock/tolerant').set('Authorization', 'Bearer stale').expect(200);
      const exact = await request(app.getHttpServer()).get('/clock/exact').set('Authorization', 'Bearer stale');
      expect(exact.status).toBe(401);
      expect(exact.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    });

    it('nbf 3 s in the future passes with a tolerance of 5, fails with 0', async () => {
      server.tokens.set('early', { active: true, nbf: nowSeconds() + 3 });
      await request(app.getHttpServer()).get('/clock/tolerant').set('Authorization', 'Bearer early').expect(200);
      const exact = await request(app.getHttpServer()).get('/clock/exact').set('Authorization', 'Bearer early');
      expect(exact.status).toBe(401);
      expect(exact.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
    });

    it('exp 10 s in the past fails even with a tolerance of 5', async () => {
      server.tokens.set('old', { active: true, exp: nowSeconds() - 10 });
      expect(
        (await request(app.getHttpServer()).get('/clock/tolerant').set('Authorization', 'Bearer old')).status,
      ).toBe(401);
    });
  });

  describe('attributes: oauth.client_id, user, user.roles', () => {
    @Controller('attributes')
    @UseGuards(OAuth2Guard)
    class AttributesController {
      @Get()
      attributes(
        @OAuth2Attribute('oauth.client_id') clientId: unknown,
        @OAuth2Attribute('user') user: unknown,
        @OAuth2Attribute('user.roles') roles: unknown,
      ) {
        return { clientId: clientId ?? null, user: user ?? null, roles: roles ?? null };
      }

      @Get('by-sub')
      @OAuth2Policy({ oauthResource: 'as-sub' })
      bySub(@OAuth2Attribute('user') user: unknown) {
        return { user: user ?? null };
      }
    }

    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url, { userClaim: 'username' }), genericResource('as-sub', url)],
            policy: { oauthResource: 'as' },
          }),
        ],
        controllers: [AttributesController],
      });
    });
    afterAll(async () => {
      await app.close();
    });

    async function attributes(token: string, path = '/attributes') {
      const response = await request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(200);
      return response.body;
    }

    it('client_id, the userClaim, and the scopes', async () => {
      expect(await attributes('good')).toEqual({ clientId: 'c1', user: 'alice@example.com', roles: ['read', 'write'] });
    });

    it('the default userClaim is sub', async () => {
      expect(await attributes('good', '/attributes/by-sub')).toEqual({ user: 'alice' });
    });

    it('client_id falls back to aud (a string)', async () => {
      server.tokens.set('aud-string', { active: true, aud: 'audience-1', username: 'bob', scope: ['a', 'b'] });
      expect(await attributes('aud-string')).toEqual({ clientId: 'audience-1', user: 'bob', roles: ['a', 'b'] });
    });

    it('client_id falls back to the first element of aud (an array)', async () => {
      server.tokens.set('aud-array', { active: true, aud: ['first', 'second'], scp: 'x y' });
      expect(await attributes('aud-array')).toEqual({ clientId: 'first', user: null, roles: ['x', 'y'] });
    });

    it('client_id wins over aud', async () => {
      server.tokens.set('both', { active: true, client_id: 'the-client', aud: 'the-audience' });
      expect(await attributes('both')).toEqual({ clientId: 'the-client', user: null, roles: [] });
    });
  });
});

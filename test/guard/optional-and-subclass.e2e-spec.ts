import { Controller, ExecutionContext, Get, Injectable, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  AccessToken,
  type GuardedRequest,
  type IntrospectionPayload,
  OAuth2Attribute,
  OAuth2Exception,
  OAuth2ErrorKey,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Payload,
  type OAuth2Resource,
  OptionalOAuth2,
  type OAuth2RequestState,
  type ResolvedOAuth2Policy,
  RequiredScopes,
  SkipOAuth2,
  type TokenCache,
  type TokenClaims,
} from '../../lib';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

@Controller('articles')
@UseGuards(OAuth2Guard)
@OptionalOAuth2()
class ArticlesController {
  @Get()
  list(@OAuth2Attribute('oauth.client_id') clientId: unknown, @OAuth2Payload() payload: unknown) {
    return { anonymous: clientId === undefined, clientId: clientId ?? null, hasPayload: payload !== undefined };
  }

  @Get('scoped')
  @RequiredScopes('articles:read')
  scoped(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }

  @Get('skipped')
  @SkipOAuth2()
  skipped(@AccessToken() token: unknown) {
    return { tokenIsUndefined: token === undefined };
  }
}

@Controller('required')
@UseGuards(OAuth2Guard)
class RequiredController {
  @Get()
  route() {
    return { ok: true };
  }

  @Get('optional')
  @OptionalOAuth2()
  optional(@OAuth2Attribute('oauth.client_id') clientId: unknown) {
    return { clientId: clientId ?? null };
  }
}

/**
 * A subclass of the guard, as docs/customizing-the-guard.md shows: the token from an `X-Api-Token`
 * header when there is no Bearer header, and a tenant check on the payload after the module's checks.
 */
@Injectable()
class TenantGuard extends OAuth2Guard {
  protected override extractToken(request: GuardedRequest, policy: ResolvedOAuth2Policy): string {
    const header = request.headers['x-api-token'];
    return typeof header === 'string' ? header : super.extractToken(request, policy);
  }

  protected override attachAttributes(
    state: OAuth2RequestState,
    payload: IntrospectionPayload,
    claims: TokenClaims,
    policy: ResolvedOAuth2Policy,
  ): void {
    if (payload.tenant !== 'acme') {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
    }
    super.attachAttributes(state, payload, claims, policy);
  }

  protected override shouldSkip(context: ExecutionContext): boolean {
    return context.getHandler().name === 'open' || super.shouldSkip(context);
  }
}

/** Subclasses that override how a route's policy, resource and cache are found: each is called on every call. */
@Injectable()
class AdminPolicyGuard extends OAuth2Guard {
  protected override resolvePolicy(context: ExecutionContext): ResolvedOAuth2Policy {
    return { ...super.resolvePolicy(context), requiredScopes: ['admin'], checkRequiredScopes: true };
  }
}

@Injectable()
class HeaderResourceGuard extends OAuth2Guard {
  protected override resolveResource(context: ExecutionContext, policy: ResolvedOAuth2Policy): OAuth2Resource {
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (request.headers['x-resource'] === 'none') {
      throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_SERVER);
    }
    return super.resolveResource(context, policy);
  }
}

@Injectable()
class CountingCacheGuard extends OAuth2Guard {
  static calls = 0;
  protected override resolveCache(context: ExecutionContext, policy: ResolvedOAuth2Policy): TokenCache | undefined {
    CountingCacheGuard.calls += 1;
    return super.resolveCache(context, policy);
  }
}

@Controller('steps')
class StepsController {
  @Get('admin')
  @UseGuards(AdminPolicyGuard)
  admin() {
    return { ok: true };
  }

  @Get('resource')
  @UseGuards(HeaderResourceGuard)
  resource() {
    return { ok: true };
  }

  @Get('cache')
  @UseGuards(CountingCacheGuard)
  cache() {
    return { ok: true };
  }
}

@Controller('tenant')
@UseGuards(TenantGuard)
class TenantController {
  @Get()
  route(@OAuth2Attribute('oauth.client_id') clientId: unknown, @AccessToken() token: unknown) {
    return { clientId, token };
  }

  @Get('open')
  open() {
    return { open: true };
  }
}

describe.each(ADAPTERS)('@OptionalOAuth2 and a subclass of the guard on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url)],
          policy: { oauthResource: 'as', extractPayload: true },
        }),
      ],
      controllers: [ArticlesController, RequiredController, TenantController, StepsController],
      providers: [TenantGuard, AdminPolicyGuard, HeaderResourceGuard, CountingCacheGuard],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.tokens.set('good', { active: true, client_id: 'c1', scope: 'articles:read', tenant: 'acme' });
    server.tokens.set('unscoped', { active: true, client_id: 'c2', tenant: 'acme' });
    server.tokens.set('other-tenant', { active: true, client_id: 'c3', tenant: 'globex' });
    server.tokens.set('expired', { active: true, client_id: 'c4', exp: Math.floor(Date.now() / 1000) - 600 });
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    request(app.getHttpServer()).get(path).set(headers);

  describe('@OptionalOAuth2()', () => {
    it('runs the handler anonymously, with no attributes, when the call has no token at all', async () => {
      const response = await get('/articles');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ anonymous: true, clientId: null, hasPayload: false });
      expect(server.requests).toHaveLength(0);
    });

    it('treats an Authorization header of another scheme as no token', async () => {
      const response = await get('/articles', { Authorization: 'Basic YTpi' });
      expect(response.status).toBe(200);
      expect(response.body.anonymous).toBe(true);
    });

    it('checks a token presented in full: a valid one gives the attributes', async () => {
      const response = await get('/articles', { Authorization: 'Bearer good' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ anonymous: false, clientId: 'c1', hasPayload: true });
      expect(server.requests).toHaveLength(1);
    });

    it.each([
      ['an inactive token', 'Bearer unknown', 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ['an expired token', 'Bearer expired', 'OAUTH2_INVALID_ACCESS_TOKEN'],
      ['a Bearer header without a token', 'Bearer', 'OAUTH2_MISSING_ACCESS_TOKEN'],
      ['a malformed token', 'Bearer a,b', 'OAUTH2_INVALID_ACCESS_TOKEN'],
    ])('rejects %s rather than running anonymously', async (_name, authorization, key) => {
      const response = await get('/articles', { Authorization: authorization });
      expect(response.status).toBe(401);
      expect(response.body.key).toBe(key);
    });

    it('keeps the route scopes for a token presented, and lets a call without a token through', async () => {
      expect((await get('/articles/scoped', { Authorization: 'Bearer good' })).body).toEqual({ clientId: 'c1' });
      const unscoped = await get('/articles/scoped', { Authorization: 'Bearer unscoped' });
      expect(unscoped.status).toBe(403);
      expect(unscoped.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
      expect((await get('/articles/scoped')).body).toEqual({ clientId: null });
    });

    it('on one handler only: the other routes still require a token; @SkipOAuth2 still wins', async () => {
      expect((await get('/required')).body.key).toBe('OAUTH2_MISSING_HEADER');
      expect((await get('/required/optional')).body).toEqual({ clientId: null });
      expect((await get('/articles/skipped', { Authorization: 'Bearer unknown' })).body).toEqual({
        tokenIsUndefined: true,
      });
    });
  });

  describe('a subclass of OAuth2Guard', () => {
    it('reads the token where its extractToken() says, and adds its own check', async () => {
      const response = await get('/tenant', { 'X-Api-Token': 'good' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ clientId: 'c1', token: 'good' });
      const otherTenant = await get('/tenant', { 'X-Api-Token': 'other-tenant' });
      expect(otherTenant.status).toBe(403);
      expect(otherTenant.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
    });

    it('keeps the module checks: the Bearer header, the token syntax, the answer', async () => {
      expect((await get('/tenant', { Authorization: 'Bearer good' })).status).toBe(200);
      expect((await get('/tenant', { 'X-Api-Token': 'a b' })).body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      expect((await get('/tenant', { 'X-Api-Token': 'unknown' })).body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      expect((await get('/tenant')).body.key).toBe('OAUTH2_MISSING_HEADER');
    });

    it('skips what its shouldSkip() says', async () => {
      expect((await get('/tenant/open')).body).toEqual({ open: true });
      expect(server.requests).toHaveLength(0);
    });

    it('applies what its resolvePolicy(), resolveResource() and resolveCache() say, on every call', async () => {
      for (let round = 0; round < 2; round += 1) {
        const admin = await get('/steps/admin', { Authorization: 'Bearer good' });
        expect(admin.status).toBe(403);
        expect(admin.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
        expect((await get('/steps/resource', { Authorization: 'Bearer good' })).status).toBe(200);
        const none = await get('/steps/resource', { Authorization: 'Bearer good', 'X-Resource': 'none' });
        expect(none.body.key).toBe('OAUTH2_MISSING_SERVER');
      }
      const before = CountingCacheGuard.calls;
      for (let round = 0; round < 3; round += 1) {
        expect((await get('/steps/cache', { Authorization: 'Bearer good' })).status).toBe(200);
      }
      expect(CountingCacheGuard.calls - before).toBe(3);
    });
  });
});

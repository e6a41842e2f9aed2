import {
  CallHandler,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  INestApplication,
  NestInterceptor,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { map, Observable } from 'rxjs';
import request from 'supertest';
import {
  AccessToken,
  getOAuth2Attributes,
  OAuth2Attribute,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Payload,
  RequiredScopes,
  SkipOAuth2,
} from '../../lib';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/** Adds what `getOAuth2Attributes(request)` gives, seen from an interceptor (after the guard). */
@Injectable()
class AttributesInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const attributes = getOAuth2Attributes(context.switchToHttp().getRequest<object>());
    return next.handle().pipe(map((body: unknown) => ({ body, fromInterceptor: { ...attributes } })));
  }
}

@Controller('scopes')
@UseGuards(OAuth2Guard)
@RequiredScopes('orders:read')
class ScopesController {
  @Get('class')
  classLevel() {
    return { ok: true };
  }

  @Get('method')
  @RequiredScopes('orders:write', 'orders:admin')
  methodLevel() {
    return { ok: true };
  }
}

@Controller('method-only')
@UseGuards(OAuth2Guard)
class MethodOnlyController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @Get('scoped')
  @RequiredScopes('reports:read')
  scoped() {
    return { ok: true };
  }
}

@Controller('values')
@UseGuards(OAuth2Guard)
class ValuesController {
  @Get('username')
  username(@OAuth2Payload('$.username') username: unknown) {
    return { username };
  }

  @Get('nested')
  nested(@OAuth2Payload('$.ext.tenant') tenant: unknown, @OAuth2Payload('$.ext.groups[1]') secondGroup: unknown) {
    return { tenant, secondGroup };
  }

  @Get('nothing')
  nothing(@OAuth2Payload('$.ext.missing') missing: unknown, @OAuth2Payload('$.nope.deeper') deeper: unknown) {
    return { missingIsUndefined: missing === undefined, deeperIsUndefined: deeper === undefined };
  }

  @Get('token')
  token(@AccessToken() token: unknown, @OAuth2Attribute('oauth.access_token') attribute: unknown) {
    return { token, attribute };
  }

  @Get('handler-helper')
  handlerHelper(@Req() req: object) {
    const attributes = getOAuth2Attributes(req);
    return { clientId: attributes['oauth.client_id'], user: attributes.user, roles: attributes['user.roles'] };
  }

  @Get('skipped')
  @SkipOAuth2()
  skipped(@AccessToken() token: unknown, @OAuth2Payload() payload: unknown, @Req() req: object) {
    return {
      tokenIsUndefined: token === undefined,
      payloadIsUndefined: payload === undefined,
      attributes: getOAuth2Attributes(req),
    };
  }
}

@Controller('intercepted')
@UseGuards(OAuth2Guard)
@UseInterceptors(AttributesInterceptor)
class InterceptedController {
  @Get()
  route() {
    return { handled: true };
  }

  @Get('skipped')
  @SkipOAuth2()
  skipped() {
    return { handled: true };
  }
}

@Controller('public')
@UseGuards(OAuth2Guard)
@SkipOAuth2()
class PublicController {
  @Get()
  route(@AccessToken() token: unknown) {
    return { tokenIsUndefined: token === undefined };
  }
}

const PAYLOAD = {
  active: true,
  client_id: 'c1',
  sub: 'alice',
  username: 'alice@example.com',
  scope: 'orders:read orders:write',
  ext: { tenant: 'acme', groups: ['admins', 'ops'] },
};

describe.each(ADAPTERS)('decorators on %s', (adapter) => {
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
      controllers: [ScopesController, MethodOnlyController, ValuesController, InterceptedController, PublicController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.tokens.set('good', PAYLOAD);
    server.tokens.set('read', { active: true, scope: 'orders:read' });
    server.tokens.set('write-admin', { active: true, scope: 'orders:write orders:admin' });
    server.tokens.set('reports', { active: true, scope: ['reports:read'] });
  });

  function get(path: string, token?: string) {
    const call = request(app.getHttpServer()).get(path);
    return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
  }

  describe('@RequiredScopes', () => {
    it('on the class: applies to every route of the controller', async () => {
      await get('/scopes/class', 'read').expect(200);
      const response = await get('/scopes/class', 'write-admin');
      expect(response.status).toBe(403);
      expect(response.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
      expect(response.headers['www-authenticate']).toContain('scope="orders:read"');
    });

    it('on the method: replaces the class scopes for that route (every one needed)', async () => {
      await get('/scopes/method', 'write-admin').expect(200);
      expect((await get('/scopes/method', 'read')).status).toBe(403);
      // PAYLOAD holds orders:write but not orders:admin.
      const partial = await get('/scopes/method', 'good');
      expect(partial.status).toBe(403);
      expect(partial.headers['www-authenticate']).toContain('scope="orders:write orders:admin"');
    });

    it('on one method only: the other routes check no scope', async () => {
      await get('/method-only/open', 'read').expect(200);
      await get('/method-only/scoped', 'reports').expect(200);
      expect((await get('/method-only/scoped', 'read')).status).toBe(403);
    });
  });

  describe('@OAuth2Payload(jsonPath)', () => {
    it("'$.username' gives one value", async () => {
      await get('/values/username', 'good').expect(200, { username: 'alice@example.com' });
    });

    it('a nested JsonPath ($.ext.tenant, $.ext.groups[1])', async () => {
      await get('/values/nested', 'good').expect(200, { tenant: 'acme', secondGroup: 'ops' });
    });

    it('a JsonPath matching nothing gives undefined', async () => {
      await get('/values/nothing', 'good').expect(200, { missingIsUndefined: true, deeperIsUndefined: true });
    });
  });

  describe('@AccessToken()', () => {
    it('returns the token the guard took from the request', async () => {
      await get('/values/token', 'good').expect(200, { token: 'good', attribute: 'good' });
    });

    it('returns the token with surrounding whitespace and the scheme removed', async () => {
      await request(app.getHttpServer())
        .get('/values/token')
        .set('Authorization', 'bearer \t good')
        .expect(200, { token: 'good', attribute: 'good' });
    });
  });

  describe('@SkipOAuth2()', () => {
    it('on a method: no introspection, no attributes, even with a bad token', async () => {
      await get('/values/skipped', 'unknown').expect(200, {
        tokenIsUndefined: true,
        payloadIsUndefined: true,
        attributes: {},
      });
      await get('/values/skipped').expect(200, { tokenIsUndefined: true, payloadIsUndefined: true, attributes: {} });
      expect(server.requests).toHaveLength(0);
    });

    it('on a class with @UseGuards: every route is let through', async () => {
      await get('/public').expect(200, { tokenIsUndefined: true });
      await get('/public', 'unknown').expect(200, { tokenIsUndefined: true });
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('getOAuth2Attributes(req)', () => {
    it('in a handler', async () => {
      await get('/values/handler-helper', 'good').expect(200, {
        clientId: 'c1',
        user: 'alice',
        roles: ['orders:read', 'orders:write'],
      });
    });

    it('in an interceptor', async () => {
      await get('/intercepted', 'good').expect(200, {
        body: { handled: true },
        fromInterceptor: {
          'oauth.access_token': 'good',
          'oauth.client_id': 'c1',
          user: 'alice',
          'user.roles': ['orders:read', 'orders:write'],
          'oauth.payload': PAYLOAD,
        },
      });
    });

    it('in an interceptor, for a skipped route: empty', async () => {
      await get('/intercepted/skipped', 'good').expect(200, { body: { handled: true }, fromInterceptor: {} });
    });

    it('a rejected request never reaches the interceptor', async () => {
      const response = await get('/intercepted', 'unknown');
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Access token can not be validated by authorization server',
        key: 'OAUTH2_INVALID_ACCESS_TOKEN',
      });
    });
  });
});

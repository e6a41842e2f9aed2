import { jest } from '@jest/globals';
import {
  Controller,
  DynamicModule,
  Get,
  Inject,
  Injectable,
  INestApplication,
  Module,
  Req,
  UseGuards,
} from '@nestjs/common';
import request from 'supertest';
import { getOAuth2Attributes, OAuth2Guard, OAuth2Module, type OAuth2ModuleOptions, SkipOAuth2 } from '../../lib';
import { AppTracker, genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

type AnyRequest = { headers: Record<string, string | string[] | undefined> };

/** What a handler saw: the guard's attributes and the Authorization header. */
function seen(req: AnyRequest) {
  return { attributes: getOAuth2Attributes(req), authorization: req.headers.authorization ?? null };
}

@Controller('open')
class OpenController {
  @Get()
  open(@Req() req: AnyRequest) {
    return seen(req);
  }

  @Get('public')
  @SkipOAuth2()
  publicRoute(@Req() req: AnyRequest) {
    return seen(req);
  }
}

@Controller('health')
@SkipOAuth2()
class HealthController {
  @Get()
  health(@Req() req: AnyRequest) {
    return seen(req);
  }
}

@Controller('feature')
@UseGuards(OAuth2Guard)
class FeatureController {
  @Get()
  feature(@Req() req: AnyRequest) {
    return seen(req);
  }
}

/** A feature module that does not import OAuth2Module: it relies on the root's import. */
@Module({ controllers: [FeatureController] })
class FeatureModule {}

@Controller('unguarded')
class UnguardedController {
  @Get()
  unguarded(@Req() req: AnyRequest) {
    return seen(req);
  }
}

/** A small configuration provider, as an application's config module would give. */
@Injectable()
class AuthConfig {
  constructor(@Inject('AS_URL') readonly asUrl: string) {}
}

@Module({})
class AuthConfigModule {
  static register(asUrl: string): DynamicModule {
    return {
      module: AuthConfigModule,
      providers: [{ provide: 'AS_URL', useValue: asUrl }, AuthConfig],
      exports: [AuthConfig],
    };
  }
}

/** A class whose `createOAuth2Options()` gives the options (`forRootAsync({ useClass })`). */
@Injectable()
class OAuth2OptionsFromConfig {
  constructor(private readonly config: AuthConfig) {}

  createOAuth2Options(): OAuth2ModuleOptions {
    return { resources: [genericResource('as', this.config.asUrl)], policy: { oauthResource: 'as' } };
  }
}

describe.each(ADAPTERS)('OAuth2Module binding on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  const apps = new AppTracker();
  let url: string;

  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.tokens.set('good', { active: true, client_id: 'c1', sub: 'alice', scope: 'read' });
  });
  afterEach(async () => {
    await apps.closeAll();
  });

  const options = (): OAuth2ModuleOptions => ({
    resources: [genericResource('as', url)],
    policy: { oauthResource: 'as' },
  });

  describe('forRoot({ global: true })', () => {
    let app: INestApplication;
    beforeEach(async () => {
      app = apps.add(
        await startApp(adapter, {
          imports: [OAuth2Module.forRoot({ ...options(), global: true }), FeatureModule],
          controllers: [OpenController, HealthController],
        }),
      );
    });

    it('guards every route without @UseGuards', async () => {
      for (const path of ['/open', '/feature']) {
        const missing = await request(app.getHttpServer()).get(path);
        expect(missing.status).toBe(401);
        expect(missing.body.key).toBe('OAUTH2_MISSING_HEADER');
        const rejected = await request(app.getHttpServer()).get(path).set('Authorization', 'Bearer unknown');
        expect(rejected.status).toBe(401);
        expect(rejected.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
        const allowed = await request(app.getHttpServer()).get(path).set('Authorization', 'Bearer good');
        expect(allowed.status).toBe(200);
        expect(allowed.body.attributes).toMatchObject({
          'oauth.access_token': 'good',
          'oauth.client_id': 'c1',
          user: 'alice',
        });
      }
      // /feature is bound both globally and by @UseGuards: still one introspection per request.
      expect(server.requestsTo('/introspect')).toHaveLength(4);
    });

    it('@SkipOAuth2() on a handler lets requests through untouched', async () => {
      await request(app.getHttpServer()).get('/open/public').expect(200, { attributes: {}, authorization: null });
      await request(app.getHttpServer())
        .get('/open/public')
        .set('Authorization', 'Bearer unknown')
        .expect(200, { attributes: {}, authorization: 'Bearer unknown' });
      expect(server.requests).toHaveLength(0);
    });

    it('@SkipOAuth2() on a controller lets requests through untouched', async () => {
      await request(app.getHttpServer()).get('/health').expect(200, { attributes: {}, authorization: null });
      await request(app.getHttpServer())
        .get('/health')
        .set('Authorization', 'Bearer')
        .expect(200, { attributes: {}, authorization: 'Bearer' });
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('forRoot() with global: false (the default)', () => {
    it('guards a controller of another feature module with @UseGuards(OAuth2Guard), and only it', async () => {
      const app = apps.add(
        await startApp(adapter, {
          imports: [OAuth2Module.forRoot(options()), FeatureModule],
          controllers: [UnguardedController],
        }),
      );
      const missing = await request(app.getHttpServer()).get('/feature');
      expect(missing.status).toBe(401);
      expect(missing.body.key).toBe('OAUTH2_MISSING_HEADER');
      const allowed = await request(app.getHttpServer()).get('/feature').set('Authorization', 'Bearer good');
      expect(allowed.status).toBe(200);
      expect(allowed.body.attributes).toMatchObject({ 'oauth.access_token': 'good', 'oauth.client_id': 'c1' });
      await request(app.getHttpServer())
        .get('/unguarded')
        .set('Authorization', 'Bearer unknown')
        .expect(200, { attributes: {}, authorization: 'Bearer unknown' });
      expect(server.requestsTo('/introspect')).toHaveLength(1);
    });
  });

  describe('guard bound globally and with @UseGuards on the controller', () => {
    it('introspects exactly once per request', async () => {
      const app = apps.add(
        await startApp(adapter, {
          imports: [OAuth2Module.forRoot({ ...options(), global: true }), FeatureModule],
        }),
      );
      const canActivate = jest.spyOn(OAuth2Guard.prototype, 'canActivate');
      try {
        for (let index = 1; index <= 3; index += 1) {
          await request(app.getHttpServer()).get('/feature').set('Authorization', 'Bearer good').expect(200);
          expect(server.requestsTo('/introspect')).toHaveLength(index);
        }
        // Both bindings did run: the guard ran twice per allowed request, the server was asked once.
        expect(canActivate).toHaveBeenCalledTimes(6);
        await request(app.getHttpServer()).get('/feature').set('Authorization', 'Bearer unknown').expect(401);
        expect(server.requestsTo('/introspect')).toHaveLength(4);
      } finally {
        canActivate.mockRestore();
      }
    });
  });

  describe('forRootAsync()', () => {
    it('useFactory + inject from an imported config module, global: true beside useFactory', async () => {
      const app = apps.add(
        await startApp(adapter, {
          imports: [
            OAuth2Module.forRootAsync({
              global: true,
              imports: [AuthConfigModule.register(url)],
              inject: [AuthConfig],
              useFactory: (config: AuthConfig): OAuth2ModuleOptions => ({
                resources: [genericResource('as', config.asUrl)],
                policy: { oauthResource: 'as', extractPayload: true },
              }),
            }),
          ],
          controllers: [OpenController, HealthController],
        }),
      );
      const missing = await request(app.getHttpServer()).get('/open');
      expect(missing.status).toBe(401);
      expect(missing.body.key).toBe('OAUTH2_MISSING_HEADER');
      const allowed = await request(app.getHttpServer()).get('/open').set('Authorization', 'Bearer good');
      expect(allowed.status).toBe(200);
      expect(allowed.body.attributes['oauth.payload']).toEqual({
        active: true,
        client_id: 'c1',
        sub: 'alice',
        scope: 'read',
      });
      await request(app.getHttpServer()).get('/health').expect(200);
      expect(server.requestsTo('/introspect')).toHaveLength(1);
      expect(server.requestsTo('/introspect')[0].form.get('token')).toBe('good');
    });

    it('useFactory without global leaves unguarded routes alone', async () => {
      const app = apps.add(
        await startApp(adapter, {
          imports: [
            OAuth2Module.forRootAsync({
              imports: [AuthConfigModule.register(url)],
              inject: [AuthConfig],
              useFactory: async (config: AuthConfig): Promise<OAuth2ModuleOptions> => ({
                resources: [genericResource('as', config.asUrl)],
                policy: { oauthResource: 'as' },
              }),
            }),
            FeatureModule,
          ],
          controllers: [UnguardedController],
        }),
      );
      await request(app.getHttpServer()).get('/unguarded').expect(200);
      await request(app.getHttpServer()).get('/feature').expect(401);
      await request(app.getHttpServer()).get('/feature').set('Authorization', 'Bearer good').expect(200);
      expect(server.requestsTo('/introspect')).toHaveLength(1);
    });

    it('useClass: a class implementing createOAuth2Options()', async () => {
      const app = apps.add(
        await startApp(adapter, {
          imports: [
            OAuth2Module.forRootAsync({
              imports: [AuthConfigModule.register(url)],
              useClass: OAuth2OptionsFromConfig,
            }),
            FeatureModule,
          ],
        }),
      );
      const rejected = await request(app.getHttpServer()).get('/feature').set('Authorization', 'Bearer unknown');
      expect(rejected.status).toBe(401);
      expect(rejected.body.key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
      const allowed = await request(app.getHttpServer()).get('/feature').set('Authorization', 'Bearer good');
      expect(allowed.status).toBe(200);
      expect(allowed.body.attributes).toMatchObject({ 'oauth.client_id': 'c1', user: 'alice', 'user.roles': ['read'] });
      expect(server.requestsTo('/introspect')).toHaveLength(2);
    });
  });
});

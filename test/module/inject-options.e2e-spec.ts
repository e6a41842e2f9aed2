import { Controller, Get, Injectable, type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  InjectOAuth2Options,
  OAUTH2_MODULE_OPTIONS,
  OAuth2Module,
  type OAuth2ModuleOptions,
  type ResolvedOAuth2ModuleOptions,
} from '../../lib';
import { ADAPTERS, startApp } from '../support/http-adapters';

/** Nothing is ever sent there: no route of these applications is guarded. */
const options: OAuth2ModuleOptions = {
  resources: [{ name: 'as', type: 'generic', introspectionEndpoint: 'http://127.0.0.1:9/introspect' }],
  caches: [{ name: 'local' }],
  policy: { oauthResource: 'as', oauthCacheResource: 'local' },
};

/** A user's provider that reads the module's options. */
@Injectable()
class OAuth2Settings {
  constructor(@InjectOAuth2Options() readonly options: ResolvedOAuth2ModuleOptions) {}

  summary() {
    const { realm, errorProfile, policy, caches } = this.options;
    return {
      realm,
      errorProfile,
      clockToleranceSeconds: policy.clockToleranceSeconds,
      modeStrict: policy.modeStrict,
      caches: caches.map((cache) => ({ name: cache.name, type: cache.type, ttl: cache.timeToLiveSeconds })),
    };
  }
}

@Controller('settings')
class SettingsController {
  constructor(private readonly settings: OAuth2Settings) {}

  @Get()
  get() {
    return this.settings.summary();
  }
}

/** The options as validated, with the defaults of what `options` leaves out. */
const RESOLVED_SUMMARY = {
  realm: 'api',
  errorProfile: 'documented',
  clockToleranceSeconds: 5,
  modeStrict: true,
  caches: [{ name: 'local', type: 'memory', ttl: 300 }],
};

describe('@InjectOAuth2Options()', () => {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let app: INestApplication | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('gives a provider the validated options, defaults applied (forRoot)', async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot(options)],
        controllers: [SettingsController],
        providers: [OAuth2Settings],
      });
      const response = await request(app.getHttpServer()).get('/settings').expect(200);
      expect(response.body).toEqual(RESOLVED_SUMMARY);
    });

    it('gives a provider the validated options of forRootAsync’s factory', async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRootAsync({ useFactory: async () => ({ ...options, realm: 'orders' }) })],
        controllers: [SettingsController],
        providers: [OAuth2Settings],
      });
      const response = await request(app.getHttpServer()).get('/settings').expect(200);
      expect(response.body).toEqual({ ...RESOLVED_SUMMARY, realm: 'orders' });
    });
  });

  it('injects what the module itself reads: the options that replace OAUTH2_MODULE_OPTIONS, validated', async () => {
    @Module({ imports: [OAuth2Module.forRoot(options)], providers: [OAuth2Settings] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(OAUTH2_MODULE_OPTIONS)
      .useValue({ ...options, realm: 'overridden', policy: { ...options.policy, modeStrict: false } })
      .compile();
    try {
      const settings = moduleRef.get(OAuth2Settings);
      expect(settings.summary()).toEqual({ ...RESOLVED_SUMMARY, realm: 'overridden', modeStrict: false });
      expect(Object.isFrozen(settings.options.policy)).toBe(true);
    } finally {
      await moduleRef.close();
    }
  });
});

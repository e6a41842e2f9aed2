import { Controller, Get, UseGuards } from '@nestjs/common';
import {
  OAuth2ConfigurationError,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Payload,
  OAuth2Policy,
  type OAuth2ModuleOptions,
  RequiredScopes,
} from '../../lib';
import { genericResource, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS } from '../support/http-adapters';

const AS_URL = 'http://127.0.0.1:9';

/** A bad configuration, and what the start-up error must say. */
interface BadOptionsCase {
  title: string;
  options: unknown;
  field: string;
  mentions: Array<string | RegExp>;
}

const BAD_OPTIONS: BadOptionsCase[] = [
  {
    title: 'an unknown module option',
    options: { resources: [genericResource('as', AS_URL)], polcy: { oauthResource: 'as' } },
    field: 'polcy',
    mentions: ['is not an option of OAuth2Module', 'policy'],
  },
  {
    title: 'an unknown policy option',
    options: { resources: [genericResource('as', AS_URL)], policy: { oauthResource: 'as', extractPayLoad: true } },
    field: 'policy.extractPayLoad',
    mentions: ['is not a policy option', 'extractPayload'],
  },
  {
    title: 'an unknown resource option',
    options: { resources: [{ ...genericResource('as', AS_URL), clientSecrt: 'x' }], policy: { oauthResource: 'as' } },
    field: 'resources[0].clientSecrt',
    mentions: ["is not an option of a 'generic' resource", 'clientSecret'],
  },
  {
    title: 'a wrong type (a string for a boolean)',
    options: { resources: [genericResource('as', AS_URL)], policy: { oauthResource: 'as', extractPayload: 'yes' } },
    field: 'policy.extractPayload',
    mentions: ['boolean'],
  },
  {
    title: 'a wrong type (a number for a string)',
    options: { resources: [{ ...genericResource('as', AS_URL), userClaim: 42 }], policy: { oauthResource: 'as' } },
    field: 'resources[0].userClaim',
    mentions: ['string'],
  },
  {
    title: 'a missing introspectionEndpoint',
    options: {
      resources: [{ name: 'as', type: 'generic', clientId: 'api', clientSecret: 's' }],
      policy: { oauthResource: 'as' },
    },
    field: 'resources[0].introspectionEndpoint',
    mentions: ['is required'],
  },
  {
    title: 'no resources at all',
    options: { policy: {} },
    field: 'resources',
    mentions: ['is required'],
  },
  {
    title: 'duplicate resource names',
    options: {
      resources: [genericResource('as', AS_URL), genericResource('other', AS_URL), genericResource('as', AS_URL)],
      policy: { oauthResource: 'as' },
    },
    field: 'resources[2].name',
    mentions: ["'as' is already the name of resources[0]"],
  },
  {
    title: 'duplicate cache names',
    options: {
      resources: [genericResource('as', AS_URL)],
      caches: [{ name: 'local' }, { name: 'local', timeToLiveSeconds: 10 }],
      policy: { oauthResource: 'as' },
    },
    field: 'caches[1].name',
    mentions: ["'local' is already the name of caches[0]"],
  },
  {
    title: "a policy oauthResource 'nope' (the message lists the registered names)",
    options: {
      resources: [genericResource('as', AS_URL), genericResource('partners', AS_URL)],
      policy: { oauthResource: 'nope' },
    },
    field: 'policy.oauthResource',
    mentions: ["'nope'", "registered resources: 'as', 'partners'"],
  },
  {
    title: 'an oauthCacheResource that names no cache',
    options: {
      resources: [genericResource('as', AS_URL)],
      caches: [{ name: 'local' }],
      policy: { oauthResource: 'as', oauthCacheResource: 'redis' },
    },
    field: 'policy.oauthCacheResource',
    mentions: ["'redis'", "registered caches: 'local'"],
  },
  {
    title: 'an oauthCacheResource when no cache is registered',
    options: {
      resources: [genericResource('as', AS_URL)],
      policy: { oauthResource: 'as', oauthCacheResource: 'local' },
    },
    field: 'policy.oauthCacheResource',
    mentions: ["'local'", 'registered caches: none'],
  },
];

function expectConfigurationError(error: Error, field: string, mentions: Array<string | RegExp>): void {
  expect(error).toBeInstanceOf(OAuth2ConfigurationError);
  expect((error as OAuth2ConfigurationError).field).toBe(field);
  expect(error.message).toContain(field);
  for (const mention of mentions) {
    expect(error.message).toMatch(mention);
  }
}

@Controller('orders')
@UseGuards(OAuth2Guard)
class TypoPolicyController {
  @Get()
  list() {
    return {};
  }

  @Get('partners')
  @OAuth2Policy({ oauthResource: 'typo' })
  partners() {
    return {};
  }
}

@Controller('billing')
@OAuth2Policy({ oauthCacheResource: 'nocache' })
class TypoCacheController {
  @Get()
  list() {
    return {};
  }
}

describe.each(ADAPTERS)('OAuth2Module start-up failures on %s', (adapter) => {
  describe.each(BAD_OPTIONS)('$title', ({ options, field, mentions }) => {
    it('forRoot() fails the start, naming the field', async () => {
      const error = await startupError(adapter, {
        imports: [OAuth2Module.forRoot(options as OAuth2ModuleOptions)],
      });
      expectConfigurationError(error, field, mentions);
    });

    it("forRootAsync()'s factory fails the start the same way", async () => {
      const error = await startupError(adapter, {
        imports: [OAuth2Module.forRootAsync({ useFactory: async () => options as OAuth2ModuleOptions })],
      });
      expectConfigurationError(error, field, mentions);
    });

    it('forRootAsync() with global: true fails the start the same way', async () => {
      const error = await startupError(adapter, {
        imports: [OAuth2Module.forRootAsync({ global: true, useFactory: () => options as OAuth2ModuleOptions })],
      });
      expectConfigurationError(error, field, mentions);
    });
  });

  it('reports every problem of one configuration at once', async () => {
    const error = await startupError(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [{ name: 'as', type: 'generic' }],
          policy: { extractPayload: 'yes' },
          bogus: true,
        } as unknown as OAuth2ModuleOptions),
      ],
    });
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    expect(error.message).toContain('bogus');
    expect(error.message).toContain('resources[0].introspectionEndpoint');
    expect(error.message).toContain('policy.extractPayload');
  });

  it("@OAuth2Policy({ oauthResource: 'typo' }) on a controller method fails at init, naming controller.method", async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot({ resources: [genericResource('as', AS_URL)], policy: { oauthResource: 'as' } })],
      controllers: [TypoPolicyController],
    });
    expectConfigurationError(error, '@OAuth2Policy() of TypoPolicyController.partners.oauthResource', [
      "'typo'",
      "registered resources: 'as'",
    ]);
  });

  it('@OAuth2Policy() naming no cache on a controller fails at init, naming the controller', async () => {
    const error = await startupError(adapter, {
      imports: [
        OAuth2Module.forRootAsync({
          useFactory: () => ({
            resources: [genericResource('as', AS_URL)],
            caches: [{ name: 'local' }],
            policy: { oauthResource: 'as' },
          }),
        }),
      ],
      controllers: [TypoCacheController],
    });
    expectConfigurationError(error, '@OAuth2Policy() of TypoCacheController.oauthCacheResource', [
      "'nocache'",
      "registered caches: 'local'",
    ]);
  });

  describe('bad decorator arguments throw when the class is defined', () => {
    it("@RequiredScopes('a b') (a space inside one scope)", () => {
      const define = () => {
        @Controller()
        class Scopes {
          @Get()
          @RequiredScopes('a b')
          route() {
            return {};
          }
        }
        return Scopes;
      };
      expect(define).toThrow(OAuth2ConfigurationError);
      expect(define).toThrow(/@RequiredScopes\(\)\.requiredScopes\[0\]/);
    });

    it('@RequiredScopes with a bad scope on a class', () => {
      const define = () => {
        @Controller()
        @RequiredScopes('ok', 'quote"d')
        class Scopes {}
        return Scopes;
      };
      expect(define).toThrow(/requiredScopes\[1\]/);
    });

    it("@OAuth2Payload('not-a-path')", () => {
      const define = () => {
        @Controller()
        class Payload {
          @Get()
          route(@OAuth2Payload('not-a-path') value: unknown) {
            return { value };
          }
        }
        return Payload;
      };
      expect(define).toThrow(OAuth2ConfigurationError);
      expect(define).toThrow(/@OAuth2Payload\(\).*JsonPath/);
    });

    it("@OAuth2Payload with a script expression ('$..[?(@.x)]')", () => {
      const define = () => {
        @Controller()
        class Payload {
          @Get()
          route(@OAuth2Payload('$..[?(@.x)]') value: unknown) {
            return { value };
          }
        }
        return Payload;
      };
      expect(define).toThrow(OAuth2ConfigurationError);
    });

    it('@OAuth2Policy() with a wrong type', () => {
      const define = () => {
        @Controller()
        @OAuth2Policy({ modeStrict: 'no' as unknown as boolean })
        class Policy {}
        return Policy;
      };
      expect(define).toThrow(/@OAuth2Policy\(\)\.modeStrict/);
    });
  });
});

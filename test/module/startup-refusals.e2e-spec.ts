import { Controller, Get } from '@nestjs/common';
import {
  OAuth2ConfigurationError,
  OAuth2Module,
  OAuth2Policy,
  type OAuth2ModuleOptions,
  RequiredScopes,
} from '../../lib';
import { genericResource, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS } from '../support/http-adapters';

const AS_URL = 'http://127.0.0.1:9';

/** Configurations that started before issue 12 (point 3 and 8) and then failed at request time. */
const REFUSED: Array<{ title: string; options: OAuth2ModuleOptions; field: string; mentions: RegExp[] }> = [
  {
    title: 'a template with an object body and Content-Type text/plain',
    options: {
      resources: [genericResource('as', AS_URL)],
      policy: { oauthResource: 'as' },
      responseTemplates: {
        OAUTH2_MISSING_HEADER: {
          'text/plain': { status: 401, headers: { 'Content-Type': 'text/plain' }, body: { error: 'no token' } },
        },
      },
    },
    field: "responseTemplates.OAUTH2_MISSING_HEADER['text/plain'].body",
    mentions: [/give a string body, or a JSON content type/],
  },
  {
    title: 'an async policy.oauthResource',
    options: { resources: [genericResource('as', AS_URL)], policy: { oauthResource: (async () => 'as') as never } },
    field: 'policy.oauthResource',
    mentions: [/async function/, /must be synchronous and return a name/],
  },
];

describe.each(ADAPTERS)('start-up refusals of issue 12 on %s', (adapter) => {
  describe.each(REFUSED)('$title', ({ options, field, mentions }) => {
    it.each([
      ['forRoot()', () => OAuth2Module.forRoot(options)],
      ['forRootAsync()', () => OAuth2Module.forRootAsync({ useFactory: async () => options })],
    ])('%s fails the start, naming the field', async (_path, module) => {
      const error = await startupError(adapter, { imports: [module()] });
      expect(error).toBeInstanceOf(OAuth2ConfigurationError);
      expect((error as OAuth2ConfigurationError).field).toBe(field);
      for (const mention of mentions) {
        expect(error.message).toMatch(mention);
      }
    });
  });
});

describe('decorator mistakes of issue 12 throw when applied', () => {
  it('@RequiredScopes() with no scope, on a handler and on a class', () => {
    const onHandler = () => {
      @Controller('orders')
      class OrdersController {
        @Get()
        @RequiredScopes()
        list() {
          return [];
        }
      }
      return OrdersController;
    };
    const onClass = () => {
      @Controller('orders')
      @RequiredScopes()
      class OrdersController {}
      return OrdersController;
    };
    for (const define of [onHandler, onClass]) {
      expect(define).toThrow(OAuth2ConfigurationError);
      expect(define).toThrow(/@RequiredScopes\(\) has no scope: name at least one/);
    }
  });

  it('@OAuth2Policy({ oauthResource }) with an async function', () => {
    const define = () => {
      @Controller('orders')
      @OAuth2Policy({ oauthResource: (async () => 'as') as never })
      class OrdersController {}
      return OrdersController;
    };
    expect(define).toThrow(OAuth2ConfigurationError);
    expect(define).toThrow(/@OAuth2Policy\(\)\.oauthResource is an async function/);
  });
});

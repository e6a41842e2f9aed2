import { Controller, Get, HttpCode, type INestApplication, Injectable, Post, UseGuards } from '@nestjs/common';
import { ApiResponse, DECORATORS, DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import {
  OAuth2ConfigurationError,
  OAuth2ErrorKey,
  OAuth2Guard,
  OAuth2Module,
  OptionalOAuth2,
  RequiredScopes,
  SkipOAuth2,
} from '../../lib';
import { applyOAuth2OpenApi } from '../../lib/openapi';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';

const AS_URL = 'http://127.0.0.1:9';
const RESOURCES = { resources: [genericResource('as', AS_URL)], policy: { oauthResource: 'as' } };
const TOKEN_URL = 'https://auth.example.com/oauth/token';

/** Under the global guard: scopes merged controller → handler, optional and skipped routes. */
@Controller('orders')
@RequiredScopes('orders:read')
class OrdersController {
  @Get()
  list() {
    return [];
  }

  @Post()
  @RequiredScopes('orders:write')
  create() {
    return {};
  }

  @Get('own-answers')
  @ApiResponse({ status: 401, description: 'Our own 401' })
  @ApiResponse({ status: 200, description: 'The orders' })
  documented() {
    return [];
  }
}

@Controller('articles')
class ArticlesController {
  @Get()
  @OptionalOAuth2()
  list() {
    return [];
  }

  @Post('ping')
  @HttpCode(204)
  ping() {}

  @Get('health')
  @SkipOAuth2()
  health() {
    return {};
  }
}

/** Without a global guard: only the routes under @UseGuards(OAuth2Guard) or a subclass. */
@Injectable()
class TenantGuard extends OAuth2Guard {}

@Controller('reports')
@UseGuards(TenantGuard)
class ReportsController {
  @Get()
  @RequiredScopes('reports:read')
  list() {
    return [];
  }
}

@Controller('mixed')
class MixedController {
  @Get('guarded')
  @UseGuards(OAuth2Guard)
  guarded() {
    return [];
  }

  @Get('open')
  open() {
    return [];
  }
}

async function documentOf(app: INestApplication, options: Parameters<typeof applyOAuth2OpenApi>[2]) {
  const config = new DocumentBuilder().setTitle('API').build();
  return SwaggerModule.createDocument(app, applyOAuth2OpenApi(app, config, options));
}

describe("@nestjs/swagger's metadata keys", () => {
  it('are the ones applyOAuth2OpenApi writes (checked on each Nest major)', () => {
    expect(DECORATORS.API_SECURITY).toBe('swagger/apiSecurity');
    expect(DECORATORS.API_RESPONSE).toBe('swagger/apiResponse');
  });
});

describe.each(ADAPTERS)('applyOAuth2OpenApi on %s', (adapter) => {
  describe('with the global guard', () => {
    let app: INestApplication;
    let document: OpenAPIObject;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot({ ...RESOURCES, global: true })],
        controllers: [OrdersController, ArticlesController],
      });
      document = await documentOf(app, {
        tokenUrl: TOKEN_URL,
        scopeDescriptions: { 'orders:read': 'Read the orders' },
      });
    });
    afterAll(() => app.close());

    it('declares the OAuth2 scheme with a client-credentials flow listing every required scope', () => {
      expect(document.components?.securitySchemes?.oauth2).toEqual({
        type: 'oauth2',
        flows: {
          clientCredentials: {
            tokenUrl: TOKEN_URL,
            scopes: { 'orders:read': 'Read the orders', 'orders:write': 'orders:write' },
          },
        },
      });
    });

    it("gives each operation the scopes of @RequiredScopes, the handler's replacing the controller's", () => {
      expect(document.paths['/orders']?.get?.security).toEqual([{ oauth2: ['orders:read'] }]);
      expect(document.paths['/orders']?.post?.security).toEqual([{ oauth2: ['orders:write'] }]);
      expect(document.paths['/articles/ping']?.post?.security).toEqual([{ oauth2: [] }]);
    });

    it('gives an @OptionalOAuth2 route an empty alternative, and a @SkipOAuth2 route no security', () => {
      expect(document.paths['/articles']?.get?.security).toEqual([{ oauth2: [] }, {}]);
      expect(document.paths['/articles/health']?.get?.security).toBeUndefined();
      expect(Object.keys(document.paths['/articles/health']?.get?.responses ?? {})).toEqual(['200']);
    });

    it('documents 401, and 403 where scopes are required, with the error body; the success answer stays', () => {
      const responses = document.paths['/orders']?.get?.responses ?? {};
      expect(Object.keys(responses).sort()).toEqual(['200', '401', '403']);
      expect(responses['401']).toMatchObject({
        content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuth2Error' } } },
      });
      expect(Object.keys(document.paths['/orders']?.post?.responses ?? {}).sort()).toEqual(['201', '401', '403']);
      expect(Object.keys(document.paths['/articles/ping']?.post?.responses ?? {}).sort()).toEqual(['204', '401']);
    });

    it("keeps the application's own @ApiResponse", () => {
      const responses = document.paths['/orders/own-answers']?.get?.responses ?? {};
      expect(responses['401']).toMatchObject({ description: 'Our own 401' });
      expect(responses['200']).toMatchObject({ description: 'The orders' });
    });

    it('declares the error body { statusCode, error, message, key } with the error keys', () => {
      expect(document.components?.schemas?.OAuth2Error).toMatchObject({
        required: ['statusCode', 'error', 'message', 'key'],
        properties: { key: { enum: Object.values(OAuth2ErrorKey) } },
      });
    });

    it('adds nothing twice when called again, and a second call replaces the first', async () => {
      const again = await documentOf(app, { tokenUrl: TOKEN_URL });
      expect(again.paths['/orders']?.get?.security).toEqual([{ oauth2: ['orders:read'] }]);
      const renamed = await documentOf(app, { tokenUrl: TOKEN_URL, schemeName: 'partner' });
      expect(renamed.paths['/orders']?.get?.security).toEqual([{ partner: ['orders:read'] }]);
      expect(renamed.paths['/orders/own-answers']?.get?.responses['401']).toMatchObject({ description: 'Our own 401' });
      expect(Object.keys(renamed.components?.securitySchemes ?? {})).toEqual(['partner']);
    });
  });

  describe('with @UseGuards(OAuth2Guard) and a bearer scheme', () => {
    let app: INestApplication;
    let document: OpenAPIObject;
    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot(RESOURCES)],
        controllers: [ReportsController, MixedController],
        providers: [TenantGuard],
      });
      document = await documentOf(app, { type: 'bearer', schemeName: 'token' });
    });
    afterAll(() => app.close());

    it('declares an HTTP bearer scheme', () => {
      expect(document.components?.securitySchemes?.token).toEqual({ type: 'http', scheme: 'bearer' });
    });

    it('documents the guarded routes only, a subclass of the guard included', () => {
      expect(document.paths['/reports']?.get?.security).toEqual([{ token: [] }]);
      expect(Object.keys(document.paths['/reports']?.get?.responses ?? {}).sort()).toEqual(['200', '401', '403']);
      expect(document.paths['/mixed/guarded']?.get?.security).toEqual([{ token: [] }]);
      expect(document.paths['/mixed/open']?.get?.security).toBeUndefined();
    });
  });
});

describe('applyOAuth2OpenApi refuses', () => {
  it('an OAuth2 scheme without tokenUrl or flows, naming the options', async () => {
    const app = await startApp('express', { imports: [OAuth2Module.forRoot(RESOURCES)] });
    try {
      const config = new DocumentBuilder().build();
      expect(() => applyOAuth2OpenApi(app, config)).toThrow(OAuth2ConfigurationError);
      expect(() => applyOAuth2OpenApi(app, config)).toThrow(/set tokenUrl/);
    } finally {
      await app.close();
    }
  });

  it('an application without OAuth2Module', async () => {
    const app = await startApp('express', {});
    try {
      expect(() => applyOAuth2OpenApi(app, new DocumentBuilder().build(), { tokenUrl: TOKEN_URL })).toThrow(
        /import OAuth2Module/,
      );
    } finally {
      await app.close();
    }
  });
});

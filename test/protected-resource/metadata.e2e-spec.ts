import { Controller, Get, type INestApplication, Injectable, UseGuards, Version, VersioningType } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy, RequiredScopes, SkipOAuth2 } from '../../lib';
import { specErrorBody } from '../support/e2e-kit';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/** Every algorithm the guard verifies DPoP proofs with, which the default policy advertises: written out, not imported. */
const DEFAULT_DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
];

const RESOURCE = 'https://api.example.com/mcp';
const WELL_KNOWN = '/.well-known/oauth-protected-resource';

@Controller('orders')
class OrdersController {
  @Get()
  @Version('1')
  @RequiredScopes('orders:read')
  list() {
    return { orders: [] };
  }

  @Get('write')
  @Version('1')
  @OAuth2Policy({ requiredScopes: ['orders:write'], checkRequiredScopes: true })
  write() {
    return { ok: true };
  }

  @Get('public')
  @SkipOAuth2()
  open() {
    return { open: true };
  }
}

@Controller('plain')
@UseGuards(OAuth2Guard)
class PlainController {
  @Get()
  get() {
    return { ok: true };
  }
}

/** A provider's method (as a GraphQL resolver's): its scopes are found too. */
@Injectable()
class ReportsResolver {
  @RequiredScopes('reports:read')
  reports() {
    return [];
  }
}

describe.each(ADAPTERS)('protectedResource metadata (RFC 9728) on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            global: true,
            resources: [genericResource('as', url)],
            policy: { oauthResource: 'as' },
            protectedResource: {
              resource: RESOURCE,
              authorizationServers: ['https://as.example.com/realms/a', 'https://other-as.example.com'],
              resourceName: 'Orders API',
            },
          }),
        ],
        controllers: [OrdersController],
        providers: [ReportsResolver],
      },
      false,
      (nest) => {
        nest.setGlobalPrefix('api');
        nest.enableVersioning({ type: VersioningType.URI });
      },
    );
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.tokens.set('for-us', { active: true, client_id: 'c', aud: RESOURCE, scope: 'orders:read' });
    server.tokens.set('for-another', {
      active: true,
      client_id: 'c',
      aud: 'https://api.example.com/other',
      scope: 'orders:read',
    });
  });

  const expected = {
    resource: RESOURCE,
    authorization_servers: ['https://as.example.com/realms/a', 'https://other-as.example.com'],
    scopes_supported: ['orders:read', 'orders:write', 'reports:read'],
    bearer_methods_supported: ['header'],
    // The default policy: DPoP allowed, with every algorithm the guard verifies.
    dpop_signing_alg_values_supported: DEFAULT_DPOP_ALGORITHMS,
    resource_name: 'Orders API',
  };

  it.each([WELL_KNOWN, `${WELL_KNOWN}/mcp`])(
    'serves the document at %s, at the origin root despite the global prefix and versioning, unguarded under global: true',
    async (path) => {
      const response = await request(app.getHttpServer()).get(path).expect(200);
      expect(response.body).toEqual(expected);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('public, max-age=3600');
      expect(server.requests).toHaveLength(0);
    },
  );

  it('does not serve it under the prefix, nor at other paths', async () => {
    await request(app.getHttpServer()).get(`/api${WELL_KNOWN}`).expect(404);
    await request(app.getHttpServer()).get(`${WELL_KNOWN}/other`).expect(404);
  });

  it('leaves the guarded routes as they were, under the prefix and version', async () => {
    await request(app.getHttpServer()).get('/api/orders/public').expect(200, { open: true });
    const missing = specErrorBody('OAUTH2_MISSING_HEADER');
    await request(app.getHttpServer()).get('/api/v1/orders').expect(missing.statusCode, missing);
  });

  it('binds tokens to the resource by default: aud must hold protectedResource.resource', async () => {
    await request(app.getHttpServer()).get('/api/v1/orders').set('Authorization', 'Bearer for-us').expect(200);
    const invalid = specErrorBody('OAUTH2_INVALID_ACCESS_TOKEN');
    await request(app.getHttpServer())
      .get('/api/v1/orders')
      .set('Authorization', 'Bearer for-another')
      .expect(invalid.statusCode, invalid);
  });
});

describe.each(ADAPTERS)('protectedResource options on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url)],
          policy: { oauthResource: 'as', allowAccessTokenQueryParam: true, audiences: false },
          protectedResource: {
            resource: 'http://127.0.0.1:8080',
            authorizationServers: ['http://127.0.0.1:9000'],
            scopesSupported: ['mcp:tools'],
            resourceDocumentation: 'https://docs.example.com/api',
            additionalMetadata: {
              resource_policy_uri: 'https://example.com/policy',
              dpop_bound_access_tokens_required: false,
            },
          },
        }),
      ],
      controllers: [PlainController],
    });
    server.tokens.set('any-aud', { active: true, client_id: 'c', aud: 'somewhere-else', scope: 'orders:read' });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('serves one document for a resource at the root, with the query method, configured scopes and further members', async () => {
    const response = await request(app.getHttpServer()).get(WELL_KNOWN).expect(200);
    expect(response.body).toEqual({
      resource: 'http://127.0.0.1:8080',
      authorization_servers: ['http://127.0.0.1:9000'],
      scopes_supported: ['mcp:tools'],
      bearer_methods_supported: ['header', 'query'],
      dpop_signing_alg_values_supported: DEFAULT_DPOP_ALGORITHMS,
      resource_documentation: 'https://docs.example.com/api',
      resource_policy_uri: 'https://example.com/policy',
      dpop_bound_access_tokens_required: false,
    });
  });

  it('audiences: false turns the default audience binding off', async () => {
    await request(app.getHttpServer()).get('/plain').query({ access_token: 'any-aud' }).expect(200, { ok: true });
    await request(app.getHttpServer()).get('/plain').set('Authorization', 'Bearer any-aud').expect(200, { ok: true });
  });
});

describe('protectedResource at start-up', () => {
  it.each([
    [
      { resource: 'https://api.example.com/mcp#x', authorizationServers: ['https://as.example.com'] },
      /protectedResource\.resource.*fragment/s,
    ],
    [
      { resource: 'http://api.example.com/mcp', authorizationServers: ['https://as.example.com'] },
      /protectedResource\.resource.*https/s,
    ],
    [
      { resource: 'https://api.example.com/mcp', authorizationServers: ['as.example.com'] },
      /protectedResource\.authorizationServers\[0\]/,
    ],
  ])('refuses %j, naming the field', async (protectedResource, message) => {
    await expect(
      startApp('express', {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', 'http://127.0.0.1:9')],
            policy: { oauthResource: 'as' },
            protectedResource,
          }),
        ],
      }),
    ).rejects.toThrow(message);
  });
});

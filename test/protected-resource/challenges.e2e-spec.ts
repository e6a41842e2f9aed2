import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, RequiredScopes } from '../../lib';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

const RESOURCE = 'https://api.example.com/mcp';
const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';

@Controller('mcp')
@UseGuards(OAuth2Guard)
class McpController {
  @Get()
  @RequiredScopes('mcp:tools')
  tools() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('Bearer challenges with protectedResource on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    server.tokens.set('no-scope', { active: true, client_id: 'c', aud: RESOURCE, scope: 'other' });
    server.tokens.set('other-aud', { active: true, client_id: 'c', aud: 'https://elsewhere', scope: 'mcp:tools' });
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url)],
          policy: { oauthResource: 'as' },
          protectedResource: { resource: RESOURCE, authorizationServers: ['https://as.example.com'] },
        }),
      ],
      controllers: [McpController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('401 without a token: resource_metadata names the document', async () => {
    const response = await request(app.getHttpServer()).get('/mcp').expect(401);
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="api", resource_metadata="${METADATA}"`);
  });

  it('401 for a token of another audience: invalid_token with resource_metadata', async () => {
    const response = await request(app.getHttpServer())
      .get('/mcp')
      .set('Authorization', 'Bearer other-aud')
      .expect(401);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer realm="api", resource_metadata="${METADATA}", error="invalid_token"`,
    );
  });

  it('403 insufficient_scope keeps scope= and carries resource_metadata', async () => {
    const response = await request(app.getHttpServer()).get('/mcp').set('Authorization', 'Bearer no-scope').expect(403);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer realm="api", resource_metadata="${METADATA}", error="insufficient_scope", scope="mcp:tools"`,
    );
  });
});

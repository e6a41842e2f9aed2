import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Payload, RequiredScopes } from '../../lib';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

@Controller('orders')
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get()
  @RequiredScopes('orders:read')
  list(@OAuth2Payload('$.client_id') clientId: string) {
    return { clientId };
  }
}

describe.each(ADAPTERS)('smoke on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            {
              name: 'as',
              type: 'generic',
              introspectionEndpoint: `${url}/introspect`,
              clientId: 'api',
              clientSecret: 's',
            },
          ],
          policy: { oauthResource: 'as', extractPayload: true },
        }),
      ],
      controllers: [OrdersController],
    });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('passes an active token with the scope, rejects the others', async () => {
    server.tokens.set('good', { active: true, client_id: 'c1', scope: 'orders:read' });
    server.tokens.set('weak', { active: true, client_id: 'c1', scope: 'other' });
    await request(app.getHttpServer())
      .get('/orders')
      .set('Authorization', 'Bearer good')
      .expect(200, { clientId: 'c1' });
    const weak = await request(app.getHttpServer()).get('/orders').set('Authorization', 'Bearer weak');
    expect(weak.status).toBe(403);
    expect(weak.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
    expect(weak.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="orders:read"',
    );
    const none = await request(app.getHttpServer()).get('/orders');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'No OAuth authorization header was supplied',
      key: 'OAUTH2_MISSING_HEADER',
    });
  });
});

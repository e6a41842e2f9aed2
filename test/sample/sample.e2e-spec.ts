import { type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { OAuth2TestingServer } from '../../lib/testing';
import { AppModule } from '../../sample/app.module';
import { ADAPTERS, startApp } from '../support/http-adapters';

describe.each(ADAPTERS)('the sample orders API on %s', (adapter) => {
  let as: OAuth2TestingServer;
  let app: INestApplication;
  const saved = { ...process.env };

  beforeAll(async () => {
    // The sample reads its configuration from the environment, so the test points it at the server there.
    as = await OAuth2TestingServer.start({ clientId: 'orders-api', clientSecret: 'orders-secret' });
    process.env.OAUTH2_INTROSPECTION_URL = as.introspectionEndpoint;
    process.env.OAUTH2_CLIENT_ID = 'orders-api';
    process.env.OAUTH2_CLIENT_SECRET = 'orders-secret';
    app = await startApp(adapter, { imports: [AppModule] });
  });
  afterAll(async () => {
    await app.close();
    await as.close();
    process.env = saved;
  });

  it('serves /health without a token', async () => {
    const before = as.introspectionCount;
    await request(app.getHttpServer()).get('/health').expect(200, { status: 'ok' });
    expect(as.introspectionCount).toBe(before);
  });

  it('lists orders for a reader, refuses to create them, and caches the introspection', async () => {
    const reader = as.issueToken({ clientId: 'shop', sub: 'ann', scope: 'orders:read' });
    const before = as.introspectionCount;
    const http = request(app.getHttpServer());
    await http.get('/orders').set('Authorization', `Bearer ${reader}`).expect(200);
    const refused = await http.post('/orders').set('Authorization', `Bearer ${reader}`).send({ item: 'tea' });
    expect(refused.status).toBe(403);
    expect(refused.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
    expect(as.introspections.slice(before)).toEqual([
      {
        clientAuthentication: 'basic',
        clientId: 'orders-api',
        status: 200,
        active: true,
        tokenTypeHint: 'access_token',
      },
    ]);
  });

  it('lets a writer create an order and echoes the caller on /me', async () => {
    const writer = as.issueToken({ clientId: 'shop', sub: 'bob', scope: 'orders:read orders:write' });
    const http = request(app.getHttpServer());
    const created = await http.post('/orders').set('Authorization', `Bearer ${writer}`).send({ item: 'tea' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ item: 'tea', placedBy: 'shop' });
    await http
      .get('/me')
      .set('Authorization', `Bearer ${writer}`)
      .expect(200, { clientId: 'shop', user: 'bob', scopes: ['orders:read', 'orders:write'] });
  });

  it('answers 401 without a token', async () => {
    const response = await request(app.getHttpServer()).get('/orders');
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_MISSING_HEADER');
  });
});

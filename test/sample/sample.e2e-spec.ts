import { type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AppModule } from '../../sample/app.module';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

describe.each(ADAPTERS)('the sample orders API on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;
  const saved = { ...process.env };

  beforeAll(async () => {
    const url = await server.start();
    process.env.OAUTH2_INTROSPECTION_URL = `${url}/introspect`;
    process.env.OAUTH2_CLIENT_ID = 'orders-api';
    process.env.OAUTH2_CLIENT_SECRET = 'orders-secret';
    app = await startApp(adapter, { imports: [AppModule] });
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
    process.env = saved;
  });
  beforeEach(() => server.reset());

  it('serves /health without a token', async () => {
    await request(app.getHttpServer()).get('/health').expect(200, { status: 'ok' });
    expect(server.requests).toHaveLength(0);
  });

  it('lists orders for a reader, refuses to create them, and caches the introspection', async () => {
    server.tokens.set('reader', { active: true, client_id: 'shop', sub: 'ann', scope: 'orders:read' });
    const http = request(app.getHttpServer());
    await http.get('/orders').set('Authorization', 'Bearer reader').expect(200);
    const refused = await http.post('/orders').set('Authorization', 'Bearer reader').send({ item: 'tea' });
    expect(refused.status).toBe(403);
    expect(refused.body.key).toBe('OAUTH2_INSUFFICIENT_SCOPE');
    expect(server.requestsTo('/introspect')).toHaveLength(1);
    const { authorization } = server.requests[0].headers;
    expect(Buffer.from(String(authorization).replace('Basic ', ''), 'base64').toString()).toBe(
      'orders-api:orders-secret',
    );
  });

  it('lets a writer create an order and echoes the caller on /me', async () => {
    server.tokens.set('writer', { active: true, client_id: 'shop', sub: 'bob', scope: 'orders:read orders:write' });
    const http = request(app.getHttpServer());
    const created = await http.post('/orders').set('Authorization', 'Bearer writer').send({ item: 'tea' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ item: 'tea', placedBy: 'shop' });
    await http
      .get('/me')
      .set('Authorization', 'Bearer writer')
      .expect(200, { clientId: 'shop', user: 'bob', scopes: ['orders:read', 'orders:write'] });
  });

  it('answers 401 without a token', async () => {
    const response = await request(app.getHttpServer()).get('/orders');
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_MISSING_HEADER');
  });
});

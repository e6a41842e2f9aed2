import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, RequiredScopes } from '../../lib';
import { ADAPTERS, type AdapterName } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 17, point 3: placeholders in response template bodies, `{{key}}`, `{{status}}`, `{{message}}`,
 * `{{requestId}}` and `{{requiredScopes}}`, escaped for the template's media type (JSON string escaping,
 * XML escaping, none for text) and filled inside the string values of an object body. The request id
 * is the platform's `request.id` (Fastify's own, or one a middleware set on Express), else the
 * `X-Request-Id` header. Hostile ids (quotes, `<`, `&`, newlines) never break the body's syntax; the
 * token never appears.
 */

@Controller('t')
@UseGuards(OAuth2Guard)
class TemplatesController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @Get('scoped')
  @RequiredScopes('orders:read', 'orders:write')
  scoped() {
    return { ok: true };
  }
}

const HOSTILE = `a"b<c>&d'e\\f\n</error><x>{{key}}`;

/** The id a test asks for in `?rid=` (which may hold a newline, which no header can), as `request.id`. */
function idFromQuery(url: string | undefined): string | undefined {
  return new URL(url ?? '/', 'http://localhost').searchParams.get('rid') ?? undefined;
}

async function startWithIds(adapter: AdapterName, url: string): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      OAuth2Module.forRoot({
        resources: [{ name: 'as', type: 'generic', introspectionEndpoint: `${url}/introspect` }],
        policy: { oauthResource: 'as' },
        responseTemplates: {
          OAUTH2_MISSING_HEADER: {
            'application/json': {
              headers: { 'Content-Type': 'application/json' },
              body: '{"error":"{{key}}","status":{{status}},"message":"{{message}}","requestId":"{{ requestId }}"}',
            },
            'application/xml': { body: '<error key="{{key}}" request="{{requestId}}">{{message}}</error>' },
            'text/plain': { body: 'rejected {{key}} ({{status}}) request {{requestId}}' },
            '*/*': {
              status: 400,
              body: { error: { key: '{{key}}', requestId: '{{requestId}}' }, list: ['{{status}}', 7] },
            },
          },
          OAUTH2_INSUFFICIENT_SCOPE: {
            '*/*': { body: { error: 'insufficient_scope', required: '{{requiredScopes}}', status: '{{status}}' } },
          },
          OAUTH2_INVALID_ACCESS_TOKEN: {
            '*/*': { body: 'refused {{key}}: {{message}}' },
          },
        },
      }),
    ],
    controllers: [TemplatesController],
  }).compile();
  let app: INestApplication;
  if (adapter === 'express') {
    app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    // As a request-id middleware does (pino-http, express-request-id).
    app.use((req: IncomingMessage & { id?: string }, _res: unknown, next: () => void) => {
      const id = idFromQuery(req.url);
      if (id !== undefined) {
        req.id = id;
      }
      next();
    });
  } else {
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({
        requestIdHeader: 'x-request-id',
        genReqId: (req: { url?: string }) => idFromQuery(req.url) ?? 'fastify-generated',
      }),
      { logger: false },
    );
  }
  await app.init();
  if (adapter === 'fastify') {
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  await app.listen(0, '127.0.0.1');
  return app;
}

describe.each(ADAPTERS)('response template placeholders on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    server.tokens.set('reader', { active: true, scope: 'orders:read' });
    app = await startWithIds(adapter, url);
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  const get = (path: string) => request(app.getHttpServer()).get(path);

  it('fills a JSON string body, JSON-escaping a hostile request id', async () => {
    const response = await get(`/t/open?rid=${encodeURIComponent(HOSTILE)}`).set('Accept', 'application/json');
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({
      error: 'OAUTH2_MISSING_HEADER',
      status: 401,
      message: 'No OAuth authorization header was supplied',
      requestId: HOSTILE,
    });
  });

  it('fills an XML body, XML-escaping a hostile request id', async () => {
    const response = await get(`/t/open?rid=${encodeURIComponent(HOSTILE)}`).set('Accept', 'application/xml');
    expect(response.headers['content-type']).toMatch(/^application\/xml/);
    expect(response.text).toBe(
      '<error key="OAUTH2_MISSING_HEADER" request="a&quot;b&lt;c&gt;&amp;d&apos;e\\f\n&lt;/error&gt;&lt;x&gt;{{key}}">' +
        'No OAuth authorization header was supplied</error>',
    );
  });

  it('fills a text body as it is', async () => {
    const response = await get('/t/open?rid=plain-1').set('Accept', 'text/plain');
    expect(response.text).toBe('rejected OAUTH2_MISSING_HEADER (401) request plain-1');
  });

  it('fills the string values of an object body, nested and in arrays', async () => {
    const response = await get(`/t/open?rid=${encodeURIComponent(HOSTILE)}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { key: 'OAUTH2_MISSING_HEADER', requestId: HOSTILE }, list: ['400', 7] });
  });

  it('takes X-Request-Id when the request has no id of its own (Express), or as Fastify is told to', async () => {
    const response = await get('/t/open').set('Accept', 'text/plain').set('X-Request-Id', 'abc-"1"-<2>&');
    expect(response.text).toBe('rejected OAUTH2_MISSING_HEADER (401) request abc-"1"-<2>&');
  });

  it('leaves {{requestId}} empty without an id', async () => {
    const response = await get('/t/open').set('Accept', 'text/plain');
    expect(response.text).toBe(
      adapter === 'express'
        ? 'rejected OAUTH2_MISSING_HEADER (401) request '
        : 'rejected OAUTH2_MISSING_HEADER (401) request fastify-generated',
    );
  });

  it('says the required scopes, and never the token', async () => {
    const response = await get('/t/scoped').set('Authorization', 'Bearer reader');
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ error: 'insufficient_scope', required: 'orders:read orders:write', status: '403' });
    const refused = await get('/t/open').set('Authorization', 'Bearer TOKENCANARY');
    expect(refused.text).toBe(
      'refused OAUTH2_INVALID_ACCESS_TOKEN: Access token can not be validated by authorization server',
    );
    expect(JSON.stringify(refused.headers)).not.toContain('TOKENCANARY');
  });
});

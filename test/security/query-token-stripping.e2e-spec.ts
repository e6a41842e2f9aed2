import {
  Controller,
  Get,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 12, point 4: with `propagateAuthHeader: false`, an allowed request reaches its handler without
 * the token, in the URL as well as in the headers. Everything a handler can read the URL or the query
 * from is checked, on Express (`req.url`, `req.originalUrl`, `req.query`) and on Fastify
 * (`request.url`, `request.originalUrl`, `request.query`, `request.raw.url`, and `request.raw.originalUrl`
 * / `request.raw.query` where middleware set them), with Nest's `@Query()` on both; the other
 * parameters keep their order and their encoding.
 */

type SeenRequest = {
  url?: string;
  originalUrl?: string;
  query?: unknown;
  headers: Record<string, unknown>;
  raw?: { url?: string; originalUrl?: string; query?: unknown; headers: Record<string, unknown> };
};

/** What a handler that forwards the request would forward. */
function seen(req: SeenRequest, query: unknown) {
  return {
    url: req.url,
    originalUrl: req.originalUrl,
    query: req.query,
    nestQuery: query,
    rawUrl: req.raw?.url ?? null,
    rawOriginalUrl: req.raw?.originalUrl ?? null,
    rawQuery: req.raw?.query ?? null,
    authorization: req.headers.authorization ?? req.raw?.headers.authorization ?? null,
  };
}

@Controller('s')
@UseGuards(OAuth2Guard)
class ForwardingController {
  @Get('stripped')
  @OAuth2Policy({ propagateAuthHeader: false, allowAccessTokenQueryParam: true })
  stripped(@Req() req: SeenRequest, @Query() query: unknown) {
    return seen(req, query);
  }

  @Get('kept')
  @OAuth2Policy({ allowAccessTokenQueryParam: true })
  kept(@Req() req: SeenRequest, @Query() query: unknown) {
    return seen(req, query);
  }

  @Get('header-only')
  @OAuth2Policy({ propagateAuthHeader: false })
  headerOnly(@Req() req: SeenRequest, @Query() query: unknown) {
    return seen(req, query);
  }
}

/** A Nest middleware on every route: on Fastify, middie then copies `originalUrl` and `query` onto `raw`. */
@Module({ controllers: [ForwardingController] })
class WithMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply((_req: unknown, _res: unknown, next: () => void) => next()).forRoutes('*path');
  }
}

const withoutAccessToken = (query: unknown) =>
  Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([name]) => name !== 'access_token'));

describe.each(ADAPTERS)('propagateAuthHeader: false removes query tokens, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  let url: string;

  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    server.tokens.set('good', { active: true, sub: 'alice' });
  });

  describe.each([
    ['a plain application', false],
    ['an application with middleware, and a hook that reads originalUrl first', true],
  ])('in %s', (_name, middleware) => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(
        adapter,
        {
          imports: [
            OAuth2Module.forRoot({ resources: [genericResource('as', url)], policy: { oauthResource: 'as' } }),
            ...(middleware ? [WithMiddlewareModule] : []),
          ],
          controllers: middleware ? [] : [ForwardingController],
        },
        false,
        (nest) => {
          if (middleware && adapter === 'fastify') {
            // Fastify computes request.originalUrl once, on first read, and keeps it.
            (nest as NestFastifyApplication)
              .getHttpAdapter()
              .getInstance()
              .addHook('onRequest', (req, _reply, done) => {
                void req.originalUrl;
                done();
              });
          }
        },
      );
    });
    afterAll(async () => {
      await app.close();
    });

    const get = (path: string) => request(app.getHttpServer()).get(path);

    it('removes access_token from every view of the URL and the query, and keeps the rest as sent', async () => {
      const query = 'z=%2F&access_token=good&a=b+c&e=&f&c=1&c=2&x=%E2%82%AC';
      const kept = await get(`/s/kept?${query}`).expect(200);
      const stripped = await get(`/s/stripped?${query}`).expect(200);
      const path = '/s/stripped?z=%2F&a=b+c&e=&f&c=1&c=2&x=%E2%82%AC';
      expect(stripped.body).toEqual({
        url: path,
        originalUrl: path,
        query: withoutAccessToken(kept.body.query),
        nestQuery: withoutAccessToken(kept.body.nestQuery),
        rawUrl: adapter === 'fastify' ? path : null,
        rawOriginalUrl: adapter === 'fastify' && middleware ? path : null,
        rawQuery: adapter === 'fastify' && middleware ? withoutAccessToken(kept.body.rawQuery) : null,
        authorization: null,
      });
      expect(kept.body.query).toMatchObject({ access_token: 'good', a: 'b c', x: '€' });
      expect(kept.body.url).toBe(`/s/kept?${query}`);
      expect(JSON.stringify(stripped.body)).not.toContain('good');
    });

    it('drops the "?" when access_token was the only parameter', async () => {
      const response = await get('/s/stripped?access_token=good').expect(200);
      expect(response.body).toMatchObject({ url: '/s/stripped', originalUrl: '/s/stripped' });
      expect([response.body.query, response.body.nestQuery]).toEqual([{}, {}]);
    });

    it('removes every access_token, those the guard did not read included', async () => {
      const response = await get('/s/stripped?access_token=good&k=v&access_token=other').expect(200);
      expect(response.body).toMatchObject({ url: '/s/stripped?k=v', originalUrl: '/s/stripped?k=v' });
      expect([response.body.query, response.body.nestQuery]).toEqual([{ k: 'v' }, { k: 'v' }]);
    });

    it('removes a percent-encoded name that the guard reads as access_token', async () => {
      const response = await get('/s/stripped?access%5Ftoken=good&k=v').expect(200);
      expect(response.body).toMatchObject({ url: '/s/stripped?k=v', originalUrl: '/s/stripped?k=v' });
      expect([response.body.query, response.body.nestQuery]).toEqual([{ k: 'v' }, { k: 'v' }]);
      expect(server.requestsTo('/introspect').map((received) => received.form.get('token'))).toEqual(['good']);
    });

    it('removes a query token beside a Bearer header, which wins (documented profile)', async () => {
      server.tokens.set('other', { active: true, sub: 'bob' });
      const response = await get('/s/stripped?access_token=other&k=v').set('Authorization', 'Bearer good').expect(200);
      expect(response.body).toMatchObject({
        url: '/s/stripped?k=v',
        originalUrl: '/s/stripped?k=v',
        authorization: null,
      });
      expect([response.body.query, response.body.nestQuery]).toEqual([{ k: 'v' }, { k: 'v' }]);
      expect(server.requestsTo('/introspect').map((received) => received.form.get('token'))).toEqual(['good']);
    });

    it('removes an access_token query parameter where the policy reads tokens from headers only', async () => {
      const response = await get('/s/header-only?access_token=other&k=v').set('Authorization', 'Bearer good');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        url: '/s/header-only?k=v',
        originalUrl: '/s/header-only?k=v',
        authorization: null,
      });
      expect([response.body.query, response.body.nestQuery]).toEqual([{ k: 'v' }, { k: 'v' }]);
    });

    it('leaves parameters with other names alone (access_token[x], access_tokens, xaccess_token)', async () => {
      const query = 'access_tokens=1&xaccess_token=2&access_token%5Bx%5D=3';
      const response = await get(`/s/stripped?${query}&access_token=good`).expect(200);
      expect(response.body.url).toBe(`/s/stripped?${query}`);
    });

    it('true (the default): the query token stays', async () => {
      const response = await get('/s/kept?access_token=good&k=v').expect(200);
      expect(response.body).toMatchObject({
        url: '/s/kept?access_token=good&k=v',
        originalUrl: '/s/kept?access_token=good&k=v',
      });
      expect(response.body.query).toEqual({ access_token: 'good', k: 'v' });
    });
  });
});

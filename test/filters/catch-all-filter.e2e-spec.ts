import { ArgumentsHost, Catch, Controller, ExceptionFilter, Get, INestApplication, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import request from 'supertest';
import { OAuth2Exception, OAuth2ExceptionFilter, OAuth2Guard, OAuth2Module } from '../../lib';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }

  @Get('boom')
  @UseGuards()
  boom(): never {
    throw new Error('handler failure');
  }
}

/**
 * An application's own catch-all filter, bound with `app.useGlobalFilters()`: it wins over the
 * module's filter, so it hands OAuth2Exceptions on (or, with `delegate` false, does not).
 */
@Catch()
class AppCatchAllFilter implements ExceptionFilter {
  constructor(
    private readonly oauth2: OAuth2ExceptionFilter | undefined,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (this.oauth2 && exception instanceof OAuth2Exception) {
      return this.oauth2.catch(exception, host);
    }
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { app: 'error' }, 500);
  }
}

describe.each(ADAPTERS)('an application catch-all filter (useGlobalFilters) on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;
  let bare: INestApplication;

  const start = (url: string, delegate: boolean) =>
    startApp(
      adapter,
      {
        imports: [
          OAuth2Module.forRoot({
            resources: [{ name: 'as', type: 'generic', introspectionEndpoint: `${url}/introspect` }],
            policy: { oauthResource: 'as' },
          }),
        ],
        controllers: [DataController],
      },
      false,
      (created) =>
        created.useGlobalFilters(
          new AppCatchAllFilter(
            delegate ? created.get(OAuth2ExceptionFilter) : undefined,
            created.get(HttpAdapterHost),
          ),
        ),
    );

  beforeAll(async () => {
    const url = await server.start();
    app = await start(url, true);
    bare = await start(url, false);
  });
  afterAll(async () => {
    await app.close();
    await bare.close();
    await server.stop();
  });

  it('wins over the module filter: without handing on, the key and the challenge are lost', async () => {
    const response = await request(bare.getHttpServer()).get('/data');
    expect(response.status).toBe(500);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('can hand OAuth2Exceptions to the injectable OAuth2ExceptionFilter: key, status and WWW-Authenticate', async () => {
    const response = await request(app.getHttpServer()).get('/data');
    expect(response.status).toBe(401);
    expect(response.body.key).toBe('OAUTH2_MISSING_HEADER');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('keeps handling the rest itself', async () => {
    server.tokens.set('good', { active: true });
    const response = await request(app.getHttpServer()).get('/data/boom').set('Authorization', 'Bearer good');
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ app: 'error' });
  });
});

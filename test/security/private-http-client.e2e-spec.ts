import { jest } from '@jest/globals';
import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import axios, { type AxiosRequestTransformer, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module } from '../../lib';
import { decodeClientBasic } from '../support/e2e-kit';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 12, point 1: the module talks to the authorization server through an HTTP client of its own.
 * The application below does, before its Nest application exists, what applications do to the global
 * axios: interceptors, default headers, a base URL (with absolute URLs refused), default query
 * parameters, default Basic credentials, a request transform. None of it may see or change an
 * introspection request: the server must receive exactly the module's request.
 */

@Controller('p')
@UseGuards(OAuth2Guard)
class PrivateClientController {
  @Get()
  open() {
    return { ok: true };
  }
}

const TOKEN = 'tok-private-client';
const CLIENT_ID = 'api';
const CLIENT_SECRET = 's3cret';

/** What the application sets on the global axios; restored afterwards. */
function pollutedAxios() {
  const saved = {
    baseURL: axios.defaults.baseURL,
    allowAbsoluteUrls: axios.defaults.allowAbsoluteUrls,
    params: axios.defaults.params,
    auth: axios.defaults.auth,
    transformRequest: axios.defaults.transformRequest,
  };
  const seen = jest.fn((config: InternalAxiosRequestConfig) => config);
  const seenAnswer = jest.fn((response: AxiosResponse) => response);
  const requestInterceptor = axios.interceptors.request.use(seen);
  const responseInterceptor = axios.interceptors.response.use(seenAnswer);
  axios.defaults.headers.common['X-Leak'] = 'common';
  axios.defaults.headers.post['X-Post-Leak'] = 'post';
  axios.defaults.baseURL = 'http://127.0.0.1:9/app-base';
  axios.defaults.allowAbsoluteUrls = false;
  axios.defaults.params = { leak: '1' };
  axios.defaults.auth = { username: 'app-user', password: 'app-password' };
  const appendLeak: AxiosRequestTransformer = (data: unknown) =>
    typeof data === 'string' ? `${data}&transformed=1` : data;
  axios.defaults.transformRequest = [appendLeak];
  return {
    seen,
    seenAnswer,
    restore() {
      axios.interceptors.request.eject(requestInterceptor);
      axios.interceptors.response.eject(responseInterceptor);
      delete axios.defaults.headers.common['X-Leak'];
      delete axios.defaults.headers.post['X-Post-Leak'];
      Object.assign(axios.defaults, saved);
    },
  };
}

describe.each(ADAPTERS)("the module's own HTTP client, on %s", (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;
  let pollution: ReturnType<typeof pollutedAxios>;

  beforeAll(async () => {
    const url = await server.start();
    pollution = pollutedAxios();
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            {
              name: 'as',
              type: 'generic',
              introspectionEndpoint: `${url}/introspect`,
              clientId: CLIENT_ID,
              clientSecret: CLIENT_SECRET,
              timeout: 2000,
            },
          ],
          policy: { oauthResource: 'as' },
        }),
      ],
      controllers: [PrivateClientController],
    });
  });

  afterAll(async () => {
    pollution?.restore();
    await app?.close();
    await server.stop();
  });

  it('sends exactly its own request: no header, parameter, credential, base URL or transform of the application', async () => {
    server.tokens.set(TOKEN, { active: true });
    await request(app.getHttpServer()).get('/p').set('Authorization', `Bearer ${TOKEN}`).expect(200);

    const received = server.requestsTo('/introspect');
    expect(server.requests).toHaveLength(1);
    expect(received).toHaveLength(1);
    const [introspection] = received;
    expect(introspection.method).toBe('POST');
    expect(introspection.url).toBe('/introspect');
    expect(introspection.body).toBe(`token=${TOKEN}&token_type_hint=access_token`);
    expect(decodeClientBasic(introspection.headers.authorization)).toEqual({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    expect(introspection.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(introspection.headers.accept).toBe('application/json');
    // Only what the module and Node's HTTP layer send: nothing the application added.
    expect(Object.keys(introspection.headers).sort()).toEqual(
      [
        'accept',
        'accept-encoding',
        'authorization',
        'connection',
        'content-length',
        'content-type',
        'host',
        'user-agent',
      ]
        .filter((name) => name in introspection.headers)
        .sort(),
    );
    expect(introspection.headers['x-leak']).toBeUndefined();
    expect(introspection.headers['x-post-leak']).toBeUndefined();
  });

  it("never calls the application's interceptors", () => {
    expect(pollution.seen).not.toHaveBeenCalled();
    expect(pollution.seenAnswer).not.toHaveBeenCalled();
  });
});

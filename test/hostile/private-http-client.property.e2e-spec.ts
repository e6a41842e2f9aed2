import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import axios, { type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios';
import fc from 'fast-check';
import { Agent } from 'node:http';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module } from '../../lib';
import { refusedUrl } from '../support/e2e-kit';
import { genericResource } from '../support/guard-e2e-helpers';
import { startApp } from '../support/http-adapters';
import { type ReceivedRequest, ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 12, point 1, property-based: for arbitrary settings an application puts on the global axios
 * (default headers of any method section, `baseURL` with absolute URLs refused, `params`, `auth`, a
 * `proxy` to a closed port, a 1 ms `timeout`, tiny size limits, `validateStatus`, transforms, an
 * adapter, an agent) and interceptors it installs, before or after the Nest application starts, an
 * introspection request reaches the authorization server exactly as it does with a clean axios (method,
 * URL, body, every header), and none of the application's interceptors, transforms, adapter or agent
 * is ever called.
 */

@Controller('p')
@UseGuards(OAuth2Guard)
class PrivateClientController {
  @Get()
  open() {
    return { ok: true };
  }
}

const TOKEN = 'tok-private-client-property';
const HEADER_SECTIONS = ['common', 'post', 'get', 'put', 'patch', 'delete', 'head'] as const;

interface Pollution {
  headers: Array<{ section: (typeof HEADER_SECTIONS)[number]; name: string; value: string }>;
  baseURL: string | undefined;
  allowAbsoluteUrls: boolean | undefined;
  params: Record<string, string> | undefined;
  auth: { username: string; password: string } | undefined;
  proxy: boolean;
  timeout: number | undefined;
  maxContentLength: number | undefined;
  maxBodyLength: number | undefined;
  validateStatus: boolean;
  transformRequest: boolean;
  transformResponse: boolean;
  adapter: boolean;
  agent: boolean;
  requestInterceptors: number;
  responseInterceptors: number;
  /** Whether the application pollutes axios once its Nest application is running, rather than before. */
  afterStart: boolean;
}

const headerName = fc.oneof(
  fc.constantFrom('Authorization', 'Content-Type', 'Accept', 'User-Agent', 'Content-Length', 'Host', 'Cookie'),
  fc.stringMatching(/^x-[a-z0-9-]{1,12}$/),
);
const headerValue = fc.stringMatching(/^[A-Za-z0-9 ._/:=;-]{1,24}$/);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const pollution: fc.Arbitrary<Pollution> = fc.record({
  headers: fc.array(fc.record({ section: fc.constantFrom(...HEADER_SECTIONS), name: headerName, value: headerValue }), {
    maxLength: 6,
  }),
  baseURL: maybe(fc.constantFrom('http://127.0.0.1:9/app-base', '/relative-base', 'http://127.0.0.1:9')),
  allowAbsoluteUrls: maybe(fc.boolean()),
  params: maybe(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 6 }), { maxKeys: 3 })),
  auth: maybe(fc.record({ username: fc.string({ maxLength: 8 }), password: fc.string({ maxLength: 8 }) })),
  proxy: fc.boolean(),
  timeout: maybe(fc.constantFrom(1, 2, 10)),
  maxContentLength: maybe(fc.constantFrom(0, 1, 10)),
  maxBodyLength: maybe(fc.constantFrom(0, 1, 10)),
  validateStatus: fc.boolean(),
  transformRequest: fc.boolean(),
  transformResponse: fc.boolean(),
  adapter: fc.boolean(),
  agent: fc.boolean(),
  requestInterceptors: fc.integer({ min: 0, max: 2 }),
  responseInterceptors: fc.integer({ min: 0, max: 2 }),
  afterStart: fc.boolean(),
});

/** What the application's code would see or change: each call is recorded here. */
const calls: string[] = [];

/** Applies a pollution to the global axios; returns what puts it back. */
function pollute(spec: Pollution, proxyPort: number): () => void {
  const defaults = axios.defaults as unknown as Record<string, unknown>;
  const keys = [
    'baseURL',
    'allowAbsoluteUrls',
    'params',
    'auth',
    'proxy',
    'timeout',
    'maxContentLength',
    'maxBodyLength',
    'validateStatus',
    'transformRequest',
    'transformResponse',
    'adapter',
    'httpAgent',
  ];
  const saved = new Map(keys.map((key) => [key, [key in defaults, defaults[key]] as const]));
  const sections = axios.defaults.headers as unknown as Record<string, Record<string, unknown>>;
  const savedHeaders = HEADER_SECTIONS.map((section) => [section, { ...sections[section] }] as const);

  for (const { section, name, value } of spec.headers) {
    sections[section][name] = value;
  }
  const set = (key: string, value: unknown) => {
    if (value !== undefined) {
      defaults[key] = value;
    }
  };
  set('baseURL', spec.baseURL);
  set('allowAbsoluteUrls', spec.allowAbsoluteUrls);
  set('params', spec.params);
  set('auth', spec.auth);
  set('proxy', spec.proxy ? { protocol: 'http', host: '127.0.0.1', port: proxyPort } : undefined);
  set('timeout', spec.timeout);
  set('maxContentLength', spec.maxContentLength);
  set('maxBodyLength', spec.maxBodyLength);
  set(
    'validateStatus',
    spec.validateStatus
      ? () => {
          calls.push('validateStatus');
          return false;
        }
      : undefined,
  );
  set(
    'transformRequest',
    spec.transformRequest
      ? [
          (data: unknown) => {
            calls.push('transformRequest');
            return typeof data === 'string' ? `${data}&transformed=1` : data;
          },
        ]
      : undefined,
  );
  set(
    'transformResponse',
    spec.transformResponse
      ? [
          () => {
            calls.push('transformResponse');
            return '{"active":false}';
          },
        ]
      : undefined,
  );
  const adapter: AxiosAdapter = () => {
    calls.push('adapter');
    return Promise.reject(new Error('the application adapter was used'));
  };
  set('adapter', spec.adapter ? adapter : undefined);
  if (spec.agent) {
    const agent = new Agent();
    const createConnection = agent.createConnection.bind(agent);
    agent.createConnection = ((...args: Parameters<typeof createConnection>) => {
      calls.push('httpAgent');
      return createConnection(...args);
    }) as typeof agent.createConnection;
    defaults.httpAgent = agent;
  }
  const requestIds = Array.from({ length: spec.requestInterceptors }, (_, index) =>
    axios.interceptors.request.use(
      (config: InternalAxiosRequestConfig) => {
        calls.push(`request interceptor ${index}`);
        config.headers.set('X-Intercepted', 'yes');
        return config;
      },
      undefined,
      { synchronous: index % 2 === 0 },
    ),
  );
  const responseIds = Array.from({ length: spec.responseInterceptors }, (_, index) =>
    axios.interceptors.response.use((response) => {
      calls.push(`response interceptor ${index}`);
      return response;
    }),
  );

  return () => {
    requestIds.forEach((id) => axios.interceptors.request.eject(id));
    responseIds.forEach((id) => axios.interceptors.response.eject(id));
    for (const [section, headers] of savedHeaders) {
      sections[section] = headers;
    }
    for (const [key, [present, value]] of saved) {
      if (present) {
        defaults[key] = value;
      } else {
        delete defaults[key];
      }
    }
  };
}

/** A received request as the property compares it. */
function seen(received: ReceivedRequest) {
  return { method: received.method, url: received.url, body: received.body, headers: received.headers };
}

describe('the module’s own HTTP client, property-based (Express)', () => {
  const server = new ScriptedIntrospectionServer();
  let url: string;
  let proxyPort: number;
  let baseline: ReturnType<typeof seen>;

  const startAt = () =>
    startApp('express', {
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url, { timeout: 2000, clientSecret: 's3cret' })],
          policy: { oauthResource: 'as' },
        }),
      ],
      controllers: [PrivateClientController],
    });
  const introspectOnce = async (app: INestApplication) => {
    server.reset();
    server.tokens.set(TOKEN, { active: true });
    const response = await request(app.getHttpServer()).get('/p').set('Authorization', `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(1);
    return seen(server.requests[0]);
  };

  beforeAll(async () => {
    url = await server.start();
    proxyPort = Number(new URL(await refusedUrl()).port);
    const app = await startAt();
    try {
      baseline = await introspectOnce(app);
    } finally {
      await app.close();
    }
  });
  afterAll(() => server.stop());

  it('sends exactly the request it sends with a clean axios, and calls none of the application’s hooks', async () => {
    await fc.assert(
      fc.asyncProperty(pollution, async (spec) => {
        calls.length = 0;
        let restore: (() => void) | undefined = spec.afterStart ? undefined : pollute(spec, proxyPort);
        const app = await startAt();
        try {
          restore ??= pollute(spec, proxyPort);
          expect(await introspectOnce(app)).toEqual(baseline);
          expect(calls).toEqual([]);
        } finally {
          restore?.();
          await app.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});

import { Controller, ExecutionContext, Get, UseGuards } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import fc from 'fast-check';
import { OAuth2Exception, OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { RecordingLogger } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 5, hostile input at the guard itself, below any HTTP parser: `Authorization` values and
 * request URLs of every code point (control characters, lone surrogates, line breaks: what HTTP/1.1
 * cannot carry but another transport or adapter may hand over). `canActivate` either allows the one
 * active token or rejects with an `OAuth2Exception`, and never with anything else. Issue 12: a token
 * outside RFC 6750's b64token syntax never reaches the authorization server.
 */

const ACTIVE = 'good-token';

@Controller('d')
@UseGuards(OAuth2Guard)
class DirectController {
  @Get('header')
  header() {
    return { ok: true };
  }

  @Get('query')
  @OAuth2Policy({ allowAccessTokenQueryParam: true })
  query() {
    return { ok: true };
  }
}

/** An HTTP execution context for a handler of DirectController, around a plain request object. */
function contextFor(handler: keyof DirectController, request: object): ExecutionContext {
  const http = { getRequest: () => request, getResponse: () => ({}), getNext: () => undefined };
  return {
    getType: () => 'http',
    getClass: () => DirectController,
    getHandler: () => DirectController.prototype[handler],
    getArgs: () => [request, {}, undefined],
    getArgByIndex: (index: number) => [request, {}, undefined][index],
    switchToHttp: () => http,
    switchToRpc: () => {
      throw new Error('not rpc');
    },
    switchToWs: () => {
      throw new Error('not ws');
    },
  } as unknown as ExecutionContext;
}

describe('OAuth2Guard.canActivate on hostile requests', () => {
  const server = new ScriptedIntrospectionServer();
  let moduleRef: TestingModule;
  let guard: OAuth2Guard;

  beforeAll(async () => {
    const url = await server.start();
    server.tokens.set(ACTIVE, { active: true, exp: Math.floor(Date.now() / 1000) + 3600 });
    moduleRef = await Test.createTestingModule({
      imports: [
        OAuth2Module.forRoot({
          resources: [{ name: 'as', type: 'generic', introspectionEndpoint: `${url}/introspect` }],
          policy: { oauthResource: 'as' },
        }),
      ],
      controllers: [DirectController],
    })
      .setLogger(new RecordingLogger())
      .compile();
    await moduleRef.init();
    guard = moduleRef.get(OAuth2Guard);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await server.stop();
  });

  /** Runs the guard; `true`, or the class name of what it threw. */
  async function outcome(handler: keyof DirectController, request: object): Promise<true | string> {
    try {
      return (await guard.canActivate(contextFor(handler, request))) === true ? true : 'false';
    } catch (error) {
      return error instanceof OAuth2Exception
        ? 'OAuth2Exception'
        : `${(error as Error)?.name}: ${(error as Error)?.message}`;
    }
  }

  const anyString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({
      unit: fc.constantFrom('\ud800', '\udfff', '\u0000', '\r', '\n', '\u2028', '\ufeff', ' ', '\t'),
      maxLength: 10,
    }),
  );
  const authorization = fc.oneof(
    anyString,
    anyString.map((rest) => `Bearer ${rest}`),
    anyString.map((rest) => `bearer\t${rest}`),
  );

  it('allows only the active token and rejects everything else with OAuth2Exception (headers of any code point)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(authorization, { maxLength: 3 }), async (values) => {
        const rawHeaders = values.flatMap((value) => ['Authorization', value]);
        const request = { headers: values.length ? { authorization: values[0] } : {}, rawHeaders };
        const result = await outcome('header', request);
        const firstBearer = values.find((value) => /^[ \t]*bearer([ \t]|$)/i.test(value));
        const allowed =
          firstBearer !== undefined &&
          firstBearer.replace(/^[ \t]*bearer[ \t]+/i, '').replace(/[ \t]+$/, '') === ACTIVE;
        expect(result).toBe(allowed ? true : 'OAuth2Exception');
      }),
      { numRuns: 300, plugins: [fc.interruptAfterTimeLimit(15_000)] },
    );
  });

  it('sends no token outside b64token to the authorization server, from a header or the query (any code point)', async () => {
    const b64token = /^[A-Za-z0-9\-._~+/]+=*$/;
    const tokenText = fc.oneof(anyString, fc.stringMatching(b64token, { maxLength: 30 }));
    const source = fc.oneof(
      tokenText.map((value) => ({ header: `Bearer ${value}`, value })),
      tokenText.map((value) => {
        // Form-encoded as a client would (a lone surrogate becomes U+FFFD); the value as it decodes.
        const query = new URLSearchParams({ access_token: value });
        return { query: `/d/query?${query}`, value: query.get('access_token') as string };
      }),
    );
    await fc.assert(
      fc.asyncProperty(source, async (sent) => {
        server.requests.length = 0;
        const request =
          'header' in sent
            ? { headers: { authorization: sent.header }, rawHeaders: ['Authorization', sent.header] }
            : { headers: {}, rawHeaders: [], url: sent.query };
        const result = await outcome('header' in sent ? 'header' : 'query', request);
        const token = sent.value.replace(/^[ \t]+|[ \t]+$/g, '');
        if (!b64token.test(token)) {
          expect(result).toBe('OAuth2Exception');
          expect(server.requests).toEqual([]);
        } else {
          expect(server.requests.map((received) => received.form.get('token'))).toEqual([token]);
        }
      }),
      { numRuns: 300, plugins: [fc.interruptAfterTimeLimit(15_000)] },
    );
  });

  it('rejects with OAuth2Exception whatever the URL holds, when tokens may come in the query', async () => {
    const query = fc.oneof(
      anyString.map((value) => `/d/query?access_token=${value}`),
      anyString.map((value) => `/d/query?${value}`),
      fc.constantFrom(
        '/d/query?access_token=%',
        '/d/query?access_token=%E0%A4%A',
        '/d/query?access_token=%00',
        '/d/query?access_token=&access_token=x',
      ),
    );
    await fc.assert(
      fc.asyncProperty(query, async (url) => {
        expect(await outcome('query', { headers: {}, rawHeaders: [], url })).toBe('OAuth2Exception');
      }),
      { numRuns: 200, plugins: [fc.interruptAfterTimeLimit(15_000)] },
    );
    expect(await outcome('query', { headers: {}, rawHeaders: [], url: `/d/query?access_token=${ACTIVE}` })).toBe(true);
  });

  it('rejects a request object without headers with OAUTH2_MISSING_HEADER (an adapter it cannot read), not a crash', async () => {
    expect(await outcome('header', { url: '/d/header' })).toBe('OAuth2Exception');
  });
});

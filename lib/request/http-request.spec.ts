import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import {
  type GuardedRequest,
  countRequestBearerValues,
  findRequestBearerCredential,
  firstAuthorizationValue,
  queryParamValues,
  removeAuthorizationHeaders,
  removeQueryParam,
  withoutQueryParam,
} from './http-request';

/** Node's message, as Express hands it over: headers (first value only) and raw headers. */
function expressRequest(...values: string[]) {
  return {
    headers: values.length ? { authorization: values[0], host: 'h' } : { host: 'h' },
    rawHeaders: ['Host', 'h', ...values.flatMap((value) => ['Authorization', value])],
  };
}

/** Fastify's request: headers of its own, Node's message in `raw`. */
function fastifyRequest(...values: string[]) {
  const raw = expressRequest(...values);
  return { headers: raw.headers, raw: raw as never };
}

describe('findRequestBearerCredential', () => {
  it.each([
    ['Express', expressRequest],
    ['Fastify', fastifyRequest],
  ])('reads the first Bearer value of the raw headers on %s, past another scheme', (_, make) => {
    expect(findRequestBearerCredential(make('Basic dXNlcjpwYXNz', 'Bearer first', 'Bearer second'))).toEqual({
      kind: 'token',
      token: 'first',
    });
  });

  it('tells a header without a token from no header at all', () => {
    expect(findRequestBearerCredential(expressRequest('Bearer '))).toEqual({ kind: 'no-token' });
    expect(findRequestBearerCredential(expressRequest())).toEqual({ kind: 'no-header' });
    expect(findRequestBearerCredential(expressRequest('Basic x'))).toEqual({ kind: 'no-header' });
  });

  it('matches the header name in any case, and no other header of the same length', () => {
    const request = { headers: {}, rawHeaders: ['AUTHORIZATIOX', 'Bearer not-this', 'aUtHoRiZaTiOn', 'Bearer this'] };
    expect(findRequestBearerCredential(request)).toEqual({ kind: 'token', token: 'this' });
    for (const name of ['authorization', 'Authorization', 'AUTHORIZATION']) {
      const spelled = { headers: {}, rawHeaders: ['Authorizatio', 'Bearer not-this', name, `Bearer ${name}`] };
      expect(findRequestBearerCredential(spelled)).toEqual({ kind: 'token', token: name });
    }
  });

  it('falls back to headers when a request has no raw headers', () => {
    expect(findRequestBearerCredential({ headers: { authorization: 'bearer abc' } })).toEqual({
      kind: 'token',
      token: 'abc',
    });
    expect(findRequestBearerCredential({ headers: {} })).toEqual({ kind: 'no-header' });
  });
});

describe('firstAuthorizationValue', () => {
  it.each([
    ['Express', expressRequest],
    ['Fastify', fastifyRequest],
  ])('gives the first Authorization value as written on %s, whatever its scheme', (_, make) => {
    expect(firstAuthorizationValue(make('Basic dXNlcjpwYXNz', 'Bearer first'))).toBe('Basic dXNlcjpwYXNz');
    expect(firstAuthorizationValue(make('bEaReR  tok ', 'Bearer second'))).toBe('bEaReR  tok ');
    expect(firstAuthorizationValue(make())).toBeUndefined();
  });

  it('matches the header name in any case, and falls back to headers without raw headers', () => {
    expect(firstAuthorizationValue({ headers: {}, rawHeaders: ['AUTHORIZATIOX', 'no', 'aUtHoRiZaTiOn', 'yes'] })).toBe(
      'yes',
    );
    expect(firstAuthorizationValue({ headers: { authorization: 'Bearer abc' } })).toBe('Bearer abc');
    expect(firstAuthorizationValue({ headers: {} })).toBeUndefined();
    // Not a string (an object some adapter built by hand): no value, rather than a wrong one.
    expect(firstAuthorizationValue({ headers: { authorization: ['Bearer a'] as never } })).toBeUndefined();
  });
});

describe('removeAuthorizationHeaders', () => {
  it('removes every Authorization value from headers and raw headers, on both platforms', () => {
    const express = expressRequest('Bearer a', 'Basic b');
    removeAuthorizationHeaders(express);
    expect(express).toEqual({ headers: { host: 'h' }, rawHeaders: ['Host', 'h'] });
    const fastify = fastifyRequest('Bearer a');
    removeAuthorizationHeaders(fastify);
    expect(fastify.headers).toEqual({ host: 'h' });
    expect((fastify.raw as { rawHeaders: string[] }).rawHeaders).toEqual(['Host', 'h']);
  });

  it("does not look for a raw message on Node's own (Express's request), whatever it carries", () => {
    const message = new IncomingMessage(new Socket());
    message.headers = { host: 'h', authorization: 'Bearer a' };
    message.rawHeaders.push('Host', 'h', 'Authorization', 'Bearer a');
    Object.defineProperty(message, 'raw', {
      get() {
        throw new Error('raw read');
      },
    });
    message.url = '/p?access_token=t&b=2';
    removeAuthorizationHeaders(message as GuardedRequest);
    removeQueryParam(message as GuardedRequest, 'access_token');
    expect([message.headers, message.rawHeaders, message.url]).toEqual([{ host: 'h' }, ['Host', 'h'], '/p?b=2']);
    message.url = '/p?access_token=u';
    expect(queryParamValues(message as GuardedRequest, 'access_token')).toEqual(['u']);
  });
});

describe('countRequestBearerValues', () => {
  it.each([
    ['Express', expressRequest],
    ['Fastify', fastifyRequest],
  ])('counts the Bearer values among the raw headers on %s, with or without a token', (_, make) => {
    expect(countRequestBearerValues(make())).toBe(0);
    expect(countRequestBearerValues(make('Basic x', 'Bearerabc'))).toBe(0);
    expect(countRequestBearerValues(make('Basic x', 'Bearer a'))).toBe(1);
    expect(countRequestBearerValues(make('Bearer a', 'bearer'))).toBe(2);
    expect(countRequestBearerValues(make('Bearer a', 'Basic x', 'BEARER b'))).toBe(2);
  });

  it('reads headers when a request has no raw headers', () => {
    expect(countRequestBearerValues({ headers: { authorization: 'Bearer a' } })).toBe(1);
    expect(countRequestBearerValues({ headers: { authorization: 'Basic a' } })).toBe(0);
    expect(countRequestBearerValues({ headers: {} })).toBe(0);
  });
});

describe('queryParamValues', () => {
  const values = (url: string | undefined) => queryParamValues({ headers: {}, url }, 'access_token');

  it('reads every value in order, form-decoded', () => {
    expect(values('/p?access_token=a&x=1&access_token=b%2Bc+d')).toEqual(['a', 'b+c d']);
    expect(values('/p?access%5Ftoken=a')).toEqual(['a']);
    expect(values('/p?access_token=')).toEqual(['']);
    expect(values('/p?access_token')).toEqual(['']);
  });

  it('finds none without a query, or under another name', () => {
    expect(values('/p')).toEqual([]);
    expect(values(undefined)).toEqual([]);
    expect(values('/p?access_tokens=a&xaccess_token=b&access_token%5B%5D=c')).toEqual([]);
  });

  it('reads a second "?" as part of the first name, as Express and Fastify do', () => {
    expect(values('/p??access_token=a')).toEqual([]);
  });

  it("reads Fastify's raw URL", () => {
    expect(queryParamValues({ headers: {}, raw: { url: '/p?access_token=a' } as never }, 'access_token')).toEqual([
      'a',
    ]);
  });
});

describe('withoutQueryParam', () => {
  const strip = (url: string) => withoutQueryParam(url, 'access_token');

  it('removes every parameter of the name, and keeps the others in order, byte for byte', () => {
    expect(strip('/p?z=%2F&access_token=t&a=b+c&e=&f&access_token=u&x=%E2%82%AC')).toBe(
      '/p?z=%2F&a=b+c&e=&f&x=%E2%82%AC',
    );
  });

  it('removes names that decode to it', () => {
    expect(strip('/p?access%5Ftoken=t&k=v&%61ccess_token=u')).toBe('/p?k=v');
  });

  it('keeps other names, a malformed escape included', () => {
    for (const url of [
      '/p?access_tokens=t',
      '/p?xaccess_token=t',
      '/p?access_token%5B%5D=t',
      '/p?access_token%=t',
      '/p?access+token=t',
      '/p??access_token=t',
      '/p?a=access_token',
      '/p',
      '/p?',
      '/p?&&',
    ]) {
      expect(strip(url)).toBe(url);
    }
  });

  it('drops the "?" when no parameter is left', () => {
    expect(strip('/p?access_token=t')).toBe('/p');
    expect(strip('/p?access_token=t&access_token')).toBe('/p');
  });

  it('keeps empty segments between the others', () => {
    expect(strip('/p?a=1&&access_token=t&&b=2')).toBe('/p?a=1&&&b=2');
  });

  it('takes linear time on a long query of empty segments', () => {
    const url = `/p?${'&'.repeat(200_000)}=x&access_token=t`;
    const started = Date.now();
    expect(strip(url)).toBe(`/p?${'&'.repeat(200_000)}=x`);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('removeQueryParam', () => {
  /** Express 5's request: url and originalUrl of its own, query a getter that parses url. */
  function expressLike(url: string) {
    return {
      headers: {},
      url,
      originalUrl: url,
      get query(): Record<string, string> {
        return Object.fromEntries(new URLSearchParams(this.url.slice(this.url.indexOf('?') + 1)));
      },
    };
  }

  /** Fastify's request: query parsed once; url a getter of raw.url; originalUrl read from raw once, then kept. */
  class FastifyLike {
    headers = {};
    query: Record<string, string>;
    private keptOriginalUrl?: string;
    constructor(readonly raw: { url: string; originalUrl?: string; query?: Record<string, string> }) {
      this.query = Object.fromEntries(new URLSearchParams(raw.url.slice(raw.url.indexOf('?') + 1)));
    }
    get url(): string {
      return this.raw.url;
    }
    get originalUrl(): string {
      this.keptOriginalUrl ??= this.raw.originalUrl ?? this.raw.url;
      return this.keptOriginalUrl;
    }
  }

  it('removes the parameter from url, originalUrl and query on Express', () => {
    const request = expressLike('/p?a=1&access_token=t&b=2');
    removeQueryParam(request, 'access_token');
    expect([request.url, request.originalUrl, request.query]).toEqual(['/p?a=1&b=2', '/p?a=1&b=2', { a: '1', b: '2' }]);
  });

  it('removes it from an own query object that middleware put on an Express request', () => {
    const request = { headers: {}, url: '/p?access_token=t&a=1', query: { access_token: 't', a: '1' } };
    removeQueryParam(request, 'access_token');
    expect(request).toEqual({ headers: {}, url: '/p?a=1', query: { a: '1' } });
  });

  it.each([
    ['before', true],
    ['after', false],
  ])('removes it everywhere on Fastify, originalUrl read %s', (_name, readFirst) => {
    const query = { access_token: 't', a: '1' };
    const raw = { url: '/p?access_token=t&a=1', originalUrl: '/p?access_token=t&a=1', query };
    const request = new FastifyLike(raw);
    request.query = query;
    if (readFirst) {
      expect(request.originalUrl).toBe('/p?access_token=t&a=1');
    }
    removeQueryParam(request as unknown as GuardedRequest, 'access_token');
    expect([request.url, request.originalUrl, raw.url, raw.originalUrl]).toEqual([
      '/p?a=1',
      '/p?a=1',
      '/p?a=1',
      '/p?a=1',
    ]);
    expect([request.query, raw.query]).toEqual([{ a: '1' }, { a: '1' }]);
  });

  it('leaves a request without the parameter as it is, its query object included', () => {
    const request = new FastifyLike({ url: '/p?a=1' });
    const before = request.query;
    removeQueryParam(request as unknown as GuardedRequest, 'access_token');
    expect([request.url, request.originalUrl, request.query]).toEqual(['/p?a=1', '/p?a=1', before]);
    expect(Object.getOwnPropertyNames(request)).not.toContain('originalUrl');
  });
});

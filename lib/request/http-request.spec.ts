import {
  countRequestBearerValues,
  findRequestBearerCredential,
  queryParamValues,
  removeAuthorizationHeaders,
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
  });

  it('falls back to headers when a request has no raw headers', () => {
    expect(findRequestBearerCredential({ headers: { authorization: 'bearer abc' } })).toEqual({
      kind: 'token',
      token: 'abc',
    });
    expect(findRequestBearerCredential({ headers: {} })).toEqual({ kind: 'no-header' });
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

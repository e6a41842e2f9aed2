import { findRequestBearerCredential, removeAuthorizationHeaders } from './http-request';

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

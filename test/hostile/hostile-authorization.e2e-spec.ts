import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { OAuth2Guard, OAuth2Module } from '../../lib';
import { epochSeconds } from '../support/e2e-kit';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { RawResponse, authorizationLine, rawGet } from '../support/raw-http';

/**
 * Issue 5, hostile input: arbitrary `Authorization` headers, sent as raw bytes (huge, unicode, control
 * characters, several spaces or tabs, several schemes, several header lines), property-based. Whatever
 * arrives, the answer is never a 500, never lets an inactive or expired token through, and follows the
 * contract (behaviour.md §2.4), modelled here independently of the library. Issue 12: a token outside
 * RFC 6750's b64token syntax is refused before introspection (behaviour.md §7).
 */

const ACTIVE = 'good-token';
const EXPIRED = 'expired-token';
/** What Node's parser may refuse in a header value (RFC 9110 field-value: no CTL but HTAB). */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** RFC 6750 §2.1 b64token, written from the RFC's grammar. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** What the guard should make of the Authorization values the server received. */
type Expected =
  { kind: 'no-header' } | { kind: 'no-token' } | { kind: 'token'; token: string } | { kind: 'dpop-without-proof' };

/** RFC 6750 §2.1 as behaviour.md §2.4 states it: the first Bearer value wins; the token is the rest, OWS-trimmed. */
function model(values: readonly string[]): Expected {
  for (const value of values) {
    const match = /^bearer(?:[ \t]+([\s\S]*))?$/i.exec(value);
    if (match) {
      const token = owsTrimmed(match[1] ?? '');
      return token ? { kind: 'token', token } : { kind: 'no-token' };
    }
  }
  // No Bearer value: the DPoP scheme (RFC 9449), which the default policy allows. Without a DPoP proof
  // header, such a token is refused before introspection; the scheme alone holds no token.
  for (const value of values) {
    const match = /^dpop(?:[ \t]+([\s\S]*))?$/i.exec(value);
    if (match) {
      const token = owsTrimmed(match[1] ?? '');
      return token ? { kind: 'dpop-without-proof' } : { kind: 'no-token' };
    }
  }
  return { kind: 'no-header' };
}

/** Spaces and tabs off both ends (Node's parser does this to header values). */
function owsTrimmed(value: string): string {
  const isOws = (char: string | undefined) => char === ' ' || char === '\t';
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value[start])) start += 1;
  while (end > start && isOws(value[end - 1])) end -= 1;
  return value.slice(start, end);
}

@Controller('h')
@UseGuards(OAuth2Guard)
class HostileController {
  @Get('open')
  open() {
    return { ok: true };
  }
}

/** Bytes of a header value: a string of code points up to 0xFF as latin1, above as UTF-8 (what a browser would send). */
function bytesOf(value: string): Buffer {
  return [...value].every((char) => char.charCodeAt(0) <= 0xff && char.length === 1)
    ? Buffer.from(value, 'latin1')
    : Buffer.from(value, 'utf8');
}

const scheme = fc.constantFrom(
  'Bearer',
  'bearer',
  'BEARER',
  'bEaReR',
  'Basic',
  'Digest',
  'DPoP',
  'Bearerx',
  'Bearer,',
  'Bear',
  '',
  'Token',
);
const separator = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 4 });
const tokenText = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(B64TOKEN, { maxLength: 60 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ACTIVE,
      EXPIRED,
      ` ${ACTIVE}`,
      `${ACTIVE}\t`,
      `${ACTIVE}, Basic eA==`,
      `${ACTIVE} ${ACTIVE}`,
      `${ACTIVE}\u00a0`,
      `\u00a0${ACTIVE}`,
      `${ACTIVE}\u0000`,
      'Bearer good-token',
      'a=b&token=good-token',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((length) => 'x'.repeat(length)) },
);
/** One Authorization value, as the bytes on the wire; `\r` and `\n` would end the line, so they are left out. */
const headerValue = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(separator, scheme, separator, tokenText, separator).map((parts) => parts.join('')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }) },
  )
  .map((value) => bytesOf(value.replace(/[\r\n]/g, '')));
const headerValues = fc.array(headerValue, { minLength: 0, maxLength: 4 });

describe.each(ADAPTERS)('hostile Authorization headers, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    const url = await server.start();
    server.tokens.set(ACTIVE, { active: true, sub: 'user-1', exp: epochSeconds() + 3600 });
    server.tokens.set(EXPIRED, { active: true, sub: 'user-2', exp: epochSeconds() - 3600 });
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            {
              name: 'as',
              type: 'generic',
              introspectionEndpoint: `${url}/introspect`,
              clientId: 'api',
              clientSecret: 's',
            },
          ],
          policy: { oauthResource: 'as' },
        }),
      ],
      controllers: [HostileController],
    });
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  /** Checks one answer against the model; returns a description of what was wrong, or nothing. */
  function judge(values: readonly Buffer[], response: RawResponse): void {
    const introspected = server.requestsTo('/introspect').map((received) => received.form.get('token'));
    expect(response.status).not.toBeGreaterThanOrEqual(500);
    const received = values.map((value) => owsTrimmed(value.toString('latin1')));
    const tooLarge = values.reduce((sum, value) => sum + value.length, 0) > 16 * 1024 - 200;
    // Node's own parser may refuse before any guard runs: a control character (400), or headers over its limit (431).
    if (
      (response.status === 400 && received.some((value) => CTL.test(value))) ||
      (response.status === 431 && tooLarge)
    ) {
      expect(response.body).not.toContain('OAUTH2_');
      expect(introspected).toEqual([]);
      return;
    }
    const expected = model(received);
    const body = JSON.parse(response.body) as { key?: string; ok?: boolean };
    switch (expected.kind) {
      case 'no-header':
        expect([response.status, body.key]).toEqual([401, 'OAUTH2_MISSING_HEADER']);
        expect(introspected).toEqual([]);
        return;
      case 'no-token':
        expect([response.status, body.key]).toEqual([401, 'OAUTH2_MISSING_ACCESS_TOKEN']);
        expect(introspected).toEqual([]);
        return;
      case 'dpop-without-proof':
        expect([response.status, body.key]).toEqual([401, 'OAUTH2_INVALID_ACCESS_TOKEN']);
        expect(introspected).toEqual([]);
        return;
      case 'token':
        if (!B64TOKEN.test(expected.token)) {
          // Malformed: refused before the authorization server hears of it.
          expect([response.status, body.key]).toEqual([401, 'OAUTH2_INVALID_ACCESS_TOKEN']);
          expect(introspected).toEqual([]);
          return;
        }
        // Exactly the presented token is introspected, every character kept (URL-encoded on the way).
        expect(introspected).toEqual([expected.token]);
        if (expected.token === ACTIVE) {
          expect([response.status, body]).toEqual([200, { ok: true }]);
        } else {
          expect([response.status, body.key]).toEqual([401, 'OAUTH2_INVALID_ACCESS_TOKEN']);
        }
    }
  }

  it('answers every header per the contract, never 500, never through for an inactive or expired token', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(headerValues, async (values) => {
        runs += 1;
        server.requests.length = 0;
        const response = await rawGet(port, '/h/open', values.map(authorizationLine));
        judge(values, response);
      }),
      { numRuns: 300, plugins: [fc.interruptAfterTimeLimit(20_000)] },
    );
    expect(runs).toBeGreaterThanOrEqual(100);
  });

  it.each<[string, Buffer[]]>([
    ['a 12 KiB token', [Buffer.from(`Bearer ${'t'.repeat(12 * 1024)}`)]],
    ['a 20 KiB token (over Node’s header limit)', [Buffer.from(`Bearer ${'t'.repeat(20 * 1024)}`)]],
    ['UTF-8 bytes in the token', [Buffer.from('Bearer jeton-été-🔑', 'utf8')]],
    ['a NUL in the token', [Buffer.from('Bearer abc\u0000def', 'latin1')]],
    ['a DEL in the token', [Buffer.from('Bearer abc\u007fdef', 'latin1')]],
    ['an escape sequence in the token', [Buffer.from('Bearer \u001b[31mred', 'latin1')]],
    ['tabs and spaces between scheme and token', [Buffer.from(`Bearer \t \t${ACTIVE}`, 'latin1')]],
    ['a non-breaking space before the token (not a separator)', [Buffer.from(`Bearer\u00a0${ACTIVE}`, 'latin1')]],
    ['a non-breaking space after the token (part of it)', [Buffer.from(`Bearer ${ACTIVE}\u00a0`, 'latin1')]],
    ['two schemes in one value', [Buffer.from(`Basic eA==, Bearer ${ACTIVE}`, 'latin1')]],
    [
      'Basic, then Bearer, in two lines',
      [Buffer.from('Basic eA==', 'latin1'), Buffer.from(`Bearer ${ACTIVE}`, 'latin1')],
    ],
    [
      'an inactive Bearer, then the active one',
      [Buffer.from('Bearer nope', 'latin1'), Buffer.from(`Bearer ${ACTIVE}`, 'latin1')],
    ],
    ['the expired token', [Buffer.from(`Bearer ${EXPIRED}`, 'latin1')]],
    ['an empty header', [Buffer.alloc(0)]],
  ])('handles %s', async (_name, values) => {
    server.requests.length = 0;
    const response = await rawGet(port, '/h/open', values.map(authorizationLine));
    judge(values, response);
  });
});

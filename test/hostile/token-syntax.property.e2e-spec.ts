import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { OAuth2Guard, OAuth2Module, OAuth2Policy } from '../../lib';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { authorizationLine, rawGet } from '../support/raw-http';

/**
 * Issue 12, point 5, property-based, over HTTP on Express and Fastify: a token inside RFC 6750's
 * b64token syntax reaches the authorization server exactly as presented, whether the resource sends
 * it in a form field or in a header; a token outside it never reaches the server. Tokens come from the
 * `Authorization` header and from the `access_token` query parameter. The model is the RFC's grammar,
 * written here as a regular expression, independently of the library's loop.
 */

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_HEADER = 'x-introspect-token';

@Controller('t')
@UseGuards(OAuth2Guard)
class SyntaxController {
  @Get('form')
  @OAuth2Policy({ allowAccessTokenQueryParam: true })
  form() {
    return { ok: true };
  }

  @Get('header')
  @OAuth2Policy({ allowAccessTokenQueryParam: true, oauthResource: 'as-header' })
  header() {
    return { ok: true };
  }
}

/** Strings that are, mostly, one character away from a b64token, and any string at all. */
const nearToken = fc.oneof(
  fc.stringMatching(B64TOKEN, { maxLength: 40 }),
  fc
    .tuple(
      fc.stringMatching(B64TOKEN, { maxLength: 20 }),
      fc.constantFrom(' ', ',', '"', ';', '=', '\u00a0', '\u20ac', '\u00e9', '\\', '%', '@', ':', '\t', '*', '?', '#'),
      fc.stringMatching(/^[A-Za-z0-9=]*$/, { maxLength: 10 }),
    )
    .map((parts) => parts.join('')),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** Spaces and tabs off both ends, as the guard trims a query token (and Node a header value). */
function owsTrimmed(value: string): string {
  return value.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
}

describe.each(ADAPTERS)('token syntax, property-based, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    const url = await server.start();
    // Every token is active: what matters is which token arrived.
    server.script = () => ({ status: 200, body: { active: true } });
    app = await startApp(adapter, {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            genericResource('as', url),
            genericResource('as-header', url, {
              tokenIsSuppliedByHttpHeader: true,
              tokenIsSuppliedByFormUrlEncoded: false,
              tokenHeaderName: TOKEN_HEADER,
            }),
          ],
          policy: { oauthResource: 'as' },
        }),
      ],
      controllers: [SyntaxController],
    });
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  /** The tokens the server received: the form field, else the header (decoded as Node decodes it, latin-1). */
  const introspected = () =>
    server.requests.map((received) => received.form.get('token') ?? received.headers[TOKEN_HEADER]);

  it('introspects a query token exactly when it is a b64token, and then unaltered', async () => {
    await fc.assert(
      fc.asyncProperty(nearToken, fc.constantFrom('form', 'header'), async (value, route) => {
        server.requests.length = 0;
        const response = await rawGet(port, `/t/${route}?access_token=${encodeURIComponent(value)}`, []);
        const token = owsTrimmed(value);
        if (token === '') {
          expect(response.status).toBe(401);
          expect(JSON.parse(response.body).key).toBe('OAUTH2_MISSING_ACCESS_TOKEN');
          expect(introspected()).toEqual([]);
        } else if (B64TOKEN.test(token)) {
          expect(response.status).toBe(200);
          expect(introspected()).toEqual([token]);
        } else {
          expect(response.status).toBe(401);
          expect(JSON.parse(response.body).key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
          expect(introspected()).toEqual([]);
        }
      }),
      { numRuns: 300, plugins: [fc.interruptAfterTimeLimit(20_000)] },
    );
  });

  it('introspects a header token exactly when it is a b64token, and then unaltered', async () => {
    // Characters a header line can carry (no CR, LF or other control characters but the tab), as bytes.
    const headerToken = nearToken.map((value) => value.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')); // eslint-disable-line no-control-regex
    await fc.assert(
      fc.asyncProperty(headerToken, fc.constantFrom('form', 'header'), async (value, route) => {
        server.requests.length = 0;
        const bytes = Buffer.from(`Bearer ${value}`, 'utf8');
        const response = await rawGet(port, `/t/${route}`, [authorizationLine(bytes)]);
        // What the guard sees: Node decodes header bytes as latin-1.
        const token = owsTrimmed(bytes.toString('latin1').slice('Bearer '.length));
        if (token === '') {
          expect(JSON.parse(response.body).key).toBe('OAUTH2_MISSING_ACCESS_TOKEN');
          expect(introspected()).toEqual([]);
        } else if (B64TOKEN.test(token)) {
          expect(response.status).toBe(200);
          expect(introspected()).toEqual([token]);
        } else {
          expect(response.status).toBe(401);
          expect(JSON.parse(response.body).key).toBe('OAUTH2_INVALID_ACCESS_TOKEN');
          expect(introspected()).toEqual([]);
        }
      }),
      { numRuns: 300, plugins: [fc.interruptAfterTimeLimit(20_000)] },
    );
  });

  it('reaches the server unaltered for every b64token, long ones included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.stringMatching(B64TOKEN, { maxLength: 60 }),
          fc.stringMatching(B64TOKEN, { maxLength: 4000, size: 'max' }),
        ),
        fc.constantFrom('form', 'header'),
        fc.boolean(),
        async (token, route, inQuery) => {
          server.requests.length = 0;
          const response = inQuery
            ? await rawGet(port, `/t/${route}?access_token=${encodeURIComponent(token)}`, [])
            : await rawGet(port, `/t/${route}`, [authorizationLine(Buffer.from(`Bearer ${token}`, 'latin1'))]);
          expect(response.status).toBe(200);
          expect(introspected()).toEqual([token]);
        },
      ),
      { numRuns: 200, plugins: [fc.interruptAfterTimeLimit(20_000)] },
    );
  });
});

import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import fc from 'fast-check';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2ConfigurationError, OAuth2Guard, OAuth2Module, type OAuth2ModuleOptions } from '../../lib';
import { validateModuleOptions } from '../../lib/options/validate-options';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';

/**
 * Issue 12, point 3, property-based: a response template whose body is an object (sent as JSON) under
 * a Content-Type that is not JSON is refused at start-up. For arbitrary templates (a string, object or
 * no body; a Content-Type header named in any case, of many media types in any case, with parameters,
 * `+json` and other suffixes, spaces), the option validator refuses exactly the templates an
 * independent model of RFC 6839 says are contradictory (hundreds of runs, no application); and for a
 * small sample of the accepted ones, real Express and Fastify applications answer byte for byte the
 * same (status, Content-Type, body).
 */

@Controller('t')
@UseGuards(OAuth2Guard)
class TemplateController {
  @Get()
  open() {
    return { ok: true };
  }
}

interface Template {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Record<string, unknown>;
}

const contentTypeName = fc.constantFrom('Content-Type', 'content-type', 'CONTENT-TYPE', 'Content-type');
const mediaType = fc
  .tuple(
    fc.constantFrom(
      'application/json',
      'application/problem+json',
      'application/vnd.api+json',
      'application/hal+json',
      'text/json',
      'application/json-seq',
      'application/jsonx',
      'application/xml',
      'application/problem+xml',
      'text/plain',
      'text/html',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'application/+json',
      'json',
      '',
    ),
    fc.boolean(),
    fc.constantFrom('', '; charset=utf-8', ';charset=UTF-8', '; charset="utf-8"', '; profile=x; q=1', ';'),
    fc.constantFrom('', ' ', '  '),
  )
  .map(([type, upper, parameters, space]) => `${space}${upper ? type.toUpperCase() : type}${parameters}`);

const template: fc.Arbitrary<Template> = fc.record(
  {
    status: fc.constantFrom(200, 400, 401, 403, 418, 429, 500, 503),
    headers: fc
      .tuple(
        fc.option(fc.tuple(contentTypeName, mediaType), { nil: undefined }),
        fc.option(fc.stringMatching(/^[a-z0-9 ._-]{0,12}$/), { nil: undefined }),
      )
      .map(([contentType, extra]) => ({
        ...(contentType && { [contentType[0]]: contentType[1] }),
        ...(extra !== undefined && { 'X-Extra': extra }),
      })),
    body: fc.oneof(
      // Without `{{`: placeholders ({{key}}, ...) are another property's subject, and unknown ones stop the start.
      fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => text.replaceAll('{{', '{ {')),
      fc
        .dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
        .map((body) => JSON.parse(JSON.stringify(body).replaceAll('{{', '{ {')) as Record<string, unknown>),
    ),
  },
  { requiredKeys: [] },
);

/** The model: RFC 6839's `+json` suffix or application/json, case and parameters aside. */
function isJsonMediaType(value: string): boolean {
  const [type] = value.split(';');
  const essence = type.trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0 || slash === essence.length - 1 || essence.indexOf('/', slash + 1) >= 0 || /\s/.test(essence)) {
    return false;
  }
  const subtype = essence.slice(slash + 1);
  return essence === 'application/json' || (subtype.endsWith('+json') && subtype.length > '+json'.length);
}

function contentTypeOf(spec: Template): string | undefined {
  return Object.entries(spec.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
}

/**
 * The model of RFC 9110's media-type (§8.3.1), written apart from the validator's: `type/subtype`, then
 * `; name=value` parameters (a token or a quoted string), around optional spaces and tabs.
 */
function isMediaType(value: string): boolean {
  const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
  const [essence, ...parameters] = value.replace(/^[ \t]+|[ \t]+$/g, '').split(';');
  const [type, subtype, ...more] = essence.replace(/[ \t]+$/, '').split('/');
  if (more.length > 0 || !token.test(type ?? '') || !token.test(subtype ?? '')) {
    return false;
  }
  return parameters.every((parameter) => {
    const trimmed = parameter.replace(/^[ \t]+|[ \t]+$/g, '');
    const equals = trimmed.indexOf('=');
    if (equals <= 0) {
      return false;
    }
    const [name, content] = [trimmed.slice(0, equals), trimmed.slice(equals + 1)];
    return token.test(name) && (token.test(content) || /^"([^"\\]|\\.)*"$/.test(content));
  });
}

/**
 * The field a template is refused for, or `undefined` when it is accepted: a Content-Type that is not a
 * media type; else an object body, or none (the key's default JSON body), under a non-JSON Content-Type.
 */
function refusedField(spec: Template): string | undefined {
  const contentType = contentTypeOf(spec);
  if (contentType === undefined) {
    return undefined;
  }
  if (!isMediaType(contentType)) {
    return "responseTemplates.OAUTH2_MISSING_HEADER['*/*'].headers";
  }
  return typeof spec.body !== 'string' && !isJsonMediaType(contentType)
    ? "responseTemplates.OAUTH2_MISSING_HEADER['*/*'].body"
    : undefined;
}

function contradictory(spec: Template): boolean {
  return refusedField(spec) !== undefined;
}

function optionsWith(spec: Template, url = 'http://127.0.0.1:9'): OAuth2ModuleOptions {
  return {
    resources: [genericResource('as', url)],
    policy: { oauthResource: 'as' },
    responseTemplates: { OAUTH2_MISSING_HEADER: { '*/*': spec } },
  };
}

/**
 * The templates compared across platforms: all of them. Those the validator refuses must stop both
 * starts; the others must answer the same on both (the filter serializes object bodies itself, so that
 * no platform relabels or refuses them).
 */
const platformTemplate = template;

/** Status, Content-Type and the body's bytes of a GET without credentials. */
function answer(app: INestApplication): Promise<{ status: number; contentType: unknown; body: string }> {
  const { port } = app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const call = httpGet({ host: '127.0.0.1', port, path: '/t', agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          body: Buffer.concat(chunks).toString('hex'),
        }),
      );
      response.on('error', reject);
    });
    call.setTimeout(5000, () => call.destroy(new Error('no answer within 5 s')));
    call.on('error', reject);
  });
}

/**
 * A Content-Type as its meaning: the media type in lower case, then its parameters with quotes taken off
 * and the charset's value in lower case, `charset=utf-8` left out (the body's bytes are compared
 * exactly). The platforms format parameters each their own way once the header is handed to them:
 * Express rewrites `;charset=UTF-8` as `; charset=utf-8` and adds `charset=utf-8` to any string body
 * (`application/octet-stream` included), Fastify quotes values (`profile="x"`).
 */
function canonical(value: unknown): unknown {
  if (typeof value !== 'string') {
    return value;
  }
  const [essence, ...parameters] = value.split(';');
  const parsed = parameters
    .map((parameter) => parameter.trim())
    .filter((parameter) => parameter !== '')
    .map((parameter) => {
      const equals = parameter.indexOf('=');
      const name = parameter
        .slice(0, equals < 0 ? undefined : equals)
        .trim()
        .toLowerCase();
      const raw =
        equals < 0
          ? ''
          : parameter
              .slice(equals + 1)
              .trim()
              .replace(/^"(.*)"$/, '$1');
      return `${name}=${name === 'charset' ? raw.toLowerCase() : raw}`;
    })
    .filter((parameter) => parameter !== 'charset=utf-8');
  return [essence.trim().toLowerCase(), ...parsed].join('; ');
}

describe('response templates, property-based', () => {
  it('the validator refuses exactly the Content-Types that are not media types, and object or missing bodies under a non-JSON one', () => {
    fc.assert(
      fc.property(template, (spec) => {
        let refused: unknown;
        try {
          validateModuleOptions(optionsWith(spec));
        } catch (error) {
          refused = error;
        }
        const field = refusedField(spec);
        if (field !== undefined) {
          expect(refused).toBeInstanceOf(OAuth2ConfigurationError);
          expect((refused as Error).message).toContain(field);
        } else {
          expect(refused).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('an accepted template answers the same bytes on Express and Fastify; a refused one stops both starts', async () => {
    await fc.assert(
      fc.asyncProperty(platformTemplate, async (spec) => {
        const answers = [];
        for (const adapter of ADAPTERS) {
          let app: INestApplication | undefined;
          try {
            app = await startApp(adapter, {
              imports: [OAuth2Module.forRoot(optionsWith(spec))],
              controllers: [TemplateController],
            });
          } catch (error) {
            expect(error).toBeInstanceOf(OAuth2ConfigurationError);
            expect(contradictory(spec)).toBe(true);
            continue;
          }
          try {
            expect(contradictory(spec)).toBe(false);
            answers.push(await answer(app));
          } finally {
            await app.close();
          }
        }
        if (answers.length === 2) {
          expect({ ...answers[1], contentType: canonical(answers[1].contentType) }).toEqual({
            ...answers[0],
            contentType: canonical(answers[0].contentType),
          });
        }
      }),
      { numRuns: 15 },
    );
  });
});

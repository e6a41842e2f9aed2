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
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
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

function contradictory(spec: Template): boolean {
  const contentType = contentTypeOf(spec);
  return typeof spec.body === 'object' && contentType !== undefined && !isJsonMediaType(contentType);
}

function optionsWith(spec: Template, url = 'http://127.0.0.1:9'): OAuth2ModuleOptions {
  return {
    resources: [genericResource('as', url)],
    policy: { oauthResource: 'as' },
    responseTemplates: { OAUTH2_MISSING_HEADER: { '*/*': spec } },
  };
}

/**
 * The templates compared across platforms: those whose Content-Type, if any, is a media type
 * (`type/subtype`) with `name=value` parameters. The validator accepts others, which the platforms
 * render differently: Express looks `json` up as a file extension and sends `application/json`,
 * Fastify does not; an empty parameter (`application/json;`, which RFC 9110 allows) makes Express
 * 5.2's `res.json()` throw, and the answer is a 500 with an HTML stack trace (Nest 11 leg). And
 * templates without a body under a non-JSON Content-Type (below). All left to the validator's owner:
 * reported with this test.
 */
const platformTemplate = template.filter((spec) => {
  const contentType = contentTypeOf(spec);
  return (
    contentType === undefined ||
    (/^[^\s/;]+\/[^\s/;]+(\s*;\s*[^\s;=]+=[^\s;]+)*$/.test(contentType.trim()) &&
      // Without a body, the key's default JSON body goes under the template's Content-Type, which the
      // validator does not check: under a non-JSON type Fastify answers 500 ("Attempted to send payload
      // of invalid type 'object'"), Express sends JSON labelled otherwise. Reported, not judged here.
      !(spec.body === undefined && !isJsonMediaType(contentType)) &&
      !relabelledByNest11Express(spec, contentType))
  );
});

/**
 * Nest 11's ExpressAdapter.reply() (11.2) sets `Content-Type: application/json` over any Content-Type
 * that does not start with `application/json` when it sends an object with an error status: a template
 * with `application/problem+json` (or `APPLICATION/JSON`) goes out as `application/json` on Express,
 * as the template says on Fastify. Reported, not judged here.
 */
function relabelledByNest11Express(spec: Template, contentType: string): boolean {
  return (
    process.env.OAUTH2_TEST_NEST === '11' &&
    typeof spec.body !== 'string' &&
    (spec.status ?? 401) >= 400 &&
    !contentType.startsWith('application/json')
  );
}

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
  it('the validator refuses exactly the object bodies under a non-JSON Content-Type', () => {
    fc.assert(
      fc.property(template, (spec) => {
        let refused: unknown;
        try {
          validateModuleOptions(optionsWith(spec));
        } catch (error) {
          refused = error;
        }
        if (contradictory(spec)) {
          expect(refused).toBeInstanceOf(OAuth2ConfigurationError);
          expect((refused as Error).message).toContain("responseTemplates.OAUTH2_MISSING_HEADER['*/*'].body");
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

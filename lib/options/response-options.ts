import { isJsonObject } from '../common/is-json-object';
import { ERROR_PROFILES } from '../errors/error-profiles';
import { OAUTH2_ERROR_KEYS, type OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../errors/template-placeholders';
import type { OAuth2ErrorProfile } from '../interfaces/module-options.interface';
import type { OAuth2ResponseTemplate } from '../interfaces/response-template.interface';
import { type OptionProblem, describeValue, isHeaderName, unknownKeys } from './option-problem';

/*
 * The options that shape a rejection's answer: `responseTemplates`, `realm`, `errorProfile` and
 * `retryAfterSeconds`.
 */

const TEMPLATE_OPTION_NAMES = ['status', 'headers', 'body'];
/** Characters a quoted-string of `WWW-Authenticate` cannot carry safely. */
const UNSAFE_REALM = /["\\\r\n]/;

/** Problems of the `realm` option, the `WWW-Authenticate` header's. */
export function realmProblems(realm: unknown): OptionProblem[] {
  if (realm !== undefined && (typeof realm !== 'string' || realm === '' || UNSAFE_REALM.test(realm))) {
    return [{ field: 'realm', problem: 'must be a non-empty string without quotes, backslashes or line breaks.' }];
  }
  return [];
}

/** Problems of the `errorProfile` and `retryAfterSeconds` options. */
export function errorProfileProblems(profile: unknown, retryAfterSeconds: unknown): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (profile !== undefined && !ERROR_PROFILES.includes(profile as OAuth2ErrorProfile)) {
    problems.push({
      field: 'errorProfile',
      problem: `must be one of ${ERROR_PROFILES.map((name) => `'${name}'`).join(', ')} (got ${describeValue(profile)}). See docs/errors.md for what each answers.`,
    });
  }
  if (
    retryAfterSeconds !== undefined &&
    !(
      typeof retryAfterSeconds === 'number' &&
      Number.isInteger(retryAfterSeconds) &&
      retryAfterSeconds >= 1 &&
      retryAfterSeconds <= 86_400
    )
  ) {
    problems.push({
      field: 'retryAfterSeconds',
      problem: `must be an integer number of seconds from 1 to 86400 (got ${describeValue(retryAfterSeconds)}).`,
    });
  }
  return problems;
}

/** Problems of the `responseTemplates` option. */
export function responseTemplatesProblems(raw: unknown): OptionProblem[] {
  if (raw === undefined) {
    return [];
  }
  if (!isJsonObject(raw)) {
    return [
      {
        field: 'responseTemplates',
        problem: 'must be an object keyed by error key, e.g. { OAUTH2_MISSING_HEADER: { ... } }.',
      },
    ];
  }
  const problems: OptionProblem[] = [];
  for (const [key, byMediaType] of Object.entries(raw)) {
    const field = `responseTemplates.${key}`;
    if (!OAUTH2_ERROR_KEYS.includes(key as OAuth2ErrorKey)) {
      problems.push({ field, problem: `is not an error key. The keys are: ${OAUTH2_ERROR_KEYS.join(', ')}.` });
      continue;
    }
    if (!isJsonObject(byMediaType)) {
      problems.push({
        field,
        problem: "must be an object keyed by media type, e.g. { 'application/json': { status: 401 } }.",
      });
      continue;
    }
    for (const [mediaType, template] of Object.entries(byMediaType)) {
      problems.push(...singleTemplateProblems(template, `${field}['${mediaType}']`, mediaType));
    }
  }
  return problems;
}

function singleTemplateProblems(template: unknown, field: string, mediaType: string): OptionProblem[] {
  if (!/^[^\s/]+\/[^\s/]+$/.test(mediaType)) {
    return [{ field, problem: "is not a media type: use a key such as 'application/json', 'text/*' or '*/*'." }];
  }
  if (!isJsonObject(template)) {
    return [{ field, problem: 'must be an object { status?, headers?, body? }.' }];
  }
  const problems = unknownKeys(template, TEMPLATE_OPTION_NAMES, field, 'an option of a response template');
  const { status, headers, body } = template as OAuth2ResponseTemplate;
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    problems.push({ field: `${field}.status`, problem: 'must be an HTTP status, an integer from 200 to 599.' });
  }
  if (headers !== undefined) {
    if (!isJsonObject(headers)) {
      problems.push({ field: `${field}.headers`, problem: 'must be an object of header names to string values.' });
    } else {
      for (const [name, value] of Object.entries(headers)) {
        if (!isHeaderName(name) || typeof value !== 'string' || /[\r\n]/.test(value)) {
          problems.push({
            field: `${field}.headers['${name}']`,
            problem: 'must be a valid header name with a one-line string value.',
          });
        }
      }
    }
  }
  if (body !== undefined && typeof body !== 'string' && !isJsonObject(body)) {
    problems.push({ field: `${field}.body`, problem: 'must be a string, or an object to send as JSON.' });
  }
  for (const unknown of unknownPlaceholders(body, `${field}.body`)) {
    problems.push({
      field: unknown.field,
      problem: `uses {{${unknown.name}}}, which is not a placeholder: use ${TEMPLATE_PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ')}, or write the braces otherwise.`,
    });
  }
  const contentTypeHeader = isJsonObject(headers) ? headerEntry(headers, 'content-type') : undefined;
  const contentType = contentTypeHeader?.[1];
  if (typeof contentType === 'string' && !isMediaType(contentType)) {
    // Express and Fastify read such a value each their own way (`json` is a file extension to Express), and an
    // empty parameter (`application/json;`) makes Express 5.2's res.json() throw: a 500 with a stack trace.
    problems.push({
      field: `${field}.headers['${contentTypeHeader?.[0]}']`,
      problem: `is not a media type (RFC 9110 §8.3.1): write type/subtype, with parameters as ; name=value (got ${describeValue(contentType)}).`,
    });
  } else if (typeof contentType === 'string' && !isJsonMediaType(contentType) && typeof body !== 'string') {
    // An object body is serialized as JSON, and so is the key's default body when the template has none:
    // under another content type Fastify refuses to send it (500) and Express sends JSON under the wrong
    // label. Without a Content-Type header it goes as application/json.
    problems.push({
      field: `${field}.body`,
      problem:
        body === undefined
          ? `is missing, so the key's default JSON body would be sent, but the template's Content-Type is ${describeValue(contentType)}: give a string body, or a JSON content type (application/json, or one ending in +json).`
          : `is an object, which is sent as JSON, but the template's Content-Type is ${describeValue(contentType)}: give a string body, or a JSON content type (application/json, or one ending in +json).`,
    });
  }
  return problems;
}

/** RFC 9110 §5.6.2 token. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** RFC 9110 §5.6.4 quoted-string. */
const QUOTED_STRING = '"(?:[\\t \\x21\\x23-\\x5B\\x5D-\\x7E\\x80-\\xFF]|\\\\[\\t \\x21-\\x7E\\x80-\\xFF])*"';
/** RFC 9110 §8.3.1 media-type: `type "/" subtype *( OWS ";" OWS parameter )`, around optional whitespace. */
const MEDIA_TYPE = new RegExp(
  `^[ \\t]*${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))*[ \\t]*$`,
);

function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

function headerEntry(headers: Record<string, unknown>, name: string): [string, unknown] | undefined {
  return Object.entries(headers).find(([header]) => header.toLowerCase() === name);
}

/** `application/json` or a `+json` structured syntax suffix (RFC 6839), parameters aside. */
function isJsonMediaType(contentType: string): boolean {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || /^[^\s/]+\/[^\s/]+\+json$/.test(mediaType);
}

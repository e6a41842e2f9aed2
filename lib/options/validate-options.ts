import { plainToInstance } from 'class-transformer';
import { type ValidationError, getMetadataStorage, validateSync } from 'class-validator';
import { isAsyncFunction } from '../common/is-async-function';
import { isJsonObject } from '../common/is-json-object';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, DEFAULT_REALM } from '../oauth2.constants';
import { DEFAULT_RETRY_AFTER_SECONDS, ERROR_PROFILES } from '../errors/error-profiles';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../errors/template-placeholders';
import { OAUTH2_ERROR_KEYS, type OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type {
  OAuth2CacheResourceOptions,
  ResolvedOAuth2CacheResourceOptions,
} from '../interfaces/cache-options.interface';
import type { OAuth2ErrorProfile, OAuth2ModuleOptions } from '../interfaces/module-options.interface';
import type { OAuth2PolicyOptions, ResolvedOAuth2Policy } from '../interfaces/policy-options.interface';
import type { OAuth2ResourceOptions } from '../interfaces/resource-options.interface';
import type { OAuth2ResponseTemplate, OAuth2ResponseTemplates } from '../interfaces/response-template.interface';
import type { ResolvedOAuth2TransportOptions } from '../interfaces/transport-options.interface';
import {
  CacheModuleCacheSchema,
  MemoryCacheSchema,
  RedisCacheSchema,
  StoreCacheSchema,
  injectionTokenProblems,
  memoryCacheProblems,
  presenceOnly,
  redisConnectionProblems,
  resolveCacheOptions,
  storeProblems,
} from './cache-options.schema';
import { httpClientOptionProblems } from './http-client-options';
import { PolicySchema } from './policy-options.schema';
import {
  type ResolvedProtectedResource,
  protectedResourceProblems,
  resolveProtectedResource,
} from './protected-resource.schema';
import { resolveTransportOptions, transportOptionProblems } from './transport-options';
import {
  GenericResourceSchema,
  GraviteeAmResourceSchema,
  isHeaderName,
  tlsOptionProblems,
} from './resource-options.schema';

/** A problem found in the options: the field's path and what is wrong with it. */
export interface OptionProblem {
  field: string;
  problem: string;
}

/** The module's options after validation, with the defaults applied. */
export interface ResolvedOAuth2ModuleOptions {
  readonly resources: readonly OAuth2ResourceOptions[];
  readonly caches: readonly ResolvedOAuth2CacheResourceOptions[];
  readonly policy: ResolvedOAuth2Policy;
  readonly responseTemplates: OAuth2ResponseTemplates;
  readonly realm: string;
  readonly errorProfile: OAuth2ErrorProfile;
  readonly retryAfterSeconds: number;
  readonly transports: ResolvedOAuth2TransportOptions;
  /** RFC 9728 metadata, when `protectedResource` is set. */
  readonly protectedResource?: ResolvedProtectedResource;
}

const MODULE_OPTION_NAMES = [
  'resources',
  'caches',
  'policy',
  'responseTemplates',
  'realm',
  'errorProfile',
  'retryAfterSeconds',
  'transports',
  'protectedResource',
];
const TEMPLATE_OPTION_NAMES = ['status', 'headers', 'body'];
/** RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** The constraints reported first when several fail: presence, then type. */
const PRIMARY_CONSTRAINTS = ['isDefined', 'isInt', 'isString', 'isBoolean', 'isArray'];
/** Characters a quoted-string of `WWW-Authenticate` cannot carry safely. */
const UNSAFE_REALM = /["\\\r\n]/;

/** Policy defaults: the policy documentation's, plus this module's own options. */
export const DEFAULT_POLICY: ResolvedOAuth2Policy = Object.freeze({
  extractPayload: false,
  checkRequiredScopes: false,
  requiredScopes: Object.freeze([]) as readonly string[],
  modeStrict: true,
  propagateAuthHeader: true,
  allowAccessTokenQueryParam: false,
  clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS,
  audiences: false,
  issuers: false,
});

/**
 * Validates the options of `forRoot()` or of `forRootAsync()`'s factory, and applies defaults.
 *
 * @throws OAuth2ConfigurationError naming every field that is wrong, and what to do.
 */
export function validateModuleOptions(raw: unknown): ResolvedOAuth2ModuleOptions {
  if (!isJsonObject(raw)) {
    throw new OAuth2ConfigurationError('options', 'must be an object such as { resources: [...], policy: {...} }.');
  }
  const problems: OptionProblem[] = [];
  problems.push(...unknownKeys(raw, MODULE_OPTION_NAMES, 'options', 'an option of OAuth2Module'));

  const resources = validateResources(raw.resources, problems);
  const caches = validateCaches(raw.caches, problems);
  const policy = raw.policy === undefined ? {} : raw.policy;
  problems.push(...policyProblems(policy, 'policy'));
  problems.push(...templateProblems(raw.responseTemplates));
  if (raw.realm !== undefined && (typeof raw.realm !== 'string' || raw.realm === '' || UNSAFE_REALM.test(raw.realm))) {
    problems.push({
      field: 'realm',
      problem: 'must be a non-empty string without quotes, backslashes or line breaks.',
    });
  }
  problems.push(...errorProfileProblems(raw.errorProfile, raw.retryAfterSeconds));
  problems.push(...transportOptionProblems(raw.transports));
  problems.push(...protectedResourceProblems(raw.protectedResource));

  if (problems.length === 0) {
    const typedPolicy = policy as OAuth2PolicyOptions;
    problems.push(...namedReferenceProblems(typedPolicy, 'policy', resources, caches));
  }
  if (problems.length > 0) {
    throw OAuth2ConfigurationError.fromProblems(problems);
  }
  const options = raw as unknown as OAuth2ModuleOptions;
  const protectedResource = options.protectedResource && resolveProtectedResource(options.protectedResource);
  // An MCP server (RFC 9728, RFC 8707) must accept only tokens issued for it: its resource is the default audience.
  const defaultPolicy = protectedResource
    ? resolvePolicy(DEFAULT_POLICY, { audiences: [protectedResource.options.resource] })
    : DEFAULT_POLICY;
  return {
    resources,
    caches,
    policy: resolvePolicy(defaultPolicy, options.policy ?? {}),
    responseTemplates: options.responseTemplates ?? {},
    realm: options.realm ?? DEFAULT_REALM,
    errorProfile: options.errorProfile ?? 'documented',
    retryAfterSeconds: options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
    transports: resolveTransportOptions(options.transports),
    ...(protectedResource && { protectedResource }),
  };
}

function errorProfileProblems(profile: unknown, retryAfterSeconds: unknown): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (profile !== undefined && !ERROR_PROFILES.includes(profile as OAuth2ErrorProfile)) {
    problems.push({
      field: 'errorProfile',
      problem: `must be one of ${ERROR_PROFILES.map((name) => `'${name}'`).join(', ')} (got ${describe(profile)}). See the README's Errors section for what each answers.`,
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
      problem: `must be an integer number of seconds from 1 to 86400 (got ${describe(retryAfterSeconds)}).`,
    });
  }
  return problems;
}

/** Validation problems of a policy (module default or decorator), without name look-ups. */
export function policyProblems(raw: unknown, field: string): OptionProblem[] {
  if (!isJsonObject(raw)) {
    return [{ field, problem: 'must be an object with the policy options (oauthResource, requiredScopes, ...).' }];
  }
  const problems = schemaProblems(PolicySchema, raw, field, 'a policy option');
  for (const selector of ['oauthResource', 'oauthCacheResource']) {
    // The guard calls a selector synchronously: an async one gives a Promise, never a name, so every request
    // would fail. A plain function that returns a Promise cannot be told apart before it is called.
    if (isAsyncFunction(raw[selector])) {
      problems.push({
        field: `${field}.${selector}`,
        problem:
          'is an async function: a selector must be synchronous and return a name. Decide from the ExecutionContext without awaiting (load what it needs at start-up), or give a name.',
      });
    }
  }
  const scopes = raw.requiredScopes;
  if (Array.isArray(scopes)) {
    scopes.forEach((scope, index) => {
      if (typeof scope === 'string' && !SCOPE_TOKEN.test(scope)) {
        problems.push({
          field: `${field}.requiredScopes[${index}]`,
          problem:
            'is not a valid scope (RFC 6749 §3.3: no spaces, quotes or backslashes). List each scope as its own string.',
        });
      }
    });
  }
  return problems;
}

/** Problems with the plain-string resource and cache names of a policy. */
export function namedReferenceProblems(
  policy: OAuth2PolicyOptions,
  field: string,
  resources: readonly { name: string }[],
  caches: readonly { name: string }[],
): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const check = (
    value: unknown,
    subfield: string,
    kind: 'resource' | 'cache',
    registered: readonly { name: string }[],
  ) => {
    if (typeof value === 'string' && !registered.some((entry) => entry.name === value)) {
      const error = OAuth2ConfigurationError.unknownName(
        `${field}.${subfield}`,
        kind,
        value,
        registered.map((entry) => entry.name),
      );
      problems.push({ field: error.field, problem: error.message.replace(/^.*? names /, 'names ') });
    }
  };
  check(policy.oauthResource, 'oauthResource', 'resource', resources);
  check(policy.oauthCacheResource, 'oauthCacheResource', 'cache', caches);
  return problems;
}

/** A policy on top of another: set fields of `override` win. */
export function resolvePolicy(base: ResolvedOAuth2Policy, override: OAuth2PolicyOptions): ResolvedOAuth2Policy {
  const merged: { -readonly [K in keyof ResolvedOAuth2Policy]: ResolvedOAuth2Policy[K] } = { ...base };
  for (const [name, value] of Object.entries(override)) {
    if (value !== undefined) {
      // A copy of a list, so that the caller's array changed later does not change the policy.
      (merged as Record<string, unknown>)[name] = Array.isArray(value) ? Object.freeze([...value]) : value;
    }
  }
  return Object.freeze(merged);
}

function validateResources(raw: unknown, problems: OptionProblem[]): OAuth2ResourceOptions[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({
      field: 'resources',
      problem:
        "is required: list at least one authorization server, e.g. [{ name: 'my-as', type: 'generic', introspectionEndpoint: 'https://...' }].",
    });
    return [];
  }
  raw.forEach((resource, index) => {
    const field = `resources[${index}]`;
    if (!isJsonObject(resource)) {
      problems.push({ field, problem: 'must be an object.' });
    } else if (resource.type === 'generic') {
      problems.push(...schemaProblems(GenericResourceSchema, resource, field, "an option of a 'generic' resource"));
      problems.push(...genericResourceProblems(resource, field));
      const urls = [
        resource.introspectionEndpoint,
        resource.issuer,
        resource.authorizationServerUrl,
        resource.userInfoEndpoint,
      ];
      problems.push(...tlsOptionProblems(resource.tls, `${field}.tls`, urls));
      problems.push(...httpClientOptionProblems(resource, field));
    } else if (resource.type === 'gravitee-am') {
      problems.push(
        ...schemaProblems(GraviteeAmResourceSchema, resource, field, "an option of a 'gravitee-am' resource"),
      );
      problems.push(...tlsOptionProblems(resource.tls, `${field}.tls`, [resource.serverURL]));
      problems.push(...httpClientOptionProblems(resource, field));
    } else {
      problems.push({
        field: `${field}.type`,
        problem: `must be 'generic' or 'gravitee-am' (got ${describe(resource.type)}).`,
      });
    }
  });
  problems.push(...duplicateNameProblems(raw, 'resources'));
  return raw as OAuth2ResourceOptions[];
}

function genericResourceProblems(resource: Record<string, unknown>, field: string): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const isPath = (value: unknown) => typeof value === 'string' && value.startsWith('/');
  problems.push(...endpointOrIssuerProblems(resource, field));
  for (const endpoint of ['introspectionEndpoint', 'userInfoEndpoint']) {
    if (isPath(resource[endpoint]) && resource.authorizationServerUrl === undefined) {
      problems.push({
        field: `${field}.${endpoint}`,
        problem: "is a path: set authorizationServerUrl to the server's base URL, or give a full URL here.",
      });
    }
  }
  const method = resource.introspectionEndpointMethod ?? 'POST';
  if (method === 'GET' && resource.tokenIsSuppliedByFormUrlEncoded === true) {
    problems.push({
      field: `${field}.tokenIsSuppliedByFormUrlEncoded`,
      problem:
        'needs introspectionEndpointMethod POST (a GET request has no body): use tokenIsSuppliedByQueryParam, or POST.',
    });
  }
  if (
    resource.tokenIsSuppliedByQueryParam === false &&
    resource.tokenIsSuppliedByHttpHeader === false &&
    resource.tokenIsSuppliedByFormUrlEncoded === false
  ) {
    problems.push({
      field: `${field}.tokenIsSuppliedByFormUrlEncoded`,
      problem: 'is false, and so are the query and header options: the token would not be sent. Turn one of them on.',
    });
  }
  if (resource.tokenIsSuppliedByHttpHeader === true && resource.tokenHeaderName === undefined) {
    problems.push({
      field: `${field}.tokenHeaderName`,
      problem: 'is required when tokenIsSuppliedByHttpHeader is true.',
    });
  }
  for (const headerField of ['tokenHeaderName', 'clientAuthorizationHeaderName']) {
    const value = resource[headerField];
    if (typeof value === 'string' && value !== '' && !isHeaderName(value)) {
      problems.push({ field: `${field}.${headerField}`, problem: 'is not a valid HTTP header name.' });
    }
  }
  if (method === 'GET' && resource.useClientAuthorizationHeader === false && resource.clientId !== undefined) {
    problems.push({
      field: `${field}.useClientAuthorizationHeader`,
      problem:
        'is false with introspectionEndpointMethod GET: the client credentials would have to go in the URL, where they are logged, so they would not be sent. Use POST, or the header.',
    });
  }
  if (resource.clientSecret !== undefined && resource.clientId === undefined) {
    problems.push({ field: `${field}.clientId`, problem: 'is required when clientSecret is set.' });
  }
  return problems;
}

/** A generic resource names its introspection endpoint, or the issuer to discover it from: one of the two. */
function endpointOrIssuerProblems(resource: Record<string, unknown>, field: string): OptionProblem[] {
  const { introspectionEndpoint, issuer } = resource;
  if (introspectionEndpoint === undefined && issuer === undefined) {
    return [
      {
        field: `${field}.introspectionEndpoint`,
        problem:
          "is required: give the introspection endpoint's URL, or the authorization server's issuer (issuer: 'https://as.example.com') to discover it.",
      },
    ];
  }
  if (introspectionEndpoint !== undefined && issuer !== undefined) {
    return [
      {
        field: `${field}.issuer`,
        problem: 'is set beside introspectionEndpoint: give one of them (issuer discovers the endpoint).',
      },
    ];
  }
  if (typeof issuer === 'string' && (issuer.includes('?') || issuer.includes('#'))) {
    return [
      {
        field: `${field}.issuer`,
        problem:
          'must have no query or fragment (RFC 8414 §2): give the issuer identifier exactly as the server states it.',
      },
    ];
  }
  return [];
}

function validateCaches(raw: unknown, problems: OptionProblem[]): ResolvedOAuth2CacheResourceOptions[] {
  if (raw === undefined) {
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.push({ field: 'caches', problem: "must be an array, e.g. [{ name: 'local', timeToLiveSeconds: 300 }]." });
    return [];
  }
  const before = problems.length;
  raw.forEach((cache, index) => {
    const field = `caches[${index}]`;
    if (!isJsonObject(cache)) {
      problems.push({ field, problem: 'must be an object.' });
    } else if (cache.type === undefined || cache.type === 'memory') {
      problems.push(...schemaProblems(MemoryCacheSchema, cache, field, "an option of a 'memory' cache"));
      problems.push(...memoryCacheProblems(cache, field));
    } else if (cache.type === 'redis') {
      problems.push(
        ...schemaProblems(RedisCacheSchema, presenceOnly(cache, ['url', 'tls']), field, "an option of a 'redis' cache"),
      );
      problems.push(...redisConnectionProblems(cache, field));
    } else if (cache.type === 'store') {
      problems.push(
        ...schemaProblems(StoreCacheSchema, presenceOnly(cache, ['store']), field, "an option of a 'store' cache"),
      );
      problems.push(...storeProblems(cache.store, `${field}.store`));
    } else if (cache.type === 'cache-module') {
      problems.push(
        ...schemaProblems(
          CacheModuleCacheSchema,
          presenceOnly(cache, ['injectionToken']),
          field,
          "an option of a 'cache-module' cache",
        ),
      );
      problems.push(...injectionTokenProblems(cache.injectionToken, `${field}.injectionToken`));
    } else {
      problems.push({
        field: `${field}.type`,
        problem: `must be 'memory', 'redis', 'store' or 'cache-module' (got ${describe(cache.type)}).`,
      });
    }
  });
  problems.push(...duplicateNameProblems(raw, 'caches'));
  return problems.length > before ? [] : (raw as OAuth2CacheResourceOptions[]).map(resolveCacheOptions);
}

function templateProblems(raw: unknown): OptionProblem[] {
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
      problem: `is not a media type (RFC 9110 §8.3.1): write type/subtype, with parameters as ; name=value (got ${describe(contentType)}).`,
    });
  } else if (typeof contentType === 'string' && !isJsonMediaType(contentType) && typeof body !== 'string') {
    // An object body is serialized as JSON, and so is the key's default body when the template has none:
    // under another content type Fastify refuses to send it (500) and Express sends JSON under the wrong
    // label. Without a Content-Type header it goes as application/json.
    problems.push({
      field: `${field}.body`,
      problem:
        body === undefined
          ? `is missing, so the key's default JSON body would be sent, but the template's Content-Type is ${describe(contentType)}: give a string body, or a JSON content type (application/json, or one ending in +json).`
          : `is an object, which is sent as JSON, but the template's Content-Type is ${describe(contentType)}: give a string body, or a JSON content type (application/json, or one ending in +json).`,
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

function schemaProblems(
  schema: new () => object,
  raw: Record<string, unknown>,
  field: string,
  what: string,
): OptionProblem[] {
  const instance = plainToInstance(schema, raw, { enableImplicitConversion: false });
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return errors.flatMap((error) => toProblems(error, field, what, knownOptions(schema)));
}

function toProblems(error: ValidationError, parent: string, what: string, known: string[]): OptionProblem[] {
  const field = `${parent}.${error.property}`;
  const constraints = Object.entries(error.constraints ?? {});
  if (constraints.some(([name]) => name === 'whitelistValidation')) {
    return [{ field, problem: `is not ${what}: check its spelling. Known options: ${known.join(', ')}.` }];
  }
  // A value of the wrong type fails its range checks too: report the type, not "must not be greater than".
  const first =
    PRIMARY_CONSTRAINTS.map((wanted) => constraints.find(([name]) => name === wanted)).find(Boolean) ?? constraints[0];
  if (!first) {
    return (error.children ?? []).flatMap((child) => toProblems(child, field, what, known));
  }
  const message = first[1].startsWith(`${error.property} `) ? first[1].slice(error.property.length + 1) : first[1];
  // Never echo what may be a secret, even a mistyped one.
  const got = /secret|password/i.test(error.property) ? '' : ` (got ${describe(error.value)})`;
  return [{ field, problem: `${message}${got}.` }];
}

/** The option names a schema accepts: its validated properties. */
function knownOptions(schema: new () => object): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(schema, '', true, false);
  return [...new Set(metadata.map((entry) => entry.propertyName))];
}

function unknownKeys(raw: Record<string, unknown>, known: string[], parent: string, what: string): OptionProblem[] {
  return Object.keys(raw)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      field: parent === 'options' ? name : `${parent}.${name}`,
      problem: `is not ${what}: check its spelling. Known options: ${known.join(', ')}.`,
    }));
}

function duplicateNameProblems(entries: unknown[], field: string): OptionProblem[] {
  const seen = new Map<unknown, number>();
  const problems: OptionProblem[] = [];
  entries.forEach((entry, index) => {
    const name = isJsonObject(entry) ? entry.name : undefined;
    if (typeof name !== 'string') {
      return;
    }
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, index);
    } else {
      problems.push({
        field: `${field}[${index}].name`,
        problem: `'${name}' is already the name of ${field}[${first}]: give each entry its own name.`,
      });
    }
  });
  return problems;
}

/** Describes a value in a message without echoing secrets or long strings. */
function describe(value: unknown): string {
  if (value === undefined || value === null) {
    return String(value);
  }
  if (typeof value === 'string') {
    return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

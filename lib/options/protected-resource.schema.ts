import { isJsonObject } from '../common/is-json-object';
import type { OAuth2ProtectedResourceOptions } from '../interfaces/protected-resource-options.interface';
import { type OptionProblem, isScopeToken } from './option-problem';
import type { ResolvedProtectedResource } from './resolved-options';

/** RFC 9728 §3: the well-known URI suffix of protected-resource metadata. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

const OPTION_NAMES = [
  'resource',
  'authorizationServers',
  'scopesSupported',
  'resourceName',
  'resourceDocumentation',
  'additionalMetadata',
];
/** The document's members the options set: `additionalMetadata` may not set them again. */
export const OWN_MEMBERS: Readonly<Record<string, string>> = Object.freeze({
  resource: 'resource',
  authorization_servers: 'authorizationServers',
  scopes_supported: 'scopesSupported',
  resource_name: 'resourceName',
  resource_documentation: 'resourceDocumentation',
  bearer_methods_supported: 'policy.allowAccessTokenQueryParam',
});
const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Problems of the `protectedResource` option. */
export function protectedResourceProblems(raw: unknown): OptionProblem[] {
  if (raw === undefined) {
    return [];
  }
  const field = 'protectedResource';
  if (!isJsonObject(raw)) {
    return [
      {
        field,
        problem: "must be an object such as { resource: 'https://api.example.com/mcp', authorizationServers: [...] }.",
      },
    ];
  }
  const problems: OptionProblem[] = Object.keys(raw)
    .filter((name) => !OPTION_NAMES.includes(name))
    .map((name) => ({
      field: `${field}.${name}`,
      problem: `is not an option of protectedResource: check its spelling. Known options: ${OPTION_NAMES.join(', ')}.`,
    }));
  const resourceProblem = resourceIdentifierProblem(raw.resource);
  if (resourceProblem) {
    problems.push({ field: `${field}.resource`, problem: resourceProblem });
  }
  const servers = raw.authorizationServers;
  if (!Array.isArray(servers) || servers.length === 0) {
    problems.push({
      field: `${field}.authorizationServers`,
      problem:
        "is required: list the issuer identifiers of the authorization servers, e.g. ['https://as.example.com'].",
    });
  } else {
    servers.forEach((server, index) => {
      if (!isIssuerIdentifier(server)) {
        problems.push({
          field: `${field}.authorizationServers[${index}]`,
          problem:
            'must be an absolute http(s) URL without query or fragment: the issuer identifier of an authorization server (RFC 8414 §2).',
        });
      }
    });
  }
  const scopes = raw.scopesSupported;
  if (scopes !== undefined && (!Array.isArray(scopes) || !scopes.every((scope) => isScopeToken(scope)))) {
    problems.push({
      field: `${field}.scopesSupported`,
      problem:
        'must be an array of scopes (RFC 6749 §3.3: no spaces, quotes or backslashes), or left out for the default.',
    });
  }
  if (raw.resourceName !== undefined && (typeof raw.resourceName !== 'string' || raw.resourceName.trim() === '')) {
    problems.push({ field: `${field}.resourceName`, problem: 'must be a non-empty string.' });
  }
  const documentation = raw.resourceDocumentation;
  if (documentation !== undefined && !(typeof documentation === 'string' && absoluteHttpUrl(documentation))) {
    problems.push({ field: `${field}.resourceDocumentation`, problem: 'must be an absolute http(s) URL.' });
  }
  problems.push(...additionalMetadataProblems(raw.additionalMetadata, `${field}.additionalMetadata`));
  return problems;
}

/** The resolved option: the document's URL and paths, derived from `resource` as RFC 9728 §3.1 says. */
export function resolveProtectedResource(options: OAuth2ProtectedResourceOptions): ResolvedProtectedResource {
  const url = new URL(options.resource);
  // RFC 9728 §3.1: the well-known segment goes between the host and the path; a path of "/" alone is none.
  const path = url.pathname === '/' ? '' : url.pathname;
  const resourcePath = `${PROTECTED_RESOURCE_WELL_KNOWN}${path}`;
  return Object.freeze({
    options: Object.freeze({ ...options }),
    metadataUrl: `${url.origin}${resourcePath}`,
    metadataPaths: Object.freeze(
      path === '' ? [PROTECTED_RESOURCE_WELL_KNOWN] : [PROTECTED_RESOURCE_WELL_KNOWN, resourcePath],
    ),
  });
}

function resourceIdentifierProblem(value: unknown): string | undefined {
  const hint = "Give the URL clients use for this API, e.g. 'https://api.example.com/mcp'.";
  if (typeof value !== 'string' || value === '') {
    return `is required: the resource identifier (RFC 9728 §2). ${hint}`;
  }
  const url = absoluteHttpUrl(value);
  if (!url) {
    return `must be an absolute https URL (got a value that is not one). ${hint}`;
  }
  if (value.includes('#')) {
    return `must not have a fragment (RFC 9728 §2): remove the '#...' part.`;
  }
  if (url.search !== '' || value.includes('?')) {
    return 'must not have a query: the metadata URL is derived from its path (RFC 9728 §3.1). Remove the "?..." part.';
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not carry user information: remove the "user:password@" part.';
  }
  if (url.protocol === 'http:' && !LOCAL_HOSTS.includes(url.hostname)) {
    return 'must be an https URL (RFC 9728 §2); http is accepted for localhost, 127.0.0.1 and [::1] only.';
  }
  return undefined;
}

function isIssuerIdentifier(value: unknown): boolean {
  if (typeof value !== 'string') {
    return false;
  }
  const url = absoluteHttpUrl(value);
  return url !== undefined && url.search === '' && !value.includes('#') && !value.includes('?');
}

function additionalMetadataProblems(raw: unknown, field: string): OptionProblem[] {
  if (raw === undefined) {
    return [];
  }
  if (!isJsonObject(raw)) {
    return [{ field, problem: "must be an object of further members, e.g. { resource_policy_uri: 'https://...' }." }];
  }
  const problems: OptionProblem[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const option = OWN_MEMBERS[name];
    if (option !== undefined) {
      problems.push({ field: `${field}.${name}`, problem: `is set by the module: use ${option} instead.` });
    } else if (!isJsonValue(value)) {
      problems.push({
        field: `${field}.${name}`,
        problem: 'must be a JSON value (string, finite number, boolean, null, array or plain object of these).',
      });
    }
  }
  return problems;
}

function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 16) {
    return false;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    return true;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value);
  }
  if (Array.isArray(value)) {
    return value.every((entry) => isJsonValue(entry, depth + 1));
  }
  return isPlainObject(value) && Object.values(value).every((entry) => isJsonValue(entry, depth + 1));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isJsonObject(value)) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function absoluteHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

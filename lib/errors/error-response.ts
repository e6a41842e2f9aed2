import { STATUS_CODES } from 'node:http';
import type { OAuth2ErrorProfile } from '../interfaces/module-options.interface';
import type { OAuth2ResponseTemplate, OAuth2ResponseTemplates } from '../interfaces/response-template.interface';
import { DEFAULT_RETRY_AFTER_SECONDS, errorProfileEntry } from './error-profiles';
import { type OAuth2ErrorKey } from './oauth2-error-key.enum';
import type { OAuth2Exception } from './oauth2.exception';
import { fillPlaceholders } from './template-placeholders';

/** A rejection as it goes on the wire. */
export interface OAuth2ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A string is sent as is; an object as JSON. */
  readonly body: string | object;
}

/** What the rendering of a rejection depends on: the module's resolved options. */
export interface ErrorRenderingSettings {
  readonly realm: string;
  readonly responseTemplates: OAuth2ResponseTemplates;
  /** Default `documented`. */
  readonly errorProfile?: OAuth2ErrorProfile;
  /** `Retry-After` of the profile's 503 answers (`rfc`). Default 5. */
  readonly retryAfterSeconds?: number;
  /** With `protectedResource`: challenges name its metadata URL (RFC 9728 §5.1). */
  readonly protectedResource?: { readonly metadataUrl: string };
}

/**
 * The `WWW-Authenticate` challenge of a key under a profile (RFC 6750 §3). In the documented table:
 * none for `OAUTH2_MISSING_SERVER` (the fault is the server's configuration, not the client's); no
 * error code when no token was sent; `invalid_token` for a token that was refused;
 * `insufficient_scope` with the required scopes. The `rfc` profile says `invalid_request` for a Bearer
 * header without a token and for a malformed request (`details.invalidRequest`), and sends no
 * challenge with its 503 answers. With `resourceMetadata` (the `protectedResource` metadata URL), every
 * challenge carries `resource_metadata="<URL>"` (RFC 9728 §5.1), so that a client finds the
 * authorization server from a 401 or 403 alone.
 */
export function wwwAuthenticate(
  exception: OAuth2Exception,
  realm: string,
  profile: OAuth2ErrorProfile = 'documented',
  resourceMetadata?: string,
): string | undefined {
  const { challenge } = errorProfileEntry(profile, exception.key, exception.details.invalidRequest);
  if (challenge === false) {
    return undefined;
  }
  const bare =
    resourceMetadata === undefined
      ? `Bearer realm="${realm}"`
      : `Bearer realm="${realm}", resource_metadata="${resourceMetadata}"`;
  const error = challengeError(exception, challenge);
  const dpop = exception.details.dpop;
  if (dpop === undefined) {
    return `${bare}${error}`;
  }
  // RFC 9449 §7.1: `DPoP algs="..."`, with the proof's fault, or the key's error when the request used DPoP.
  const dpopError = dpop.error === undefined ? (dpop.usedDpop || !dpop.bearer ? error : '') : `, error="${dpop.error}"`;
  const dpopChallenge = `DPoP algs="${dpop.algs}"${dpopError}`;
  if (!dpop.bearer) {
    return dpopChallenge;
  }
  return `${bare}${dpop.usedDpop ? '' : error}, ${dpopChallenge}`;
}

/** The `error` (and `scope`) parameters of a challenge, with their leading comma; `''` for none. */
function challengeError(exception: OAuth2Exception, challenge: true | string): string {
  if (challenge === true) {
    return '';
  }
  if (challenge === 'insufficient_scope') {
    const scopes = exception.details.requiredScopes ?? [];
    return `, error="insufficient_scope"${scopes.length ? `, scope="${scopes.join(' ')}"` : ''}`;
  }
  return `, error="${challenge}"`;
}

/**
 * What to answer for an exception: the response template of its key that best matches the request's
 * `Accept` header (falling back to `*\/*`), over the status, JSON body and headers the error profile
 * gives the key.
 */
export function renderErrorResponse(
  exception: OAuth2Exception,
  accept: string | undefined,
  settings: ErrorRenderingSettings,
  /** What a template's `{{requestId}}` says; empty when the request has no id. */
  context: { readonly requestId?: string } = {},
): OAuth2ErrorResponse {
  const profile = settings.errorProfile ?? 'documented';
  const entry = errorProfileEntry(profile, exception.key, exception.details.invalidRequest);
  const headers: Record<string, string> = {};
  const challenge = wwwAuthenticate(exception, settings.realm, profile, settings.protectedResource?.metadataUrl);
  if (challenge) {
    headers['WWW-Authenticate'] = challenge;
  }
  if (exception.details.dpop?.nonce !== undefined) {
    headers['DPoP-Nonce'] = exception.details.dpop.nonce;
  }
  if (entry.retryAfter) {
    headers['Retry-After'] = String(
      exception.details.retryAfterSeconds ?? settings.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
    );
  }
  const defaults = {
    status: entry.status,
    headers,
    body: bodyWithStatus(exception.getResponse() as object, entry.status),
  };
  const byMediaType = settings.responseTemplates[exception.key as `${OAuth2ErrorKey}`];
  const match = byMediaType ? chooseTemplate(byMediaType, accept) : undefined;
  if (!match) {
    return defaults;
  }
  const [mediaType, template] = match;
  const templateHeaders = { ...headers, ...template.headers };
  if (template.body !== undefined && !hasHeader(templateHeaders, 'content-type')) {
    templateHeaders['Content-Type'] = contentTypeOf(template.body, mediaType);
  }
  const status = template.status ?? defaults.status;
  if (template.body === undefined) {
    // The default body states its status: keep it in step with a template that changes only the status.
    return { status, headers: templateHeaders, body: bodyWithStatus(defaults.body, status) };
  }
  const values = {
    key: exception.key,
    status: String(status),
    message: (exception.getResponse() as { message?: string }).message ?? '',
    requestId: context.requestId ?? '',
    requiredScopes: (exception.details.requiredScopes ?? []).join(' '),
  };
  const contentType = Object.entries(templateHeaders).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  return { status, headers: templateHeaders, body: fillPlaceholders(template.body, values, contentType) };
}

/** The default JSON body, `statusCode` and `error` in step with the status actually sent. */
function bodyWithStatus(body: object, status: number): object {
  const current = body as { statusCode?: unknown };
  return current.statusCode === status ? body : { ...body, statusCode: status, error: STATUS_CODES[status] ?? 'Error' };
}

/** The template for the most preferred media type of `Accept` that has one, else the `*\/*` one. */
export function chooseTemplate(
  byMediaType: Readonly<Record<string, OAuth2ResponseTemplate>>,
  accept: string | undefined,
): [string, OAuth2ResponseTemplate] | undefined {
  const entries = Object.entries(byMediaType).map(([type, template]) => [type.toLowerCase(), template] as const);
  for (const range of acceptedRanges(accept)) {
    if (range === '*/*') {
      break;
    }
    const [type, subtype] = range.split('/');
    // The template of the exact media type first: a `text/*` template listed earlier must not shadow `text/plain`.
    const found =
      entries.find(([candidate]) => candidate === range) ??
      entries.find(([candidate]) => {
        const [candidateType, candidateSubtype] = candidate.split('/');
        if (candidate === '*/*') {
          return false;
        }
        return candidateType === type && (subtype === '*' || candidateSubtype === subtype || candidateSubtype === '*');
      });
    if (found) {
      return [found[0], found[1]];
    }
  }
  const fallback = entries.find(([candidate]) => candidate === '*/*');
  return fallback ? ['*/*', fallback[1]] : undefined;
}

/** The media ranges of an `Accept` header, most preferred first; ranges with q=0 are dropped. */
export function acceptedRanges(accept: string | undefined): string[] {
  if (!accept) {
    return ['*/*'];
  }
  return accept
    .split(',')
    .map((part, position) => {
      const [range, ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
      const q = parameters.find((parameter) => parameter.startsWith('q='));
      const weight = q === undefined ? 1 : Number(q.slice(2));
      return { range, weight: Number.isFinite(weight) ? weight : 0, position };
    })
    .filter(({ range, weight }) => range.includes('/') && weight > 0)
    .sort((a, b) => b.weight - a.weight || a.position - b.position)
    .map(({ range }) => range);
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((header) => header.toLowerCase() === name);
}

function contentTypeOf(body: string | object, mediaType: string): string {
  if (typeof body !== 'string') {
    return 'application/json; charset=utf-8';
  }
  return mediaType.includes('*') ? 'text/plain; charset=utf-8' : `${mediaType}; charset=utf-8`;
}

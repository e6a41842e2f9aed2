import { isJsonObject } from '../common/is-json-object';

/**
 * The placeholders a response template's body may use. Nothing else: never the token, nor anything
 * the authorization server answered.
 */
export const TEMPLATE_PLACEHOLDERS = ['key', 'status', 'message', 'requestId', 'requiredScopes'] as const;

/** A placeholder's name. */
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/** The values of the placeholders for one rejection. */
export type TemplatePlaceholderValues = Readonly<Record<TemplatePlaceholder, string>>;

/** `{{name}}`, spaces allowed inside the braces. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Longest request id put in a body: an id is short, and a client's `X-Request-Id` is not ours to echo at length. */
export const MAX_REQUEST_ID_LENGTH = 200;

/**
 * The names a body uses that are not placeholders, each with where it is (`body`, `body.error.detail`).
 * Walks the string values of an object body (not its keys).
 */
export function unknownPlaceholders(body: unknown, field: string): { field: string; name: string }[] {
  if (typeof body === 'string') {
    return [...body.matchAll(PLACEHOLDER)]
      .map((match) => match[1])
      .filter((name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name))
      .map((name) => ({ field, name }));
  }
  if (Array.isArray(body)) {
    return body.flatMap((item, index) => unknownPlaceholders(item, `${field}[${index}]`));
  }
  if (isJsonObject(body)) {
    return Object.entries(body).flatMap(([name, value]) => unknownPlaceholders(value, `${field}.${name}`));
  }
  return [];
}

/** Whether a body (a string, or an object's string values) uses any placeholder. */
export function usesPlaceholders(body: unknown): boolean {
  if (typeof body === 'string') {
    return body.includes('{{');
  }
  if (Array.isArray(body)) {
    return body.some(usesPlaceholders);
  }
  return isJsonObject(body) && Object.values(body).some(usesPlaceholders);
}

/**
 * The escaping of a value put into a string body, by its `Content-Type`: JSON string escaping for
 * `application/json` and `+json` types (the template writes the quotes), XML escaping for XML and
 * HTML types, none for anything else (`text/plain`).
 */
export function escaperFor(contentType: string | undefined): (value: string) => string {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    return (value) => JSON.stringify(value).slice(1, -1);
  }
  if (/^(application|text)\/(xml|html|xhtml\+xml)$/.test(mediaType) || mediaType.endsWith('+xml')) {
    return escapeXml;
  }
  return (value) => value;
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => XML_ENTITIES[character] ?? character);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * A template body with its placeholders filled in. A string body gets the values escaped for its
 * `Content-Type`; an object body gets them as they are inside its string values (its JSON
 * serialization escapes them). Names were checked at start-up; one that is not a placeholder is left
 * as written.
 */
export function fillPlaceholders<B extends string | object>(
  body: B,
  values: TemplatePlaceholderValues,
  contentType: string | undefined,
): B {
  if (!usesPlaceholders(body)) {
    return body;
  }
  if (typeof body === 'string') {
    return replaceIn(body, values, escaperFor(contentType)) as B;
  }
  return fillObject(body, values) as B;
}

function fillObject(value: unknown, values: TemplatePlaceholderValues): unknown {
  if (typeof value === 'string') {
    return replaceIn(value, values, (text) => text);
  }
  if (Array.isArray(value)) {
    return value.map((item) => fillObject(item, values));
  }
  if (isJsonObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, fillObject(item, values)]));
  }
  return value;
}

function replaceIn(text: string, values: TemplatePlaceholderValues, escape: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(values, name) ? escape(values[name as TemplatePlaceholder]) : whole,
  );
}

/**
 * The request's id, for `{{requestId}}`: the platform's `request.id` when it has one (Fastify always
 * does; on Express, what a middleware such as pino-http set), else the `X-Request-Id` header (the first
 * one); cut to {@link MAX_REQUEST_ID_LENGTH} characters. Empty when there is none.
 */
export function requestIdOf(request: unknown): string {
  const { id, headers } = (request ?? {}) as { id?: unknown; headers?: Record<string, unknown> };
  const header = headers?.['x-request-id'];
  const value =
    (typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id))
      ? String(id)
      : typeof header === 'string'
        ? header
        : Array.isArray(header) && typeof header[0] === 'string'
          ? header[0]
          : '';
  return value.slice(0, MAX_REQUEST_ID_LENGTH);
}

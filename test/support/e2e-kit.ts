import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * The default error responses, copied from the specification (behaviour.md §5), not from the
 * library: a test that compares with these fails if the library's table drifts from the contract.
 */
export const SPEC_ERRORS = {
  OAUTH2_MISSING_SERVER: { status: 401, message: 'No OAuth Authorization Server resource has been configured' },
  OAUTH2_MISSING_HEADER: { status: 401, message: 'No OAuth authorization header was supplied' },
  OAUTH2_MISSING_ACCESS_TOKEN: { status: 401, message: 'No OAuth access token was supplied' },
  OAUTH2_INVALID_ACCESS_TOKEN: { status: 401, message: 'Access token can not be validated by authorization server' },
  OAUTH2_INVALID_SERVER_RESPONSE: {
    status: 403,
    message: 'Access token can not be validated because of a technical error with authorization server',
  },
  OAUTH2_SERVER_UNAVAILABLE: {
    status: 403,
    message: 'Access token can not be validated because of a technical error with authorization server',
  },
  OAUTH2_INSUFFICIENT_SCOPE: {
    status: 403,
    message: 'One of the required scopes was missing while introspecting access token',
  },
} as const;

export type SpecErrorKey = keyof typeof SPEC_ERRORS;

const REASON_PHRASES: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden' };

/** The default JSON body of a key: `{ statusCode, error, message, key }`. */
export function specErrorBody(key: SpecErrorKey): { statusCode: number; error: string; message: string; key: string } {
  const { status, message } = SPEC_ERRORS[key];
  return { statusCode: status, error: REASON_PHRASES[status], message, key };
}

/** Now, in whole seconds since the epoch (as `exp` and `nbf` are). */
export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * The URL of a port on 127.0.0.1 where nothing listens: a port the system gave, then released.
 * Connections to it are refused.
 */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Decodes an HTTP Basic client authentication as RFC 6749 §2.3.1 says a server must: base64, split
 * at the first `:`, then `application/x-www-form-urlencoded` decoding of each half.
 */
export function decodeClientBasic(
  header: string | undefined,
  scheme = 'Basic',
): { clientId: string; clientSecret: string } | undefined {
  if (header === undefined || !header.startsWith(`${scheme} `)) {
    return undefined;
  }
  const decoded = Buffer.from(header.slice(scheme.length + 1), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    return undefined;
  }
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
}

/**
 * Waits, on a timer that does not keep the process alive: for scripted answers slower than a
 * resource's timeout, whose wait would otherwise outlive the test file.
 */
export function unrefDelay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds).unref());
}

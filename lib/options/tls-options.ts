import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { PemData } from '../interfaces/resource-options.interface';
import { type OptionProblem, unknownKeys } from './option-problem';

/** The members of a resource's `tls` option. */
const TLS_OPTION_NAMES = ['ca', 'cert', 'key', 'passphrase', 'insecureSkipVerify'];
/** The TLS settings a Redis cache accepts. */
export const REDIS_TLS_OPTION_NAMES = ['ca', 'cert', 'key', 'passphrase', 'servername', 'insecureSkipVerify'];

/**
 * Problems with a resource's `tls` option: unknown members, wrong types, PEM texts that do not load
 * (checked now, so that a bad certificate stops the start rather than failing every request), a
 * certificate without its key, `insecureSkipVerify` beside a `ca` it would make pointless, and TLS
 * settings on a resource that has no `https://` URL to use them on.
 *
 * @param urls the resource's URL options (endpoints and base URLs), to tell whether any is https.
 */
export function tlsOptionProblems(tls: unknown, field: string, urls: readonly unknown[]): OptionProblem[] {
  // Anything but an object is reported by the schema (IsObjectOption).
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    return [];
  }
  const options = tls as Record<string, unknown>;
  const problems = unknownKeys(options, TLS_OPTION_NAMES, field, 'a TLS option');
  const { ca, cert, key, passphrase, insecureSkipVerify } = options;
  if (ca !== undefined) {
    const list = Array.isArray(ca) ? ca : [ca];
    if (list.length === 0) {
      problems.push({
        field: `${field}.ca`,
        problem: 'is an empty list: give at least one CA certificate, or leave ca out.',
      });
    }
    list.forEach((entry, index) => {
      const where = Array.isArray(ca) ? `${field}.ca[${index}]` : `${field}.ca`;
      if (!isPem(entry)) {
        problems.push({ field: where, problem: pemProblem('a CA certificate') });
      } else if (!isCertificate(entry)) {
        problems.push({ field: where, problem: 'is not a readable PEM certificate (-----BEGIN CERTIFICATE-----).' });
      }
    });
  }
  problems.push(...keyPairProblems(cert, key, field, ['a certificate', 'a private key']));
  if (passphrase !== undefined && typeof passphrase !== 'string') {
    problems.push({ field: `${field}.passphrase`, problem: 'must be a string.' });
  } else if (passphrase !== undefined && key === undefined) {
    problems.push({
      field: `${field}.passphrase`,
      problem: 'is set without key: it is the passphrase of an encrypted key.',
    });
  }
  if (insecureSkipVerify !== undefined && typeof insecureSkipVerify !== 'boolean') {
    problems.push({
      field: `${field}.insecureSkipVerify`,
      problem: `must be a boolean (got ${typeof insecureSkipVerify}).`,
    });
  } else if (insecureSkipVerify === true && ca !== undefined) {
    problems.push({
      field: `${field}.insecureSkipVerify`,
      problem: 'is true beside ca: the CA would never be checked. Keep ca and remove insecureSkipVerify.',
    });
  }
  if (problems.length === 0 && (cert !== undefined || key !== undefined)) {
    try {
      // Loads the key pair as every connection will: a wrong passphrase or a key of another certificate fails here.
      createSecureContext({ cert: cert as PemData, key: key as PemData, passphrase: passphrase as string | undefined });
    } catch (error) {
      problems.push({
        field: `${field}.cert`,
        problem: `and key could not be loaded (${loadFailure(error)}): check that key belongs to cert, and the passphrase.`,
      });
    }
  }
  if (!urls.some((url) => typeof url === 'string' && /^https:\/\//i.test(url))) {
    problems.push({
      field,
      problem:
        'is set, but the resource has no https:// URL: TLS settings would not be used. Use https:// URLs, or remove tls.',
    });
  }
  return problems;
}

/**
 * Problems with a Redis cache's `tls` object (its shape is checked by the caller): unknown members,
 * texts that are not PEM, a certificate without its key, wrong types.
 */
export function redisTlsProblems(tls: Record<string, unknown>, field: string): OptionProblem[] {
  const problems = unknownKeys(tls, REDIS_TLS_OPTION_NAMES, field, 'a TLS option of a Redis cache');
  const { ca, cert, key, passphrase, servername, insecureSkipVerify } = tls;
  const cas = Array.isArray(ca) ? ca : ca === undefined ? [] : [ca];
  cas.forEach((entry, index) => {
    if (!isPem(entry)) {
      problems.push({ field: Array.isArray(ca) ? `${field}.ca[${index}]` : `${field}.ca`, problem: pemProblem() });
    }
  });
  problems.push(...keyPairProblems(cert, key, field));
  if (passphrase !== undefined && typeof passphrase !== 'string') {
    problems.push({ field: `${field}.passphrase`, problem: 'must be a string.' });
  }
  if (servername !== undefined && (typeof servername !== 'string' || servername === '')) {
    problems.push({
      field: `${field}.servername`,
      problem: 'must be a non-empty string, the host name the certificate is for.',
    });
  }
  if (insecureSkipVerify !== undefined && typeof insecureSkipVerify !== 'boolean') {
    problems.push({ field: `${field}.insecureSkipVerify`, problem: 'must be a boolean.' });
  }
  return problems;
}

/** Whether a value is PEM text (a string or Buffer with `-----BEGIN `), not, say, a file's path. */
export function isPem(value: unknown): value is PemData {
  return (typeof value === 'string' || Buffer.isBuffer(value)) && value.includes('-----BEGIN ');
}

/**
 * A client certificate's `cert` and `key`: each a PEM text, and each with the other.
 *
 * @param what how a resource's messages call them; a Redis cache's say only "a PEM text".
 */
function keyPairProblems(
  cert: unknown,
  key: unknown,
  field: string,
  what?: readonly [cert: string, key: string],
): OptionProblem[] {
  const problems: OptionProblem[] = [];
  for (const [name, value, label] of [
    ['cert', cert, what?.[0]],
    ['key', key, what?.[1]],
  ] as const) {
    if (value !== undefined && !isPem(value)) {
      problems.push({ field: `${field}.${name}`, problem: pemProblem(label) });
    }
  }
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? 'cert' : 'key';
    const pair = what ? ', and the key its certificate' : '';
    problems.push({
      field: `${field}.${missing}`,
      problem: `is required with ${missing === 'cert' ? 'key' : 'cert'}: a client certificate needs its private key${pair}.`,
    });
  }
  return problems;
}

function isCertificate(pem: PemData): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

function pemProblem(what?: string): string {
  return `must be ${what ? `${what} as ` : ''}a PEM text (a string or Buffer with -----BEGIN ...): pass the file's content, e.g. fs.readFileSync(path), not its path.`;
}

/** OpenSSL's reason, such as `bad decrypt` or `key values mismatch`: it names the failure, never the key. */
function loadFailure(error: unknown): string {
  // Not `instanceof Error`: errors of Node's native TLS layer may come from another realm (a test VM).
  const message =
    typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return (message.split('::').pop() ?? message).slice(0, 120);
}

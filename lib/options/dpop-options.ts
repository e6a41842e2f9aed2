import { isJsonObject } from '../common/is-json-object';
import { DPOP_ALGORITHMS } from '../dpop/dpop-jwk';
import type { OptionProblem } from './option-problem';

const DPOP_MODES = ['off', 'allowed', 'required'];
const NONCE_OPTION_NAMES = ['secret', 'lifetimeSeconds'];
/** Shortest nonce secret: 256 bits of a random ASCII string, as for the cache's `hmacSecret`. */
const MIN_NONCE_SECRET_LENGTH = 32;

/** Problems of a policy's DPoP options (`dpop`, `dpopAlgorithms`, `dpopNonces`), in `forRoot` and in `@OAuth2Policy()`. */
export function dpopPolicyProblems(raw: Record<string, unknown>, field: string): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const { dpop, dpopAlgorithms, dpopNonces } = raw;
  if (dpop !== undefined && !DPOP_MODES.includes(dpop as string)) {
    problems.push({ field: `${field}.dpop`, problem: "must be 'off', 'allowed' or 'required' (RFC 9449 DPoP)." });
  }
  if (dpopAlgorithms !== undefined) {
    const known: readonly string[] = DPOP_ALGORITHMS;
    if (!Array.isArray(dpopAlgorithms) || dpopAlgorithms.length === 0) {
      problems.push({
        field: `${field}.dpopAlgorithms`,
        problem: `must be a non-empty array of JWS algorithms among ${known.join(', ')}; leave it out to allow them all.`,
      });
    } else {
      dpopAlgorithms.forEach((alg: unknown, index) => {
        if (typeof alg !== 'string' || !known.includes(alg)) {
          problems.push({
            field: `${field}.dpopAlgorithms[${index}]`,
            problem: `is not an asymmetric JWS algorithm this module verifies: use one of ${known.join(', ')} (names are case-sensitive; 'none' and HS* are never allowed).`,
          });
        }
      });
    }
  }
  problems.push(...nonceProblems(dpopNonces, `${field}.dpopNonces`));
  return problems;
}

function nonceProblems(raw: unknown, field: string): OptionProblem[] {
  if (raw === undefined || typeof raw === 'boolean') {
    return [];
  }
  if (!isJsonObject(raw)) {
    return [{ field, problem: 'must be true, false, or an object { secret?, lifetimeSeconds? }.' }];
  }
  const problems: OptionProblem[] = Object.keys(raw)
    .filter((name) => !NONCE_OPTION_NAMES.includes(name))
    .map((name) => ({
      field: `${field}.${name}`,
      problem: `is not an option of dpopNonces: check its spelling. Known options: ${NONCE_OPTION_NAMES.join(', ')}.`,
    }));
  const { secret, lifetimeSeconds } = raw;
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < MIN_NONCE_SECRET_LENGTH)) {
    problems.push({
      field: `${field}.secret`,
      problem: `must be a string of at least ${MIN_NONCE_SECRET_LENGTH} characters (e.g. openssl rand -base64 32), the same on every instance.`,
    });
  }
  if (
    lifetimeSeconds !== undefined &&
    !(
      typeof lifetimeSeconds === 'number' &&
      Number.isInteger(lifetimeSeconds) &&
      lifetimeSeconds >= 10 &&
      lifetimeSeconds <= 3600
    )
  ) {
    problems.push({
      field: `${field}.lifetimeSeconds`,
      problem: 'must be an integer number of seconds from 10 to 3600.',
    });
  }
  return problems;
}

/** Problems of the module's `publicUrl`: an absolute http(s) URL, with a path but no query, fragment or credentials. */
export function publicUrlProblems(raw: unknown, field = 'publicUrl'): OptionProblem[] {
  if (raw === undefined) {
    return [];
  }
  const problem =
    "must be the absolute http(s) URL clients call, an origin with an optional base path, e.g. 'https://api.example.com' or 'https://example.com/api', without query, fragment or credentials.";
  if (typeof raw !== 'string') {
    return [{ field, problem }];
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [{ field, problem }];
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.search !== '' ||
    url.hash !== '' ||
    raw.includes('?') ||
    raw.includes('#') ||
    url.username !== '' ||
    url.password !== ''
  ) {
    return [{ field, problem }];
  }
  return [];
}

/** `publicUrl` as the guard prefixes paths with it: normalised by WHATWG's parser, without a trailing slash. */
export function resolvePublicUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const url = new URL(raw);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

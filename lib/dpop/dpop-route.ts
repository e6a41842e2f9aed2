import type {
  OAuth2DpopMode,
  OAuth2DpopNonceOptions,
  ResolvedOAuth2Policy,
} from '../interfaces/policy-options.interface';
import { DPOP_ALGORITHMS } from './dpop-jwk';
import { DpopNonces } from './dpop-nonce';

/**
 * How long after its `iat` a proof is accepted, in seconds, before the clock tolerance: RFC 9449 §11.1
 * leaves it to the server; a client makes a fresh proof for every request, so a minute covers any
 * network delay while keeping the `jti`s to remember few.
 */
export const DPOP_PROOF_MAX_AGE_SECONDS = 60;
/** Default `dpopNonces.lifetimeSeconds`. */
export const DEFAULT_DPOP_NONCE_LIFETIME_SECONDS = 300;

/** A route's DPoP settings, worked out once per resolved policy. */
export interface DpopRoute {
  readonly mode: OAuth2DpopMode;
  readonly algorithms: ReadonlySet<string>;
  /** The `algs` of the challenge: the allowed algorithms, space-separated (RFC 9449 §7.1). */
  readonly algs: string;
  readonly nonces?: DpopNonces;
  /** How old a proof may be, in seconds, tolerance included. */
  readonly maxAgeSeconds: number;
  /** How far in the future `iat` may be, in seconds. */
  readonly toleranceSeconds: number;
}

const ROUTES = new WeakMap<ResolvedOAuth2Policy, DpopRoute>();
/** Nonces by secret and lifetime: every route that shares them accepts each other's (a nonce is the server's, RFC 9449 §8). */
const NONCES = new Map<string, DpopNonces>();
/** The per-process secret of `dpopNonces: true` routes, drawn once. */
const PROCESS_NONCES = new Map<number, DpopNonces>();

/** The DPoP settings of a resolved policy (memoised on it: policies are resolved once per route). */
export function dpopRouteOf(policy: ResolvedOAuth2Policy): DpopRoute {
  let route = ROUTES.get(policy);
  if (route === undefined) {
    const algorithms = policy.dpopAlgorithms ?? DPOP_ALGORITHMS;
    route = Object.freeze({
      mode: policy.dpop ?? 'allowed',
      algorithms: new Set<string>(algorithms),
      algs: algorithms.join(' '),
      nonces: noncesOf(policy.dpopNonces),
      maxAgeSeconds: DPOP_PROOF_MAX_AGE_SECONDS + policy.clockToleranceSeconds,
      toleranceSeconds: policy.clockToleranceSeconds,
    });
    ROUTES.set(policy, route);
  }
  return route;
}

function noncesOf(option: boolean | OAuth2DpopNonceOptions | undefined): DpopNonces | undefined {
  if (option === undefined || option === false) {
    return undefined;
  }
  const { secret, lifetimeSeconds = DEFAULT_DPOP_NONCE_LIFETIME_SECONDS } = option === true ? {} : option;
  if (secret === undefined) {
    let nonces = PROCESS_NONCES.get(lifetimeSeconds);
    if (nonces === undefined) {
      nonces = new DpopNonces(undefined, lifetimeSeconds);
      PROCESS_NONCES.set(lifetimeSeconds, nonces);
    }
    return nonces;
  }
  const id = `${lifetimeSeconds}\0${secret}`;
  let nonces = NONCES.get(id);
  if (nonces === undefined) {
    nonces = new DpopNonces(secret, lifetimeSeconds);
    NONCES.set(id, nonces);
  }
  return nonces;
}

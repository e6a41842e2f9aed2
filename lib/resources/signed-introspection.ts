import {
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  createLocalJWKSet,
  errors,
  jwtVerify,
} from 'jose';
import { isJsonObject } from '../common/is-json-object';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type { AuthorizationServerClient } from './authorization-server.client';

/** The media type of RFC 9701 answers, sent in `Accept` and named (without `application/`) in the JWS `typ`. */
export const SIGNED_INTROSPECTION_MEDIA_TYPE = 'application/token-introspection+jwt';

/**
 * The JWS algorithms accepted for a signed answer: the asymmetric ones only. A symmetric (`HS*`) answer
 * would be signed with a secret the resource shares, and `none` is no signature (jose refuses it anyway).
 */
export const SIGNED_INTROSPECTION_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

/**
 * Oldest `iat` accepted, in seconds: the answer is made for this request, so anything older is a replay
 * of an earlier answer (RFC 9701 §5 leaves the bound to the resource server).
 */
export const MAX_ANSWER_AGE_SECONDS = 60;
/** Clock difference tolerated between the authorization server and this host, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** Shortest time between two fetches of the JWK set caused by an unknown key, in milliseconds. */
export const MIN_JWKS_REFETCH_MS = 60_000;

/**
 * Whether a body has the shape of an RFC 9701 answer: a compact JWS whose header names the
 * `token-introspection+jwt` type. Its signature and claims are not checked.
 */
export function looksLikeSignedAnswer(body: string): boolean {
  const parts = body.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    return false;
  }
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const typ = isJsonObject(header) ? header.typ : undefined;
    return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'token-introspection+jwt';
  } catch {
    return false;
  }
}

/** Who must have signed a signed answer, for whom, and where the keys are. */
export interface SignedIntrospectionSettings {
  /** The expected `iss`: the authorization server's issuer identifier. */
  readonly issuer: string;
  /** The expected `aud`: the resource's client id. */
  readonly audience: string;
  /** The JWK set's URL, when configured (`jwksUri`); else given by discovery through {@link SignedIntrospectionVerifier.useDiscoveredJwksUri}. */
  readonly jwksUri?: string;
}

/**
 * Verifies RFC 9701 introspection answers of one resource: a JWS signed by one of the issuer's keys,
 * `typ` `token-introspection+jwt`, `iss` the issuer, `aud` the resource's client, `iat` within the last
 * minute; its `token_introspection` member is the RFC 7662 answer.
 *
 * The JWK set is fetched through the resource's own HTTP client (its TLS, proxy, timeouts and circuit
 * breaker), once, and fetched again when an answer names a key it does not hold, at most once a
 * minute (RFC 9701 relies on the keys' `kid`s; a server that rotates keys publishes the new one before
 * it signs with it). Concurrent requests share one fetch.
 */
export class SignedIntrospectionVerifier {
  private keys: JWTVerifyGetKey | undefined;
  private jwksUri: string | undefined;
  /** When the last fetch caused by an unknown key started (the first fetch is not one). */
  private lastRefetchStarted = Number.NEGATIVE_INFINITY;
  private fetching: Promise<void> | undefined;
  private readonly verifyOptions: JWTVerifyOptions;

  constructor(
    private readonly client: AuthorizationServerClient,
    settings: SignedIntrospectionSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.jwksUri = settings.jwksUri;
    this.verifyOptions = {
      issuer: settings.issuer,
      audience: settings.audience,
      typ: SIGNED_INTROSPECTION_MEDIA_TYPE,
      algorithms: [...SIGNED_INTROSPECTION_ALGORITHMS],
      maxTokenAge: MAX_ANSWER_AGE_SECONDS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['iat'],
    };
  }

  /** Whether the JWK set's URL is still to come from the issuer's metadata. */
  get needsJwksUri(): boolean {
    return this.jwksUri === undefined;
  }

  /** The `jwks_uri` of the issuer's metadata, used unless `jwksUri` was configured. */
  useDiscoveredJwksUri(jwksUri: string): void {
    this.jwksUri ??= jwksUri;
  }

  /**
   * The `token_introspection` member of a verified answer.
   *
   * @throws AuthorizationServerError: `OAUTH2_INVALID_SERVER_RESPONSE` for an answer that is not a JWS
   * this server signed for this client just now, `OAUTH2_SERVER_UNAVAILABLE` when the JWK set cannot be fetched.
   */
  async verify(body: string): Promise<Record<string, unknown>> {
    if (this.keys === undefined) {
      await this.refresh();
    }
    let payload: JWTPayload;
    try {
      payload = await this.verifyWith(body);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) {
        throw this.invalid(error);
      }
      // A key the set does not hold: the server may have rotated its keys.
      if (this.fetching === undefined) {
        if (this.now() - this.lastRefetchStarted < MIN_JWKS_REFETCH_MS) {
          throw this.invalid(error);
        }
        this.lastRefetchStarted = this.now();
      }
      await this.refresh();
      try {
        payload = await this.verifyWith(body);
      } catch (again) {
        throw this.invalid(again);
      }
    }
    const introspection = payload.token_introspection;
    if (!isJsonObject(introspection)) {
      throw this.client.failure(
        'answered a signed introspection answer without a token_introspection object (RFC 9701 §5)',
        OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
      );
    }
    return introspection;
  }

  /** Verifies with the key set held now; with each candidate when several keys match (no `kid`). */
  private async verifyWith(body: string): Promise<JWTPayload> {
    const keys = this.keys as JWTVerifyGetKey;
    try {
      return (await jwtVerify(body, keys, this.verifyOptions)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) {
        throw error;
      }
      let last: unknown = error;
      for await (const key of error) {
        try {
          return (await jwtVerify(body, key, this.verifyOptions)).payload;
        } catch (candidate) {
          last = candidate;
        }
      }
      throw last;
    }
  }

  /** Fetches the JWK set, or joins the fetch under way. */
  private refresh(): Promise<void> {
    this.fetching ??= this.fetchKeys().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchKeys(): Promise<void> {
    const url = this.jwksUri;
    if (url === undefined) {
      throw this.client.failure(
        'has no JWK set to verify signed introspection answers with: its issuer metadata names no jwks_uri; set jwksUri',
      );
    }
    const answer = await this.client.send({
      method: 'GET',
      url,
      headers: { Accept: 'application/jwk-set+json, application/json' },
    });
    if (answer.status !== 200) {
      throw this.client.failure(`answered HTTP ${answer.status} for its JWK set`);
    }
    let document: unknown;
    try {
      document = JSON.parse(answer.body);
    } catch {
      document = undefined;
    }
    try {
      if (!isJsonObject(document)) {
        throw new TypeError('not a JSON object');
      }
      this.keys = createLocalJWKSet(document as unknown as JSONWebKeySet);
    } catch {
      throw this.client.failure(
        'answered a JWK set that is not one (RFC 7517 §5: a JSON object with a keys array)',
        OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
      );
    }
  }

  /** The failure of an answer that did not verify: jose's code and the claim at fault, nothing of the answer. */
  private invalid(error: unknown): Error {
    const code = error instanceof errors.JOSEError ? error.code : 'ERR_UNKNOWN';
    const claim =
      error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired
        ? `, claim ${error.claim}`
        : '';
    return this.client.failure(
      `answered a signed introspection answer that does not verify (${code}${claim})`,
      OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
    );
  }
}

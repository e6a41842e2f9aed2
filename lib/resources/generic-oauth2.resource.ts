import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from '../oauth2.constants';
import type { IntrospectionPayload } from '../interfaces/introspection.interface';
import type {
  GenericOAuth2ResourceOptions,
  OAuth2HttpMethod,
  OAuth2IntrospectionResponseFormat,
  OAuth2ResourceHttpOptions,
  OAuth2ResourceProxyOptions,
  OAuth2ResourceTlsOptions,
} from '../interfaces/resource-options.interface';
import { readActive } from './active-rule';
import { AuthorizationServerClient, type ServerAnswer, resolveConnectionLimits } from './authorization-server.client';
import type { CircuitBreakerSettings } from './circuit-breaker';
import { OAuth2Resource } from './oauth2-resource';
import { type OutgoingRequest, basicCredentials, resolveEndpoint, withQuery } from './outgoing-request';
import {
  SIGNED_INTROSPECTION_MEDIA_TYPE,
  SignedIntrospectionVerifier,
  looksLikeSignedAnswer,
} from './signed-introspection';

/** The options of a generic resource with every default applied. */
export interface GenericOAuth2ResourceSettings {
  readonly name: string;
  readonly introspectionUrl: string;
  readonly introspectionEndpointMethod: OAuth2HttpMethod;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly useClientAuthorizationHeader: boolean;
  readonly clientAuthorizationHeaderName: string;
  readonly clientAuthorizationHeaderScheme: string;
  readonly tokenIsSuppliedByQueryParam: boolean;
  readonly tokenQueryParamName: string;
  readonly tokenIsSuppliedByHttpHeader: boolean;
  readonly tokenHeaderName?: string;
  readonly tokenIsSuppliedByFormUrlEncoded: boolean;
  readonly tokenFormUrlEncodedName: string;
  readonly tokenTypeHint: string | false;
  readonly scopeSeparator: string;
  readonly userClaim: string;
  readonly userInfoUrl?: string;
  readonly userInfoEndpointMethod: OAuth2HttpMethod;
  /** RFC 7662 JSON, or RFC 9701 signed answers (which need `issuer` and `clientId`: checked at start-up). */
  readonly introspectionResponseFormat: OAuth2IntrospectionResponseFormat;
  readonly issuer?: string;
  readonly jwksUri?: string;
  readonly timeout: number;
  readonly maxResponseBytes: number;
  readonly tls?: OAuth2ResourceTlsOptions;
  readonly maxConcurrentConnections: number;
  readonly circuitBreaker: CircuitBreakerSettings | false;
  readonly httpClient?: OAuth2ResourceHttpOptions;
  readonly proxy?: OAuth2ResourceProxyOptions;
}

/** Applies the defaults (RFC 7662's shape) to a generic resource's validated options. */
export function genericResourceSettings(options: GenericOAuth2ResourceOptions): GenericOAuth2ResourceSettings {
  const method = options.introspectionEndpointMethod ?? 'POST';
  const byQuery = options.tokenIsSuppliedByQueryParam ?? false;
  const byHeader = options.tokenIsSuppliedByHttpHeader ?? false;
  // RFC 7662 puts the token in a form body; a GET has none, so it falls back to the query string.
  const byForm = options.tokenIsSuppliedByFormUrlEncoded ?? (method === 'POST' && !byQuery && !byHeader);
  return {
    name: options.name,
    // A resource with `issuer` has none until discovery (see IssuerDiscoveredResource).
    introspectionUrl: resolveEndpoint(options.authorizationServerUrl, options.introspectionEndpoint ?? ''),
    introspectionEndpointMethod: method,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    useClientAuthorizationHeader: options.useClientAuthorizationHeader ?? true,
    clientAuthorizationHeaderName: options.clientAuthorizationHeaderName ?? 'Authorization',
    clientAuthorizationHeaderScheme: options.clientAuthorizationHeaderScheme ?? 'Basic',
    tokenIsSuppliedByQueryParam: byQuery || (method === 'GET' && !byHeader && !byForm),
    tokenQueryParamName: options.tokenQueryParamName ?? 'token',
    tokenIsSuppliedByHttpHeader: byHeader,
    tokenHeaderName: options.tokenHeaderName,
    tokenIsSuppliedByFormUrlEncoded: byForm,
    tokenFormUrlEncodedName: options.tokenFormUrlEncodedName ?? 'token',
    tokenTypeHint: options.tokenTypeHint ?? 'access_token',
    scopeSeparator: options.scopeSeparator ?? ' ',
    userClaim: options.userClaim ?? 'sub',
    userInfoUrl:
      options.userInfoEndpoint === undefined
        ? undefined
        : resolveEndpoint(options.authorizationServerUrl, options.userInfoEndpoint),
    userInfoEndpointMethod: options.userInfoEndpointMethod ?? 'GET',
    introspectionResponseFormat: options.introspectionResponseFormat ?? 'json',
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.jwksUri !== undefined && { jwksUri: options.jwksUri }),
    timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    tls: options.tls,
    ...resolveConnectionLimits(options),
  };
}

/**
 * Gravitee's "Generic OAuth2 Authorization Server": introspects at any RFC 7662 endpoint, with the
 * request shaped by the resource's options. Unlike Gravitee's, every value is URL-encoded, the
 * `scopeSeparator` is honoured, and an answer without `active` is invalid, not active.
 */
export class GenericOAuth2Resource extends OAuth2Resource {
  readonly name: string;
  readonly userClaim: string;
  readonly scopeSeparator: string;
  /** The verifier of RFC 9701 answers, when the resource asks for them. */
  protected readonly signedAnswers: SignedIntrospectionVerifier | undefined;

  constructor(
    /** The resource's settings, defaults applied. */
    readonly settings: GenericOAuth2ResourceSettings,
  ) {
    super(new AuthorizationServerClient(settings.name, settings));
    this.name = settings.name;
    this.userClaim = settings.userClaim;
    this.scopeSeparator = settings.scopeSeparator;
    this.signedAnswers =
      settings.introspectionResponseFormat === 'jwt'
        ? new SignedIntrospectionVerifier(this.client, {
            // Both are there: the start-up check refuses 'jwt' without them.
            issuer: settings.issuer ?? '',
            audience: settings.clientId ?? '',
            ...(settings.jwksUri !== undefined && { jwksUri: settings.jwksUri }),
          })
        : undefined;
  }

  buildIntrospectionRequest(token: string): OutgoingRequest {
    const s = this.settings;
    const headers: Record<string, string> = {
      Accept: s.introspectionResponseFormat === 'jwt' ? SIGNED_INTROSPECTION_MEDIA_TYPE : 'application/json',
    };
    const query = new URLSearchParams();
    const form = new URLSearchParams();
    const hint = s.tokenTypeHint === false ? undefined : s.tokenTypeHint;
    if (s.tokenIsSuppliedByQueryParam) {
      query.set(s.tokenQueryParamName, token);
      if (hint && !s.tokenIsSuppliedByFormUrlEncoded) {
        query.set('token_type_hint', hint);
      }
    }
    if (s.tokenIsSuppliedByHttpHeader && s.tokenHeaderName) {
      headers[s.tokenHeaderName] = token;
    }
    if (s.tokenIsSuppliedByFormUrlEncoded) {
      form.set(s.tokenFormUrlEncodedName, token);
      if (hint) {
        form.set('token_type_hint', hint);
      }
    }
    if (s.clientId !== undefined) {
      if (s.useClientAuthorizationHeader) {
        const credentials = basicCredentials(s.clientId, s.clientSecret ?? '');
        headers[s.clientAuthorizationHeaderName] = s.clientAuthorizationHeaderScheme
          ? `${s.clientAuthorizationHeaderScheme} ${credentials}`
          : credentials;
      } else if (s.introspectionEndpointMethod === 'POST') {
        // client_secret_post (RFC 6749 §2.3.1). Never in a query string, where it would be logged.
        form.set('client_id', s.clientId);
        if (s.clientSecret !== undefined) {
          form.set('client_secret', s.clientSecret);
        }
      }
    }
    const hasBody = s.introspectionEndpointMethod === 'POST' && [...form.keys()].length > 0;
    if (hasBody) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    return {
      method: s.introspectionEndpointMethod,
      url: withQuery(s.introspectionUrl, query),
      headers,
      body: hasBody ? form.toString() : undefined,
    };
  }

  buildUserInfoRequest(token: string): OutgoingRequest {
    if (this.settings.userInfoUrl === undefined) {
      throw new Error(`resource '${this.name}' has no userInfoEndpoint: set it in its options to fetch userinfo`);
    }
    return {
      method: this.settings.userInfoEndpointMethod,
      url: this.settings.userInfoUrl,
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
    };
  }

  /**
   * With `introspectionResponseFormat: 'jwt'`, only a verified RFC 9701 answer: its
   * `token_introspection` member is the payload. A plain JSON answer is refused, whatever it says.
   */
  protected override readIntrospectionAnswer(
    answer: ServerAnswer,
  ): IntrospectionPayload | Promise<IntrospectionPayload> {
    const verifier = this.signedAnswers;
    if (verifier === undefined || answer.status !== 200) {
      return super.readIntrospectionAnswer(answer);
    }
    return verifier.verify(answer.body).then((introspection) => this.frozenPayload(introspection));
  }

  /**
   * A resource that asks for signed answers gets a JWS in a health check too: it counts as an answer
   * when it has the shape of one (its signature is checked on real requests, with the key set fetch
   * and the log lines a health check must not cause).
   */
  protected override isIntrospectionAnswer(body: string): boolean {
    return this.signedAnswers === undefined ? super.isIntrospectionAnswer(body) : looksLikeSignedAnswer(body);
  }

  isActive(payload: IntrospectionPayload): boolean | undefined {
    return readActive(payload.active);
  }
}

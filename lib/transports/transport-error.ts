import { IntrinsicException } from '@nestjs/common';
import { DEFAULT_ERRORS } from '../errors/error-messages';
import { errorProfileEntry } from '../errors/error-profiles';
import { wwwAuthenticate } from '../errors/error-response';
import type { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type { OAuth2Exception } from '../errors/oauth2.exception';
import type { OAuth2ErrorProfile } from '../interfaces/module-options.interface';

/**
 * The error of a rejection outside HTTP: the `error` of the `WsException` and of the `RpcException`
 * the guard throws, and the `extensions` of the GraphQL error (as `code` and `status`).
 */
export interface OAuth2TransportError {
  /** The policy's error key. */
  readonly key: OAuth2ErrorKey;
  /** The status the error profile gives the key over HTTP. */
  readonly statusCode: number;
  /** The key's default message. */
  readonly message: string;
}

/** What the rendering of a rejection outside HTTP depends on. */
export interface TransportErrorSettings {
  readonly realm: string;
  readonly errorProfile: OAuth2ErrorProfile;
  readonly protectedResource?: { readonly metadataUrl: string };
}

/** The error of a rejection, as every transport but HTTP carries it. Never the token, nor the server's answer. */
export function transportErrorOf(exception: OAuth2Exception, settings: TransportErrorSettings): OAuth2TransportError {
  const { status } = errorProfileEntry(settings.errorProfile, exception.key, exception.details.invalidRequest);
  return { key: exception.key, statusCode: status, message: DEFAULT_ERRORS[exception.key].message };
}

/** The `extensions` of a GraphQL rejection: the key as `code`, the profile's status, and Apollo Server's `http`. */
export interface OAuth2GraphQLErrorExtensions {
  readonly code: OAuth2ErrorKey;
  readonly status: number;
  /**
   * Read (and removed from the answer) by Apollo Server, which puts the challenge into the HTTP answer's
   * headers. Nest's Apollo driver then resets the status to 200 whenever the answer has a `data` member.
   * Left out under Mercurius, which would send it as it is (the challenge goes on its reply instead), and
   * for an operation with no HTTP request behind it (a subscription over graphql-ws), for the same reason.
   */
  readonly http?: { readonly status: number; readonly headers: Map<string, string> };
}

/**
 * A rejection in a GraphQL resolver. An `IntrinsicException`, so that Nest's GraphQL exception handler does
 * not log each rejection as an error with its stack (a client's missing token is not a server fault).
 * Not a `GraphQLError` (this package does not load `graphql`), but
 * graphql-js copies the `extensions` of any error a resolver throws into the error it reports, so the
 * client reads `extensions.code` (the key) and `extensions.status`. `statusCode` is what Mercurius takes
 * for the HTTP status when the operation has no data.
 */
export class OAuth2GraphQLError extends IntrinsicException {
  readonly extensions: OAuth2GraphQLErrorExtensions;
  readonly statusCode: number;

  /**
   * @param challenge the `WWW-Authenticate` value, put into `extensions.http` for Apollo Server; `null`
   *   leaves `extensions.http` out.
   */
  constructor(error: OAuth2TransportError, challenge: string | undefined | null) {
    super(error.message);
    this.name = 'OAuth2GraphQLError';
    const http =
      challenge === null
        ? undefined
        : { status: error.statusCode, headers: new Map(challenge ? [['www-authenticate', challenge]] : []) };
    this.extensions = { code: error.key, status: error.statusCode, ...(http && { http }) };
    this.statusCode = error.statusCode;
  }
}

/**
 * The GraphQL error of a rejection. `withHttp`: with `extensions.http` (the status and the
 * `WWW-Authenticate` challenge), which Apollo Server reads and removes.
 */
export function graphQLErrorOf(
  exception: OAuth2Exception,
  settings: TransportErrorSettings,
  withHttp: boolean,
): OAuth2GraphQLError {
  const challenge = wwwAuthenticate(
    exception,
    settings.realm,
    settings.errorProfile,
    settings.protectedResource?.metadataUrl,
  );
  return new OAuth2GraphQLError(transportErrorOf(exception, settings), withHttp ? challenge : null);
}

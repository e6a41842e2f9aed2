import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import type { GenericOAuth2ResourceOptions } from '../interfaces/resource-options.interface';
import { AuthorizationServerError } from './authorization-server.error';
import {
  GenericOAuth2Resource,
  type GenericOAuth2ResourceSettings,
  genericResourceSettings,
} from './generic-oauth2.resource';
import {
  type DiscoveredEndpoint,
  chooseClientAuthentication,
  discoveryBackoff,
  metadataUrls,
  readMetadata,
} from './issuer-discovery';
import type { OutgoingRequest } from './outgoing-request';

/**
 * A generic resource configured with `issuer`: its introspection endpoint (and, unless configured, its
 * client authentication) comes from the server's metadata. Until it does, introspection fails with
 * `OAUTH2_SERVER_UNAVAILABLE` without a request; discovery is retried with backoff (1 s doubling to
 * 60 s) until it succeeds or the application shuts down.
 */
export class IssuerDiscoveredResource extends GenericOAuth2Resource {
  private discovered = false;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: GenericOAuth2ResourceOptions & { issuer: string },
    /** The first retry's delay, in milliseconds; doubles up to 60 s. */
    private readonly firstRetryMs = 1000,
  ) {
    super(genericResourceSettings(options));
  }

  /**
   * One discovery attempt; on failure the next is scheduled. Resolves either way: a server that cannot
   * be reached at start-up must not stop the application.
   */
  async discover(): Promise<void> {
    if (this.discovered || this.closed) {
      return;
    }
    const problem = await this.tryDiscover();
    if (problem === undefined || this.closed) {
      return;
    }
    const delay = discoveryBackoff(this.attempts++, this.firstRetryMs);
    this.client.failure(`metadata of issuer '${this.options.issuer}' ${problem}; next attempt in ${delay} ms`);
    this.timer = setTimeout(() => void this.discover(), delay);
    // A retry alone must not keep the process alive.
    this.timer.unref();
  }

  /** Whether the introspection endpoint is known. */
  get isDiscovered(): boolean {
    return this.discovered;
  }

  override buildIntrospectionRequest(token: string): OutgoingRequest {
    if (!this.discovered) {
      // Not through client.failure(): the discovery's own failure was logged once.
      throw new AuthorizationServerError(
        OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE,
        this.name,
        'has no introspection endpoint yet: its issuer metadata could not be read',
      );
    }
    return super.buildIntrospectionRequest(token);
  }

  override close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    super.close();
  }

  /** Reads the RFC 8414 document, else the OpenID one; `undefined` once adopted, else why not. */
  private async tryDiscover(): Promise<string | undefined> {
    const reasons: string[] = [];
    for (const url of metadataUrls(this.options.issuer)) {
      let found: DiscoveredEndpoint | string;
      try {
        const answer = await this.client.send({ method: 'GET', url, headers: { Accept: 'application/json' } });
        found =
          answer.status === 200 ? readMetadata(answer.body, this.options.issuer) : `answered HTTP ${answer.status}`;
      } catch (error) {
        found = error instanceof AuthorizationServerError ? error.reason : 'could not be fetched';
      }
      if (typeof found !== 'string' && found.jwksUri === undefined && this.signedAnswers?.needsJwksUri === true) {
        found = "has no jwks_uri, which introspectionResponseFormat 'jwt' needs: set the resource's jwksUri";
      }
      if (typeof found !== 'string') {
        this.adopt(found);
        return undefined;
      }
      reasons.push(`${new URL(url).pathname} ${found}`);
    }
    return `could not be used (${reasons.join('; ')})`;
  }

  private adopt(found: DiscoveredEndpoint): void {
    let useHeader = this.options.useClientAuthorizationHeader;
    if (useHeader === undefined && this.options.clientId !== undefined) {
      const method = chooseClientAuthentication(found.authMethods);
      if (method === undefined) {
        this.client.failure(
          `metadata of issuer '${this.options.issuer}' lists neither client_secret_basic nor client_secret_post for introspection: client_secret_basic is used; set useClientAuthorizationHeader to choose`,
        );
      }
      useHeader = method !== 'client_secret_post';
    }
    const settings: GenericOAuth2ResourceSettings = genericResourceSettings({
      ...this.options,
      introspectionEndpoint: found.introspectionEndpoint,
      ...(useHeader !== undefined && { useClientAuthorizationHeader: useHeader }),
    });
    if (found.jwksUri !== undefined) {
      this.signedAnswers?.useDiscoveredJwksUri(found.jwksUri);
    }
    // The settings are read per request by the base class: the discovered ones replace the placeholder.
    (this as { settings: GenericOAuth2ResourceSettings }).settings = settings;
    this.discovered = true;
    this.client.success();
  }
}

import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import { AxiosError, AxiosResponse } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import { firstValueFrom } from 'rxjs';
import { OAuth2ErrorKey } from '../errors/oauth2-error-key.enum';
import { AuthorizationServerError, AuthorizationServerErrorKey } from './authorization-server.error';
import type { OutgoingRequest } from './outgoing-request';

/** Limits of the HTTP calls to one authorization server. */
export interface AuthorizationServerClientLimits {
  /** Milliseconds for the whole call, connection included. */
  readonly timeout: number;
  /** Largest answer accepted, in bytes. */
  readonly maxResponseBytes: number;
}

/** An authorization server's answer: its status and raw body, which never leaves the module. */
export interface ServerAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * Sends the requests of one resource to its authorization server over kept-alive connections,
 * bounded in time and size, never following redirects. Logs an outage once when it starts and
 * once when it ends, never once per request.
 */
export class AuthorizationServerClient {
  private readonly logger = new Logger('OAuth2Resource');
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private outageSince: number | undefined;

  constructor(
    private readonly http: HttpService,
    private readonly resourceName: string,
    private readonly limits: AuthorizationServerClientLimits,
  ) {}

  /**
   * Sends a request and returns the answer, whatever its status.
   *
   * @throws AuthorizationServerError (`OAUTH2_SERVER_UNAVAILABLE`) when there is no answer in time.
   */
  async send(request: OutgoingRequest): Promise<ServerAnswer> {
    let response: AxiosResponse<string>;
    try {
      response = await firstValueFrom(
        this.http.request<string>({
          url: request.url,
          method: request.method,
          headers: request.headers,
          data: request.body,
          timeout: this.limits.timeout,
          signal: AbortSignal.timeout(this.limits.timeout),
          maxContentLength: this.limits.maxResponseBytes,
          maxRedirects: 0,
          responseType: 'text',
          transformResponse: [(data: unknown) => data],
          validateStatus: () => true,
          httpAgent: this.httpAgent,
          httpsAgent: this.httpsAgent,
        }),
      );
    } catch (error) {
      const { reason, key } = this.describeFailure(error);
      throw this.failure(reason, key);
    }
    return { status: response.status, body: typeof response.data === 'string' ? response.data : '' };
  }

  /** Records a failed call (for the outage log) and returns the error to throw. */
  failure(reason: string, key: AuthorizationServerErrorKey = OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE): AuthorizationServerError {
    const error = new AuthorizationServerError(key, this.resourceName, reason);
    if (this.outageSince === undefined) {
      this.outageSince = Date.now();
      this.logger.warn(`${error.message}: requests are rejected until it answers again`);
    } else {
      this.logger.debug(error.message);
    }
    return error;
  }

  /** Records a successful call; ends an outage. */
  success(): void {
    if (this.outageSince !== undefined) {
      const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
      this.outageSince = undefined;
      this.logger.log(`authorization server of resource '${this.resourceName}' answers again, after ${seconds} s of failures`);
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** A short reason for a failed call. Axios messages are not used: they may hold the URL, and so a token. */
  private describeFailure(error: unknown): { reason: string; key: AuthorizationServerErrorKey } {
    const axiosError = error as Partial<AxiosError>;
    const code = axiosError?.code;
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') {
      return { reason: `did not answer within ${this.limits.timeout} ms`, key: OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE };
    }
    if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(String(axiosError.message))) {
      return {
        reason: `answered more than ${this.limits.maxResponseBytes} bytes`,
        key: OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE,
      };
    }
    const reason = `could not be reached (${typeof code === 'string' ? code : 'network error'})`;
    return { reason, key: OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE };
  }
}

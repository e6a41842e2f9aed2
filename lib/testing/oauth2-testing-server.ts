import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GenericOAuth2ResourceOptions, OAuth2ModuleOptions } from '../interfaces';
import type {
  OAuth2TestingIntrospection,
  OAuth2TestingServerOptions,
  OAuth2TestingTokenOptions,
} from './oauth2-testing.interfaces';

/** The introspection answer of an active token (RFC 7662, section 2.2). */
type ActiveAnswer = Record<string, unknown> & { active: true; exp: number; iat: number };

interface IssuedToken {
  answer: ActiveAnswer;
  active: boolean;
}

/** The most bytes of a request body the server reads; a form with one token is far below it. */
const MAX_BODY_BYTES = 64 * 1024;
const INTROSPECTION_PATH = '/introspect';

/**
 * A real RFC 7662 token introspection server for an application's tests, in the test's own process,
 * on `127.0.0.1` and a port the system picks. It issues opaque tokens (random base64url strings) with
 * the claims a test asks for, revokes them, and answers `POST /introspect` as an authorization server
 * would, so the application's guard runs exactly as in production: no mock, no guard switched off.
 *
 * Client authentication: the introspection endpoint accepts only the credentials of {@link resource}
 * (`clientId` and `clientSecret`), in a Basic header (`client_secret_basic`, the module's default) or as
 * form fields (`client_secret_post`); any other request gets 401 `invalid_client`, as RFC 7662 asks. An
 * unknown, revoked, expired or `active: false` token gets `{ "active": false }`.
 *
 * @example
 * const as = await OAuth2TestingServer.start();
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
 *   .overrideProvider(OAUTH2_MODULE_OPTIONS)
 *   .useValue(as.moduleOptions())
 *   .compile();
 * const token = as.issueToken({ scope: 'orders:read' });
 * // ... request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`)
 * await as.close();
 */
export class OAuth2TestingServer {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly received: OAuth2TestingIntrospection[] = [];

  private constructor(
    private readonly server: Server,
    /** The server's base URL, `http://127.0.0.1:<port>`. */
    readonly url: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {}

  /**
   * Starts a server on `127.0.0.1`, on a port the system picks.
   *
   * @example
   * const as = await OAuth2TestingServer.start();
   */
  static async start(options: OAuth2TestingServerOptions = {}): Promise<OAuth2TestingServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const testing = new OAuth2TestingServer(
      server,
      `http://127.0.0.1:${port}`,
      options.clientId ?? 'test-resource-server',
      options.clientSecret ?? randomBytes(24).toString('base64url'),
    );
    server.on('request', (request: IncomingMessage, response: ServerResponse) => testing.handle(request, response));
    return testing;
  }

  /** The introspection endpoint's URL, `http://127.0.0.1:<port>/introspect`. */
  get introspectionEndpoint(): string {
    return `${this.url}${INTROSPECTION_PATH}`;
  }

  /** The requests the introspection endpoint received, oldest first (without the tokens). */
  get introspections(): readonly OAuth2TestingIntrospection[] {
    return this.received;
  }

  /** How many requests the introspection endpoint received: e.g. to see that the module's cache answered. */
  get introspectionCount(): number {
    return this.received.length;
  }

  /**
   * Issues a token and returns it: a random base64url string (an RFC 6750 `b64token`) that the server
   * introspects as active, with these claims, until it expires or is revoked.
   *
   * @example
   * const reader = as.issueToken({ scope: 'orders:read', sub: 'ann' });
   * const expired = as.issueToken({ scope: 'orders:read', expiresInSeconds: -1 });
   * const inactive = as.issueToken({ active: false });
   */
  issueToken(options: OAuth2TestingTokenOptions = {}): string {
    const token = randomBytes(32).toString('base64url');
    const iat = Math.floor(Date.now() / 1000);
    const scope = typeof options.scope === 'string' ? options.scope : options.scope?.join(' ');
    const answer: ActiveAnswer = {
      ...options.claims,
      active: true,
      ...(scope && { scope }),
      client_id: options.clientId ?? 'test-client',
      ...(options.sub !== undefined && { sub: options.sub }),
      ...(options.aud !== undefined && { aud: typeof options.aud === 'string' ? options.aud : [...options.aud] }),
      iss: options.iss ?? this.url,
      exp: iat + (options.expiresInSeconds ?? 3600),
      iat,
      token_type: 'Bearer',
    };
    this.tokens.set(token, { answer, active: options.active ?? true });
    return token;
  }

  /**
   * Revokes a token: from now on the server reports it inactive. An application that caches
   * introspection answers keeps a cached one until its time to live ends. Returns whether this server
   * had issued the token.
   */
  revoke(token: string): boolean {
    const issued = this.tokens.get(token);
    if (issued) {
      issued.active = false;
    }
    return issued !== undefined;
  }

  /**
   * A generic resource (RFC 7662 introspection with `client_secret_basic`) that points at this server,
   * for `OAuth2Module.forRoot({ resources: [...] })`.
   *
   * @example
   * OAuth2Module.forRoot({ resources: [as.resource()], policy: { oauthResource: 'test-as' } })
   */
  resource(name = 'test-as'): GenericOAuth2ResourceOptions {
    return {
      name,
      type: 'generic',
      introspectionEndpoint: this.introspectionEndpoint,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
    };
  }

  /**
   * The module options that point an application at this server, for
   * `Test.createTestingModule(...).overrideProvider(OAUTH2_MODULE_OPTIONS).useValue(...)` (which works
   * for `forRoot` and `forRootAsync` alike, and keeps `global`).
   *
   * - Without `options`: one resource, {@link resource}, and `policy.oauthResource` naming it, no cache.
   * - With the application's own options: the same options, with every resource replaced by one of the
   *   same name (and `userClaim`) that points at this server, so the policy, caches and templates under
   *   test are the application's.
   *
   * @example
   * .overrideProvider(OAUTH2_MODULE_OPTIONS).useValue(as.moduleOptions(appOAuth2Options()))
   */
  moduleOptions(options?: OAuth2ModuleOptions): OAuth2ModuleOptions {
    if (options === undefined) {
      return { resources: [this.resource()], policy: { oauthResource: 'test-as' } };
    }
    return {
      ...options,
      resources: options.resources.map((resource) => ({
        ...this.resource(resource.name),
        ...(resource.userClaim !== undefined && { userClaim: resource.userClaim }),
      })),
    };
  }

  /** Stops the server, closing the connections the application keeps alive. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', this.url).pathname;
    if (path !== INTROSPECTION_PATH) {
      this.answer(response, 404, { error: 'not_found' });
      request.resume();
      return;
    }
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST');
      this.answer(response, 405, { error: 'invalid_request', error_description: 'use POST' });
      request.resume();
      return;
    }
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        this.answer(response, 413, { error: 'invalid_request', error_description: 'request body too large' });
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!response.headersSent) {
        this.introspect(request, new URLSearchParams(Buffer.concat(chunks).toString('utf8')), response);
      }
    });
  }

  private introspect(request: IncomingMessage, form: URLSearchParams, response: ServerResponse): void {
    const client = this.authenticate(request.headers.authorization, form);
    const tokenTypeHint = form.get('token_type_hint') ?? undefined;
    const record = { clientAuthentication: client.method, clientId: client.clientId, tokenTypeHint };
    if (!client.valid) {
      this.received.push({ ...record, status: 401, active: false });
      response.setHeader('WWW-Authenticate', 'Basic realm="introspection"');
      this.answer(response, 401, { error: 'invalid_client' });
      return;
    }
    const token = form.get('token');
    if (!token) {
      this.received.push({ ...record, status: 400, active: false });
      this.answer(response, 400, { error: 'invalid_request', error_description: 'the form has no token' });
      return;
    }
    const issued = this.tokens.get(token);
    const active = issued !== undefined && issued.active && issued.answer.exp > Date.now() / 1000;
    this.received.push({ ...record, status: 200, active });
    this.answer(response, 200, active ? issued.answer : { active: false });
  }

  private authenticate(
    authorization: string | undefined,
    form: URLSearchParams,
  ): { method: OAuth2TestingIntrospection['clientAuthentication']; clientId?: string; valid: boolean } {
    if (authorization !== undefined) {
      const [scheme, credentials = ''] = authorization.split(' ', 2);
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (scheme.toLowerCase() !== 'basic' || colon < 0) {
        return { method: 'basic', valid: false };
      }
      // RFC 6749, section 2.3.1: both parts are form-urlencoded before they are joined.
      const clientId = safeDecode(decoded.slice(0, colon));
      const secret = safeDecode(decoded.slice(colon + 1));
      return { method: 'basic', clientId, valid: this.isClient(clientId, secret) };
    }
    const clientId = form.get('client_id') ?? undefined;
    if (clientId === undefined) {
      return { method: 'none', valid: false };
    }
    return { method: 'post', clientId, valid: this.isClient(clientId, form.get('client_secret') ?? '') };
  }

  private isClient(clientId: string, secret: string): boolean {
    // Compared as digests, so the comparison takes the same time whatever the lengths.
    const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
    return same(clientId, this.clientId) && same(secret, this.clientSecret);
  }

  private answer(response: ServerResponse, status: number, body: object): void {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    response.end(JSON.stringify(body));
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

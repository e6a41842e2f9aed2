import { type JWK, type KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted RFC 9701 authorization server on 127.0.0.1: its metadata (issuer, introspection endpoint,
 * jwks_uri), a JWK set the test changes (each fetch counted), and an introspection endpoint whose answer
 * the test writes: signed by the server's keys, by another key, unsigned, with wrong claims, or plain
 * JSON. For the attack tests of signed introspection answers.
 */

/** A signing key and its public JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyLike;
  readonly publicJwk: JWK;
}

/** An ES256 key pair (or another asymmetric algorithm's). */
export async function signingKey(kid: string, alg = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** What the introspection endpoint answers. */
export interface IntrospectionReply {
  readonly status?: number;
  readonly contentType?: string;
  readonly body: string;
}

/** The claims of a signed answer, each replaceable by a test. */
export interface SignedAnswerClaims {
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds since the epoch; default now. */
  readonly iat?: number;
  readonly typ?: string;
  readonly tokenIntrospection?: unknown;
}

export class SignedIntrospectionServer {
  /** The keys published at jwks_uri. */
  published: SigningKey[] = [];
  /** Fetches of the JWK set so far. */
  jwksFetches = 0;
  /** Introspection requests so far, with their Accept header. */
  readonly accepts: (string | undefined)[] = [];
  /** The introspection endpoint's answer. */
  reply: () => IntrospectionReply | Promise<IntrospectionReply> = () => ({ status: 500, body: '' });

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  static async start(): Promise<SignedIntrospectionServer> {
    let handle: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
    const server = createServer((request, response) => handle(request, response));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const instance = new SignedIntrospectionServer(server, `http://127.0.0.1:${port}`);
    handle = (request, response) => void instance.handle(request, response);
    return instance;
  }

  /** The JWS of an answer, signed with `key` (the token_introspection an active token's by default). */
  async sign(key: SigningKey, claims: SignedAnswerClaims = {}, audience = 'rs'): Promise<string> {
    return new SignJWT({
      token_introspection: claims.tokenIntrospection ?? {
        active: true,
        client_id: 'orders-client',
        scope: 'orders:read',
      },
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: claims.typ ?? 'token-introspection+jwt' })
      .setIssuer(claims.iss ?? this.issuer)
      .setAudience(claims.aud ?? audience)
      .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
      .sign(key.privateKey);
  }

  /** An RFC 9701 answer. */
  static jwt(body: string): IntrospectionReply {
    return { status: 200, contentType: 'application/token-introspection+jwt', body };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The body of a POST is read and dropped: the answer is the test's.
    for await (const _chunk of request) {
      // drained
    }
    const path = (request.url ?? '').split('?')[0];
    if (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration') {
      this.json(response, 200, {
        issuer: this.issuer,
        introspection_endpoint: `${this.issuer}/introspect`,
        jwks_uri: `${this.issuer}/jwks`,
        introspection_signing_alg_values_supported: ['ES256', 'RS256'],
      });
    } else if (path === '/jwks') {
      this.jwksFetches += 1;
      this.json(response, 200, { keys: this.published.map((key) => key.publicJwk) });
    } else if (path === '/introspect') {
      this.accepts.push(request.headers.accept);
      const reply = await this.reply();
      response.writeHead(reply.status ?? 200, { 'Content-Type': reply.contentType ?? 'application/json' });
      response.end(reply.body);
    } else {
      this.json(response, 404, { error: 'not_found' });
    }
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  }
}

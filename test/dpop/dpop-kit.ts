import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type JWK, type KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';

/** Every bounded wait of these tests. */
export const WAIT_MS = 10_000;

/** What test/support/dpop-provider.mjs prints once it listens. */
export interface DpopProviderInfo {
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly introspectionUrl: string;
  readonly client: { readonly clientId: string; readonly clientSecret: string };
  readonly introspector: { readonly clientId: string; readonly clientSecret: string };
}

/** node-oidc-provider with `features.dPoP`, in a child process (it is ESM-only: the Nest 11 leg is CommonJS). */
export class DpopProvider {
  private constructor(
    readonly info: DpopProviderInfo,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<DpopProvider> {
    const child = spawn(process.execPath, [join(process.cwd(), 'test/support/dpop-provider.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const info = await new Promise<DpopProviderInfo>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error('dpop-provider did not start in time')), WAIT_MS);
      child.once('exit', (code) => reject(new Error(`dpop-provider exited (${String(code)})`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const end = output.indexOf('\n');
        if (end >= 0) {
          clearTimeout(timer);
          resolve(JSON.parse(output.slice(0, end)) as DpopProviderInfo);
        }
      });
    });
    return new DpopProvider(info, child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** What a test may change in a proof. */
export interface ProofOptions {
  readonly htm: string;
  readonly htu: string;
  /** The access token, for `ath`; none for the token request. */
  readonly token?: string;
  readonly iat?: number;
  readonly jti?: string;
  readonly nonce?: string;
  readonly typ?: string;
  /** Replaces `ath`. */
  readonly ath?: string;
}

/** A DPoP client: its key pair, and proofs made with jose as a client library would. */
export class DpopKey {
  private constructor(
    readonly alg: 'ES256' | 'EdDSA',
    private readonly privateKey: KeyLike,
    readonly jwk: JWK,
  ) {}

  static async generate(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
    return new DpopKey(alg, privateKey, await exportJWK(publicKey));
  }

  /** A proof (RFC 9449 §4.2), fresh `jti` and `iat` unless told. */
  proof(options: ProofOptions): Promise<string> {
    const ath = options.ath ?? (options.token === undefined ? undefined : sha256(options.token));
    return new SignJWT({
      htm: options.htm,
      htu: options.htu,
      ...(ath !== undefined && { ath }),
      ...(options.nonce !== undefined && { nonce: options.nonce }),
    })
      .setProtectedHeader({ alg: this.alg, typ: options.typ ?? 'dpop+jwt', jwk: this.jwk })
      .setJti(options.jti ?? randomUUID())
      .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
      .sign(this.privateKey);
  }
}

/** base64url(SHA-256(value)): `ath`. */
export function sha256(value: string): string {
  return createHash('sha256').update(value, 'ascii').digest('base64url');
}

/** A DPoP-bound access token from the provider (client_credentials with a proof, RFC 9449 §5). */
export async function obtainDpopToken(provider: DpopProviderInfo, key: DpopKey): Promise<string> {
  const { clientId, clientSecret } = provider.client;
  const response = await fetch(provider.tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      DPoP: await key.proof({ htm: 'POST', htu: provider.tokenUrl }),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString(),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const body = (await response.json()) as { access_token?: string; token_type?: string };
  if (response.status !== 200 || body.token_type !== 'DPoP' || body.access_token === undefined) {
    throw new Error(`the provider issued no DPoP token (${response.status} ${JSON.stringify(body)})`);
  }
  return body.access_token;
}

/** A plain Bearer token from the provider (client_credentials without a proof). */
export async function obtainBearerToken(provider: DpopProviderInfo): Promise<string> {
  const { clientId, clientSecret } = provider.client;
  const response = await fetch(provider.tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString(),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const body = (await response.json()) as { access_token?: string; token_type?: string };
  if (response.status !== 200 || body.token_type !== 'Bearer' || body.access_token === undefined) {
    throw new Error(`the provider issued no Bearer token (${response.status})`);
  }
  return body.access_token;
}

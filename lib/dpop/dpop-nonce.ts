import { type KeyObject, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of the HMAC kept in a nonce: 128 bits, beyond guessing. */
const MAC_BYTES = 16;

/**
 * Server nonces of RFC 9449 §8–9 without state: a nonce is a time window's number and an HMAC of it
 * under a secret, so any instance that has the secret checks any instance's nonce, and nothing is
 * stored. A nonce is good in its window and the next (between one and two lifetimes), after which
 * the client is told `use_dpop_nonce` with the current one.
 *
 * Without a configured secret, each process draws its own: fine for one instance; a fleet behind a
 * load balancer needs `dpopNonces.secret`, the same on every instance, or clients keep being asked
 * for a new nonce as their requests land on other instances.
 */
export class DpopNonces {
  private readonly key: KeyObject;
  private readonly lifetimeMs: number;
  private issuedWindow = -1;
  private issued = '';

  constructor(secret: string | undefined, lifetimeSeconds: number) {
    this.key = createSecretKey(secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8'));
    this.lifetimeMs = lifetimeSeconds * 1000;
  }

  /** The nonce to hand out now (the same string for the whole window). */
  current(now = Date.now()): string {
    const window = Math.floor(now / this.lifetimeMs);
    if (window !== this.issuedWindow) {
      this.issued = this.nonceOf(window);
      this.issuedWindow = window;
    }
    return this.issued;
  }

  /** Whether a proof's `nonce` claim is one of this secret's, of the current or the previous window. */
  accepts(nonce: unknown, now = Date.now()): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) {
      return false;
    }
    const bytes = Buffer.from(nonce, 'base64url');
    if (bytes.length !== 6 + MAC_BYTES) {
      return false;
    }
    const window = bytes.readUIntBE(0, 6);
    const currentWindow = Math.floor(now / this.lifetimeMs);
    if (window !== currentWindow && window !== currentWindow - 1) {
      return false;
    }
    return timingSafeEqual(bytes.subarray(6), this.macOf(window));
  }

  private nonceOf(window: number): string {
    const bytes = Buffer.alloc(6 + MAC_BYTES);
    bytes.writeUIntBE(window, 0, 6);
    this.macOf(window).copy(bytes, 6);
    return bytes.toString('base64url');
  }

  private macOf(window: number): Buffer {
    return createHmac('sha256', this.key).update(`dpop-nonce\0${window}`).digest().subarray(0, MAC_BYTES);
  }
}

import { DpopNonces } from './dpop-nonce';

describe('DpopNonces', () => {
  const secret = 's'.repeat(32);

  it('accepts its nonce in its window and the next, not after, and another secret never', () => {
    const nonces = new DpopNonces(secret, 60);
    const t0 = 1_800_000_000_000;
    const nonce = nonces.current(t0);
    expect(nonces.current(t0 + 1)).toBe(nonce);
    expect(nonces.accepts(nonce, t0)).toBe(true);
    expect(nonces.accepts(nonce, t0 + 60_000)).toBe(true);
    expect(nonces.accepts(nonce, t0 + 120_000)).toBe(false);
    expect(new DpopNonces(secret, 60).accepts(nonce, t0)).toBe(true);
    expect(new DpopNonces('t'.repeat(32), 60).accepts(nonce, t0)).toBe(false);
    expect(new DpopNonces(undefined, 60).accepts(nonce, t0)).toBe(false);
  });

  it('refuses what is not a nonce', () => {
    const nonces = new DpopNonces(secret, 60);
    const tampered = Buffer.from(nonces.current(), 'base64url');
    tampered[tampered.length - 1] ^= 1;
    for (const value of [undefined, 1, '', 'x'.repeat(65), 'AAAA', tampered.toString('base64url')]) {
      expect(nonces.accepts(value)).toBe(false);
    }
  });
});

import { DpopReplayStore, dpopReplayKey } from './dpop-replay';

describe('DpopReplayStore (process-local)', () => {
  it('refuses a second use within the TTL, accepts it after', () => {
    const store = new DpopReplayStore();
    const key = dpopReplayKey('jkt', 'jti');
    expect(store.firstUseHere(key, 1000, 0)).toBe(true);
    expect(store.firstUseHere(key, 1000, 999)).toBe(false);
    expect(store.firstUseHere(key, 1000, 1000)).toBe(true);
  });

  it('stays bounded: the oldest goes first when full', () => {
    const store = new DpopReplayStore(3);
    for (let index = 0; index < 10; index += 1) {
      expect(store.firstUseHere(`k${index}`, 60_000, 0)).toBe(true);
    }
    expect(store.size).toBeLessThanOrEqual(3);
    expect(store.firstUseHere('k9', 60_000, 1)).toBe(false);
  });

  it('keys by a digest of thumbprint and jti, never the raw values', () => {
    const key = dpopReplayKey('thumbprint', 'my-jti');
    expect(key).not.toContain('my-jti');
    expect(key).not.toBe(dpopReplayKey('thumbprin', 't\0my-jti'));
  });
});

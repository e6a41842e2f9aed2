import { ClockMap } from './clock-map';

describe('ClockMap', () => {
  it('gives back what was set, and forgets what was deleted', () => {
    const map = new ClockMap<number>(3);
    map.set('a', 1).set('b', 2);
    expect(map.get('a')).toBe(1);
    expect(map.has('b')).toBe(true);
    expect(map.delete('b')).toBe(true);
    expect(map.get('b')).toBeUndefined();
    expect(map.size).toBe(1);
    map.clear();
    expect(map.size).toBe(0);
  });

  it('never holds more than its capacity', () => {
    const map = new ClockMap<number>(4);
    for (let index = 0; index < 100; index++) {
      map.set(`k${index}`, index);
      if (index % 3 === 0) {
        map.get(`k${index - 1}`);
      }
      expect(map.size).toBeLessThanOrEqual(4);
    }
  });

  it('drops the oldest entry when none was read', () => {
    const map = new ClockMap<number>(3);
    map.set('a', 1).set('b', 2).set('c', 3).set('d', 4);
    expect(['a', 'b', 'c', 'd'].map((key) => map.has(key))).toEqual([false, true, true, true]);
  });

  it('keeps an entry that was read over older ones that were not', () => {
    const map = new ClockMap<number>(3);
    map.set('a', 1).set('b', 2).set('c', 3);
    map.get('a');
    map.set('d', 4);
    expect(['a', 'b', 'c', 'd'].map((key) => map.has(key))).toEqual([true, false, true, true]);
  });

  it('gives a read entry one second chance, not a permanent place', () => {
    const map = new ClockMap<number>(2);
    map.set('a', 1).set('b', 2);
    map.get('a');
    map.set('c', 3); // passes over 'a' (its mark cleared), drops 'b'
    map.set('d', 4); // 'a' was not read again: it goes now
    expect(['a', 'b', 'c', 'd'].map((key) => map.has(key))).toEqual([false, false, true, true]);
  });

  it('drops the oldest entry when every entry was read', () => {
    const map = new ClockMap<number>(3);
    map.set('a', 1).set('b', 2).set('c', 3);
    for (const key of ['c', 'b', 'a']) {
      map.get(key);
    }
    map.set('d', 4);
    expect(['a', 'b', 'c', 'd'].map((key) => map.has(key))).toEqual([false, true, true, true]);
  });

  it('replaces the value of a key set again, without dropping another entry', () => {
    const map = new ClockMap<number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect(map.get('a')).toBe(3);
    expect(map.get('b')).toBe(2);
    expect(map.size).toBe(2);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a capacity of %p', (capacity) => {
    expect(() => new ClockMap(capacity)).toThrow(RangeError);
  });

  describe('with an idle time', () => {
    it('drops an entry not read for that long, at its next read', () => {
      const map = new ClockMap<number>(10, 1000);
      const start = Date.now();
      map.set('a', 1).set('b', 2);
      expect(map.get('a', start + 900)).toBe(1);
      // 'a' was read at +900: idle until +1900. 'b' was never read: gone at +1000.
      expect(map.get('a', start + 1800)).toBe(1);
      expect(map.get('b', start + 1800)).toBeUndefined();
      expect(map.has('b')).toBe(false);
      expect(map.get('a', start + 2800)).toBeUndefined();
      expect(map.size).toBe(0);
    });

    it('restarts the idle time of a key set again', () => {
      const map = new ClockMap<number>(10, 50);
      map.set('a', 1);
      const later = Date.now() + 40;
      map.set('a', 2);
      expect(map.get('a', later)).toBe(2);
    });

    it.each([0, -5, Number.NaN])('refuses an idle time of %p', (idle) => {
      expect(() => new ClockMap(10, idle)).toThrow(RangeError);
    });
  });

  describe('aliases', () => {
    it('finds an entry by its alias in a scope, and only in that scope', () => {
      const map = new ClockMap<number>(10);
      map.set('k1', 1);
      map.alias('k1', 'resource-a', 'token-1');
      expect(map.getByAlias('resource-a', 'token-1')).toBe(1);
      expect(map.getByAlias('resource-b', 'token-1')).toBeUndefined();
      expect(map.getByAlias('resource-a', 'token-2')).toBeUndefined();
      expect(map.aliasCount).toBe(1);
    });

    it('gives no alias to a key that is not there', () => {
      const map = new ClockMap<number>(10);
      map.alias('missing', 'scope', 'alias');
      expect(map.getByAlias('scope', 'alias')).toBeUndefined();
      expect(map.aliasCount).toBe(0);
    });

    it('drops the alias with its entry: deleted, replaced, evicted, cleared', () => {
      const map = new ClockMap<number>(2);
      map.set('a', 1).set('b', 2);
      map.alias('a', 's', 'alias-a');
      map.alias('b', 's', 'alias-b');
      map.delete('a');
      expect(map.getByAlias('s', 'alias-a')).toBeUndefined();
      map.set('b', 20);
      // The new value of a key starts without the alias of the old one.
      expect(map.getByAlias('s', 'alias-b')).toBeUndefined();
      map.alias('b', 's', 'alias-b');
      map.set('c', 3);
      expect(map.aliasCount).toBe(1);
      // Full: 'd' evicts the oldest entry not read, 'b', and its alias with it.
      map.set('d', 4);
      expect(map.has('b')).toBe(false);
      expect(map.getByAlias('s', 'alias-b')).toBeUndefined();
      expect(map.aliasCount).toBe(0);
      map.alias('d', 's', 'alias-d');
      map.clear();
      expect(map.getByAlias('s', 'alias-d')).toBeUndefined();
      expect(map.aliasCount).toBe(0);
    });

    it('holds no more aliases than entries, however many it was given', () => {
      const map = new ClockMap<number>(5);
      for (let index = 0; index < 200; index++) {
        map.set(`k${index}`, index);
        map.alias(`k${index}`, 's', `t${index}`);
        map.alias(`k${index}`, 's', `u${index}`);
        expect(map.aliasCount).toBeLessThanOrEqual(map.size);
      }
      // One alias per entry: the second replaced the first.
      expect(map.getByAlias('s', 't199')).toBeUndefined();
      expect(map.getByAlias('s', 'u199')).toBe(199);
    });

    it('moves an alias to the entry it is given to last', () => {
      const map = new ClockMap<number>(10);
      map.set('a', 1).set('b', 2);
      map.alias('a', 's', 'x');
      map.alias('b', 's', 'x');
      expect(map.getByAlias('s', 'x')).toBe(2);
      map.delete('a');
      expect(map.getByAlias('s', 'x')).toBe(2);
      expect(map.aliasCount).toBe(1);
    });

    it('counts a read by alias as a use, and drops an idle entry with its alias', () => {
      const map = new ClockMap<number>(10, 1000);
      const start = Date.now();
      map.set('a', 1);
      map.alias('a', 's', 'x');
      expect(map.getByAlias('s', 'x', start + 900)).toBe(1);
      expect(map.get('a', start + 1800)).toBe(1);
      expect(map.getByAlias('s', 'x', start + 2900)).toBeUndefined();
      expect(map.has('a')).toBe(false);
      expect(map.aliasCount).toBe(0);
    });

    it('renames an alias: the entry keeps one, found by the new name only, and it goes with the entry', () => {
      const map = new ClockMap<number>(10);
      map.set('a', 1).set('b', 2);
      map.alias('a', 's', 'x');
      map.renameAlias('s', 'x', 'Bearer x');
      expect(map.getByAlias('s', 'x')).toBeUndefined();
      expect(map.getByAlias('s', 'Bearer x')).toBe(1);
      expect(map.aliasCount).toBe(1);
      // Renamed back, and to itself: still one alias.
      map.renameAlias('s', 'Bearer x', 'x');
      map.renameAlias('s', 'x', 'x');
      expect(map.getByAlias('s', 'x')).toBe(1);
      expect(map.aliasCount).toBe(1);
      // A name another entry held moves to this one; a name nobody holds renames nothing.
      map.alias('b', 's', 'y');
      map.renameAlias('s', 'x', 'y');
      expect(map.getByAlias('s', 'y')).toBe(1);
      map.renameAlias('s', 'absent', 'z');
      map.renameAlias('other', 'y', 'z');
      expect(map.getByAlias('s', 'z')).toBeUndefined();
      expect(map.aliasCount).toBe(1);
      // Dropping the entry that lost the name leaves the renamed alias alone; dropping its own drops it.
      map.delete('b');
      expect(map.getByAlias('s', 'y')).toBe(1);
      map.delete('a');
      expect(map.getByAlias('s', 'y')).toBeUndefined();
      expect(map.aliasCount).toBe(0);
    });

    it('does not count a rename as a read', () => {
      const map = new ClockMap<number>(2);
      map.set('a', 1).set('b', 2);
      map.alias('a', 's', 'x');
      map.renameAlias('s', 'x', 'y');
      // 'a' was not read: it is the oldest entry not used, and goes first.
      map.set('c', 3);
      expect(map.has('a')).toBe(false);
      expect(map.getByAlias('s', 'y')).toBeUndefined();
    });

    it('drops the entry an alias names', () => {
      const map = new ClockMap<number>(10);
      map.set('a', 1);
      map.alias('a', 's', 'x');
      expect(map.deleteByAlias('s', 'x')).toBe(true);
      expect(map.has('a')).toBe(false);
      expect(map.deleteByAlias('s', 'x')).toBe(false);
    });
  });
});

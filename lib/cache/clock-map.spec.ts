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
});

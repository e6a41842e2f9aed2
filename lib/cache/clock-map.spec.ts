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
});

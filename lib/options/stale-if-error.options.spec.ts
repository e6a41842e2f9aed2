import { staleIfErrorProblems } from './stale-if-error.options';

describe('staleIfErrorProblems', () => {
  it.each([undefined, 0, 1, 60, 3600])('accepts %p', (seconds) => {
    expect(staleIfErrorProblems({ name: 'c', staleIfErrorSeconds: seconds }, 'caches[0]')).toEqual([]);
  });

  it.each([-1, 1.5, 3601, '60', null, Number.NaN])('refuses %p, naming the field and the range', (seconds) => {
    const problems = staleIfErrorProblems({ name: 'c', staleIfErrorSeconds: seconds }, 'caches[2]');
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe('caches[2].staleIfErrorSeconds');
    expect(problems[0].problem).toContain('from 0 (off) to 3600');
  });

  it('leaves anything but a cache object to the other checks', () => {
    expect(staleIfErrorProblems('not a cache', 'caches[0]')).toEqual([]);
  });
});

import { parseRetryAfter } from './authorization-server.client';

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('42', now)).toBe(42);
    expect(parseRetryAfter(' 7 ', now)).toBe(7);
  });

  it('reads an HTTP-date as seconds from now, rounded up', () => {
    expect(parseRetryAfter('Fri, 27 Nov 2026 12:01:30 GMT', now)).toBe(90);
  });

  it('keeps it between 1 second and an hour', () => {
    expect(parseRetryAfter('0', now)).toBe(1);
    expect(parseRetryAfter('Fri, 27 Nov 2026 11:00:00 GMT', now)).toBe(1);
    expect(parseRetryAfter('86400', now)).toBe(3600);
  });

  it.each([undefined, '', 'soon', '-5', '1.5', '12345678901', ['42']])('reads %p as nothing', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

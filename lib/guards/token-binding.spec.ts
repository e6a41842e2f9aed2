import { audienceMatches, issuerMatches } from './token-binding';

describe('audienceMatches', () => {
  const audiences = ['https://api.example.com/mcp', 'orders'];

  it('accepts an aud string in the list, and an aud array with one element in the list', () => {
    expect(audienceMatches('orders', audiences)).toBe(true);
    expect(audienceMatches(['other', 'https://api.example.com/mcp'], audiences)).toBe(true);
  });

  it('refuses another audience, no aud, an empty array and non-strings', () => {
    expect(audienceMatches('https://api.example.com/other', audiences)).toBe(false);
    expect(audienceMatches(undefined, audiences)).toBe(false);
    expect(audienceMatches([], audiences)).toBe(false);
    expect(audienceMatches([42, null, { aud: 'orders' }], audiences)).toBe(false);
    expect(audienceMatches(42, audiences)).toBe(false);
  });

  it('compares exactly: no prefix, case or trailing-slash match', () => {
    expect(audienceMatches('https://api.example.com/mcp/', audiences)).toBe(false);
    expect(audienceMatches('HTTPS://api.example.com/mcp', audiences)).toBe(false);
    expect(audienceMatches('https://api.example.com', audiences)).toBe(false);
  });
});

describe('issuerMatches', () => {
  it('accepts an iss in the list only, compared exactly', () => {
    expect(issuerMatches('https://as.example.com', ['https://as.example.com'])).toBe(true);
    expect(issuerMatches('https://as.example.com/', ['https://as.example.com'])).toBe(false);
    expect(issuerMatches(undefined, ['https://as.example.com'])).toBe(false);
    expect(issuerMatches(['https://as.example.com'], ['https://as.example.com'])).toBe(false);
  });
});

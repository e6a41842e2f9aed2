import { normaliseHtu, requestHtu } from './dpop-htu';

describe('normaliseHtu (RFC 9449 §4.3, RFC 3986 §6.2.2-3)', () => {
  it('drops query and fragment, lower-cases scheme and host, drops default ports, normalises percent-encoding', () => {
    expect(normaliseHtu('HTTPS://API.Example.COM:443/a/%7euser/%2f?q=1#f')).toBe('https://api.example.com/a/~user/%2F');
    expect(normaliseHtu('http://example.com:80')).toBe('http://example.com/');
    expect(normaliseHtu('http://example.com:8080/a/../b')).toBe('http://example.com:8080/b');
  });

  it('refuses what is not an absolute http(s) URL', () => {
    expect(normaliseHtu('/orders')).toBeUndefined();
    expect(normaliseHtu('ftp://example.com/')).toBeUndefined();
  });
});

describe('requestHtu', () => {
  it('prefixes the request path with publicUrl (and its base path), or uses Host and protocol', () => {
    expect(
      requestHtu({ target: '/orders?x=1', host: 'internal:3000', protocol: 'http' }, 'https://api.example.com/shop'),
    ).toBe('https://api.example.com/shop/orders');
    expect(requestHtu({ target: '/orders', host: 'api.example.com', protocol: 'https' }, undefined)).toBe(
      'https://api.example.com/orders',
    );
    expect(requestHtu({ target: '/orders', protocol: 'https' }, undefined)).toBeUndefined();
    expect(requestHtu({ target: 'orders', host: 'a', protocol: 'https' }, undefined)).toBeUndefined();
  });
});

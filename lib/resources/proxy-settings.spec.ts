import { parseNoProxy, parseProxyUrl, proxyFor, resolveProxy } from './proxy-settings';

describe('proxy settings', () => {
  describe('parseProxyUrl', () => {
    it.each([
      ['http://proxy.internal:3128', { type: 'HTTP', host: 'proxy.internal', port: 3128 }],
      ['http://proxy.internal', { type: 'HTTP', host: 'proxy.internal', port: 80 }],
      ['proxy.internal:8080', { type: 'HTTP', host: 'proxy.internal', port: 8080 }],
      [
        'http://u%40x:p%3Ass@10.0.0.1:3128/',
        { type: 'HTTP', host: '10.0.0.1', port: 3128, username: 'u@x', password: 'p:ss' },
      ],
      ['socks5://[::1]:1080', { type: 'SOCKS5', host: '::1', port: 1080 }],
      ['socks5h://socks.internal', { type: 'SOCKS5', host: 'socks.internal', port: 1080 }],
    ])('reads %s', (value, expected) => {
      expect(parseProxyUrl(value)).toEqual(expected);
    });

    it.each(['https://proxy.internal:3128', 'ftp://proxy', 'http://', 'http://proxy/path', '::::'])(
      'refuses %s',
      (value) => {
        expect(parseProxyUrl(value)).toBeUndefined();
      },
    );
  });

  describe('resolveProxy', () => {
    it('is none without the option, whatever the environment says', () => {
      expect(resolveProxy(undefined, { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1' })).toBeUndefined();
    });

    it('is none with enabled: false', () => {
      expect(resolveProxy({ enabled: false, host: 'p', port: 1 }, {})).toBeUndefined();
    });

    it('uses the option for both schemes', () => {
      const resolved = resolveProxy({ host: 'p', port: 3128, username: 'u', password: 's' }, {});
      expect(resolved?.https).toEqual({ type: 'HTTP', host: 'p', port: 3128, username: 'u', password: 's' });
      expect(resolved?.http).toBe(resolved?.https);
    });

    it('with useSystemProxy, reads the lower-case variables first, and each scheme its own', () => {
      const resolved = resolveProxy(
        { useSystemProxy: true },
        {
          https_proxy: 'http://lower:1',
          HTTPS_PROXY: 'http://upper:2',
          HTTP_PROXY: 'socks5://s:3',
          NO_PROXY: '.internal',
        },
      );
      expect(resolved?.https).toMatchObject({ host: 'lower', port: 1 });
      expect(resolved?.http).toMatchObject({ type: 'SOCKS5', host: 's', port: 3 });
      expect(resolved?.source).toBe('environment');
    });

    it('with useSystemProxy and no proxy variable, is none', () => {
      expect(resolveProxy({ useSystemProxy: true }, { NO_PROXY: '*' })).toBeUndefined();
    });
  });

  describe('proxyFor and NO_PROXY', () => {
    const proxy = resolveProxy(
      { useSystemProxy: true },
      { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'localhost, .internal,*.corp.example 10.0.0.5 as.example:8443 ::1' },
    );
    it.each([
      ['https://as.example.com/introspect', true],
      ['https://localhost/x', false],
      ['https://as.internal/x', false],
      ['https://internal/x', false],
      ['https://a.b.corp.example/x', false],
      ['https://notinternal/x', true],
      ['https://10.0.0.5/x', false],
      ['https://10.0.0.50/x', true],
      ['https://as.example:8443/x', false],
      ['https://as.example/x', true],
      ['https://[::1]:8443/x', false],
      ['http://as.example.com/x', false], // no http proxy in the environment
    ])('%s goes through the proxy: %p', (url, proxied) => {
      expect(proxyFor(proxy, new URL(url)) !== undefined).toBe(proxied);
    });

    it('* bypasses every host', () => {
      const all = resolveProxy({ useSystemProxy: true }, { HTTPS_PROXY: 'http://p:1', no_proxy: '*' });
      expect(proxyFor(all, new URL('https://as.example.com/'))).toBeUndefined();
    });

    it('reads entries separated by commas and spaces', () => {
      expect(parseNoProxy(' a.example ,b.example  .c.example')).toEqual([
        { host: 'a.example' },
        { host: 'b.example' },
        { host: 'c.example' },
      ]);
    });
  });
});

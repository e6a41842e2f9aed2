import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { httpClientOptionProblems } from './http-client-options';
import { validateModuleOptions } from './validate-options';

const base = { name: 'as', type: 'generic', introspectionEndpoint: 'https://as.example.com/introspect' };

/** The problems of one resource's options, as the start-up reports them. */
function problems(extra: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  return httpClientOptionProblems({ ...base, ...extra }, 'resources[0]', env);
}

function startupError(extra: Record<string, unknown>): OAuth2ConfigurationError {
  try {
    validateModuleOptions({ resources: [{ ...base, ...extra }] });
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return error as OAuth2ConfigurationError;
  }
  throw new Error('expected the options to be refused');
}

describe('HTTP client options of a resource', () => {
  it('accepts every option with sensible values', () => {
    expect(() =>
      validateModuleOptions({
        resources: [
          {
            ...base,
            timeout: 3000,
            http: {
              maxConcurrentConnections: 8,
              connectTimeout: 1000,
              idleTimeout: 30_000,
              keepAlive: false,
              useCompression: false,
            },
            proxy: { host: 'proxy.internal', port: 3128, username: 'u', password: 'p', type: 'HTTP' },
          },
        ],
      }),
    ).not.toThrow();
  });

  it.each([
    [{ http: { connectTimeout: 0 } }, 'resources[0].http.connectTimeout', 'must not be less than 1'],
    [
      { http: { connectTimeout: 6000 } },
      'resources[0].http.connectTimeout',
      "more than the resource's timeout (5000 ms)",
    ],
    [{ timeout: 500, http: { connectTimeout: 800 } }, 'resources[0].http.connectTimeout', 'lower it, or raise timeout'],
    [{ http: { idleTimeout: 1.5 } }, 'resources[0].http.idleTimeout', 'must be an integer'],
    [{ http: { keepAlive: 'yes' } }, 'resources[0].http.keepAlive', 'must be a boolean'],
    [{ http: { useCompression: 1 } }, 'resources[0].http.useCompression', 'must be a boolean'],
    [{ http: { compression: true } }, 'resources[0].http.compression', 'check its spelling'],
    [{ proxy: 'http://proxy:3128' }, 'resources[0].proxy', 'must be an object such as'],
    [{ proxy: { host: 'proxy' } }, 'resources[0].proxy.port', 'is required'],
    [{ proxy: { port: 3128 } }, 'resources[0].proxy.host', 'is required'],
    [{ proxy: { host: 'http://proxy', port: 3128 } }, 'resources[0].proxy.host', 'no scheme'],
    [{ proxy: { host: 'proxy', port: 70_000 } }, 'resources[0].proxy.port', 'from 1 to 65535'],
    [{ proxy: { host: 'proxy', port: 1, type: 'SOCKS4' } }, 'resources[0].proxy.type', "'HTTP' or 'SOCKS5'"],
    [{ proxy: { host: 'proxy', port: 1, password: 'x' } }, 'resources[0].proxy.username', 'is required with password'],
    [{ proxy: { host: 'proxy', port: 1, user: 'x' } }, 'resources[0].proxy.user', 'is not a proxy option'],
    [{ proxy: { useSystemProxy: true, host: 'proxy' } }, 'resources[0].proxy.useSystemProxy', 'beside host'],
    [{ proxy: { enabled: 'no' } }, 'resources[0].proxy.enabled', 'must be a boolean'],
  ])('refuses %j, naming %s', (extra, field, text) => {
    const error = startupError(extra);
    expect(error.message).toContain(field);
    expect(error.message).toContain(text);
  });

  it('never quotes the proxy password, even a mistyped one', () => {
    const error = startupError({ proxy: { host: 'proxy', port: 'x', username: 'u', password: 'PROXYCANARY' } });
    expect(error.message).not.toContain('PROXYCANARY');
  });

  it('enabled: false needs no host or port', () => {
    expect(problems({ proxy: { enabled: false } })).toEqual([]);
  });

  it('useSystemProxy: an environment proxy it cannot use stops the start, without quoting it', () => {
    const found = problems({ proxy: { useSystemProxy: true } }, { HTTPS_PROXY: 'https://u:PROXYCANARY@proxy:443' });
    expect(found).toEqual([
      {
        field: 'resources[0].proxy.useSystemProxy',
        problem: expect.stringContaining('HTTPS_PROXY is not a proxy URL'),
      },
    ]);
    expect(JSON.stringify(found)).not.toContain('PROXYCANARY');
    expect(problems({ proxy: { useSystemProxy: true } }, { http_proxy: 'http://proxy:3128' })).toEqual([]);
  });
});

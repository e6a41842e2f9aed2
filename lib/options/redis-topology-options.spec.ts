import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { validateModuleOptions } from './validate-options';

const resources = [{ name: 'as', type: 'generic', introspectionEndpoint: 'https://as.example.com/introspect' }];
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const CLUSTER = { nodes: [{ host: '10.0.0.1', port: 7000 }] };
const SENTINEL = { masterId: 'mymaster', nodes: [{ host: '10.0.0.2', port: 26379 }], password: 'sentinel-secret' };

const resolve = (cache: Record<string, unknown>) =>
  validateModuleOptions({ resources, caches: [{ name: 'shared', type: 'redis', ...cache }] }).caches[0];

/** The problems of an invalid redis cache, as `field: problem` lines; fails the test when it is accepted. */
function problemsOf(cache: Record<string, unknown>): string[] {
  try {
    validateModuleOptions({ resources, caches: [{ name: 'shared', type: 'redis', ...cache }] });
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return (error as OAuth2ConfigurationError).message.split('\n').filter((line) => line.includes('caches[0]'));
  }
  throw new Error('expected an OAuth2ConfigurationError, but the options were accepted');
}

describe('redis cache topology and single-flight options', () => {
  it('a cluster: its nodes, single flight on with a 1 s bound, no url', () => {
    expect(resolve({ cluster: CLUSTER })).toEqual({
      name: 'shared',
      type: 'redis',
      cluster: CLUSTER,
      timeToLiveSeconds: 300,
      keyPrefix: 'oauth2:shared:',
      timeout: 250,
      connectTimeout: 1000,
      singleFlightTimeout: 1000,
    });
  });

  it('a Sentinel set-up with its password, TLS and the nodes’ password; single flight off', () => {
    const resolved = resolve({ sentinel: SENTINEL, password: 'node-secret', tls: { ca: PEM }, singleFlight: false });
    expect(resolved).toMatchObject({ sentinel: SENTINEL, password: 'node-secret', tls: { ca: PEM } });
    expect(resolved).not.toHaveProperty('singleFlightTimeout');
    expect(resolved).not.toHaveProperty('url');
  });

  it('singleFlightTimeout is kept, from 10 to 60000 ms', () => {
    expect(resolve({ url: 'redis://localhost:6379', singleFlightTimeout: 300 })).toMatchObject({
      singleFlightTimeout: 300,
    });
    expect(problemsOf({ url: 'redis://localhost:6379', singleFlightTimeout: 5 })).toEqual([
      expect.stringMatching(/caches\[0\]\.singleFlightTimeout.*10/),
    ]);
    expect(problemsOf({ url: 'redis://localhost:6379', singleFlight: 'yes' })).toEqual([
      expect.stringMatching(/caches\[0\]\.singleFlight\b.*boolean/),
    ]);
  });

  it('none of url, cluster and sentinel: url is required, with examples of all three', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/caches\[0\]\.url.*required, or cluster, or sentinel/)]);
  });

  it('two of them: refused, naming both', () => {
    expect(problemsOf({ url: 'redis://localhost:6379', cluster: CLUSTER })).toEqual([
      expect.stringMatching(/caches\[0\]\.cluster.*cannot be used with url/),
    ]);
    expect(problemsOf({ cluster: CLUSTER, sentinel: SENTINEL })).toEqual([
      expect.stringMatching(/caches\[0\]\.sentinel.*cannot be used with cluster/),
    ]);
  });

  it('cluster: nodes must be a non-empty list of { host, port }; unknown keys are refused', () => {
    expect(problemsOf({ cluster: { nodes: [] } })).toEqual([
      expect.stringMatching(/caches\[0\]\.cluster\.nodes.*list of 1 to 100 nodes/),
    ]);
    expect(problemsOf({ cluster: [] })).toEqual([expect.stringMatching(/caches\[0\]\.cluster.*must be an object/)]);
    expect(
      problemsOf({
        cluster: {
          nodes: [{ host: '', port: 7000 }, { host: 'a', port: 70000 }, 'b:1', { host: 'c', port: 1, tls: 1 }],
        },
        replicas: true,
      }),
    ).toEqual([
      expect.stringMatching(/caches\[0\]\.replicas.*not an option of a 'redis' cache/),
      expect.stringMatching(/caches\[0\]\.cluster\.nodes\[0\]\.host.*host name or IP/),
      expect.stringMatching(/caches\[0\]\.cluster\.nodes\[1\]\.port.*1 to 65535/),
      expect.stringMatching(/caches\[0\]\.cluster\.nodes\[2\].*\{ host, port \}/),
      expect.stringMatching(/caches\[0\]\.cluster\.nodes\[3\]\.tls.*not an option of a node/),
    ]);
    expect(problemsOf({ cluster: { nodes: CLUSTER.nodes, slots: 3 } })).toEqual([
      expect.stringMatching(/caches\[0\]\.cluster\.slots.*not an option of a cluster.*nodes/),
    ]);
  });

  it('sentinel: masterId required, password a string never quoted; Gravitee names only', () => {
    expect(problemsOf({ sentinel: { nodes: SENTINEL.nodes } })).toEqual([
      expect.stringMatching(/caches\[0\]\.sentinel\.masterId.*required.*mymaster/),
    ]);
    const lines = problemsOf({ sentinel: { ...SENTINEL, masterId: '', password: 42, enabled: true } });
    expect(lines).toEqual([
      expect.stringMatching(
        /caches\[0\]\.sentinel\.enabled.*not an option of a Sentinel configuration.*masterId, nodes, password/,
      ),
      expect.stringMatching(/caches\[0\]\.sentinel\.masterId.*non-empty string/),
      expect.stringMatching(/caches\[0\]\.sentinel\.password.*must be a string/),
    ]);
    expect(lines.join('\n')).not.toContain('42');
    expect(problemsOf({ sentinel: SENTINEL, sentinelMode: true })).toEqual([
      expect.stringMatching(/caches\[0\]\.sentinelMode.*not an option of a 'redis' cache/),
    ]);
  });

  it('TLS settings of a cluster or Sentinel are checked as a URL’s are, without needing rediss://', () => {
    expect(problemsOf({ cluster: CLUSTER, tls: { ca: '/etc/ca.pem', verify: true } })).toEqual([
      expect.stringMatching(/caches\[0\]\.tls\.verify.*not a TLS option/),
      expect.stringMatching(/caches\[0\]\.tls\.ca.*PEM/),
    ]);
    expect(problemsOf({ sentinel: SENTINEL, tls: 'yes' })).toEqual([
      expect.stringMatching(/caches\[0\]\.tls.*must be an object/),
    ]);
  });
});

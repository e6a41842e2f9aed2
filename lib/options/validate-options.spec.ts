import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, DEFAULT_REALM } from '../oauth2.constants';
import { policyProblems } from './policy-options.schema';
import { DEFAULT_POLICY, mergePolicy } from './resolved-options';
import { validateModuleOptions } from './validate-options';

const generic = { name: 'as', type: 'generic', introspectionEndpoint: 'https://as.example.com/introspect' };
const am = {
  name: 'am',
  type: 'gravitee-am',
  serverURL: 'https://am.example.com',
  securityDomain: 'domain',
  clientId: 'api',
  clientSecret: 'secret',
};

/** The configuration error thrown for some options; fails the test when there is none. */
function configurationError(options: unknown): OAuth2ConfigurationError {
  try {
    validateModuleOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    return error as OAuth2ConfigurationError;
  }
  throw new Error('expected an OAuth2ConfigurationError, but the options were accepted');
}

/** Options with one generic resource changed by `changes`. */
const withGeneric = (changes: Record<string, unknown>) => ({ resources: [{ ...generic, ...changes }] });

describe('validateModuleOptions', () => {
  describe('a valid configuration', () => {
    it('gets the default policy, no cache, no template and the default realm', () => {
      const resolved = validateModuleOptions({ resources: [generic] });
      expect(resolved.resources).toEqual([generic]);
      expect(resolved.caches).toEqual([]);
      expect(resolved.responseTemplates).toEqual({});
      expect(resolved.realm).toBe(DEFAULT_REALM);
      expect(resolved.policy).toEqual({
        extractPayload: false,
        checkRequiredScopes: false,
        requiredScopes: [],
        modeStrict: true,
        propagateAuthHeader: true,
        allowAccessTokenQueryParam: false,
        clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS,
        audiences: false,
        issuers: false,
        requireCertificateBinding: false,
      });
    });

    it('keeps the policy it was given over the defaults', () => {
      const resolved = validateModuleOptions({
        resources: [generic, am],
        policy: { oauthResource: 'am', modeStrict: false, requiredScopes: ['orders:read'], checkRequiredScopes: true },
        realm: 'orders',
      });
      expect(resolved.policy).toMatchObject({
        oauthResource: 'am',
        modeStrict: false,
        requiredScopes: ['orders:read'],
        checkRequiredScopes: true,
        propagateAuthHeader: true,
      });
      expect(resolved.realm).toBe('orders');
    });

    it('gives a cache a TTL of 300 s and 10000 entries by default, and the memory type', () => {
      const resolved = validateModuleOptions({ resources: [generic], caches: [{ name: 'local' }] });
      expect(resolved.caches).toEqual([
        { name: 'local', type: 'memory', timeToLiveSeconds: 300, maxEntries: 10_000, rememberTokens: true },
      ]);
    });

    it('keeps the TTL and size a cache was given', () => {
      const resolved = validateModuleOptions({
        resources: [generic],
        caches: [{ name: 'local', type: 'memory', timeToLiveSeconds: 30, maxEntries: 50, rememberTokens: false }],
        policy: { oauthResource: 'as', oauthCacheResource: 'local' },
      });
      expect(resolved.caches).toEqual([
        { name: 'local', type: 'memory', timeToLiveSeconds: 30, maxEntries: 50, rememberTokens: false },
      ]);
    });

    it('accepts a function as resource selector, whose names cannot be checked at start-up', () => {
      const selector = () => 'anything';
      expect(
        validateModuleOptions({ resources: [generic], policy: { oauthResource: selector } }).policy.oauthResource,
      ).toBe(selector);
    });

    it('accepts a path endpoint under an authorizationServerUrl', () => {
      expect(() =>
        validateModuleOptions(
          withGeneric({
            authorizationServerUrl: 'https://as.example.com/realms/main',
            introspectionEndpoint: '/introspect',
          }),
        ),
      ).not.toThrow();
    });

    it('accepts valid response templates', () => {
      const responseTemplates = {
        OAUTH2_SERVER_UNAVAILABLE: {
          'application/json': {
            status: 503,
            headers: { 'Retry-After': '5' },
            body: { error: 'temporarily_unavailable' },
          },
          'text/*': { body: 'unavailable' },
          '*/*': { status: 503 },
        },
      };
      expect(validateModuleOptions({ resources: [generic], responseTemplates }).responseTemplates).toBe(
        responseTemplates,
      );
    });
  });

  describe('a misconfiguration is an OAuth2ConfigurationError naming the field', () => {
    it('when the options are not an object', () => {
      expect(configurationError(undefined).message).toMatch(/options must be an object/);
      expect(configurationError([generic]).message).toMatch(/options must be an object/);
    });

    it('when there is no resource', () => {
      expect(configurationError({}).message).toMatch(/^OAuth2Module configuration: resources is required/);
      expect(configurationError({ resources: [] }).field).toBe('resources');
    });

    it('for an unknown top-level option, listing the known ones', () => {
      const error = configurationError({ resources: [generic], polcy: {} });
      expect(error.field).toBe('polcy');
      expect(error.message).toContain('polcy is not an option of OAuth2Module');
      expect(error.message).toContain('Known options: resources, caches, policy, responseTemplates, realm');
    });

    it('for a misspelt option of a resource', () => {
      const { introspectionEndpoint, ...rest } = generic;
      const error = configurationError({ resources: [{ ...rest, introspectionEndpoit: introspectionEndpoint }] });
      expect(error.message).toContain("resources[0].introspectionEndpoit is not an option of a 'generic' resource");
      expect(error.message).toContain('introspectionEndpoint is required');
    });

    it('for an option of the wrong type, saying what it got', () => {
      const error = configurationError(withGeneric({ timeout: '5' }));
      expect(error.field).toBe('resources[0].timeout');
      expect(error.message).toBe(
        'OAuth2Module configuration: resources[0].timeout must be an integer number (got "5").',
      );
    });

    it('for an option out of its range', () => {
      const error = configurationError(withGeneric({ timeout: 0 }));
      expect(error.message).toBe(
        'OAuth2Module configuration: resources[0].timeout must not be less than 1 (got number 0).',
      );
    });

    it('for a missing introspectionEndpoint', () => {
      const error = configurationError({ resources: [{ name: 'as', type: 'generic' }] });
      expect(error.field).toBe('resources[0].introspectionEndpoint');
      expect(error.message).toContain('resources[0].introspectionEndpoint is required');
    });

    it('for an introspectionEndpoint that is neither a URL nor a path', () => {
      const error = configurationError(withGeneric({ introspectionEndpoint: 'as.example.com/introspect' }));
      expect(error.message).toContain('resources[0].introspectionEndpoint must be an http(s) URL, or a path');
    });

    it.each(['serverURL', 'securityDomain', 'clientId', 'clientSecret'])(
      'for a gravitee-am resource without %s',
      (field) => {
        const error = configurationError({ resources: [{ ...am, [field]: undefined }] });
        expect(error.field).toBe(`resources[0].${field}`);
        expect(error.message).toContain(`resources[0].${field} is required`);
      },
    );

    it('for an unknown resource type', () => {
      const error = configurationError({ resources: [{ ...generic, type: 'keycloak' }] });
      expect(error.field).toBe('resources[0].type');
      expect(error.message).toContain(`resources[0].type must be 'generic' or 'gravitee-am' (got "keycloak")`);
    });

    it('for two resources with the same name', () => {
      const error = configurationError({ resources: [generic, { ...am, name: 'as' }] });
      expect(error.field).toBe('resources[1].name');
      expect(error.message).toContain("'as' is already the name of resources[0]");
    });

    it('for two caches with the same name', () => {
      const error = configurationError({ resources: [generic], caches: [{ name: 'c' }, { name: 'd' }, { name: 'c' }] });
      expect(error.field).toBe('caches[2].name');
      expect(error.message).toContain("'c' is already the name of caches[0]");
    });

    it('for a cache of an unknown type', () => {
      const error = configurationError({ resources: [generic], caches: [{ name: 'c', type: 'memcached' }] });
      expect(error.message).toContain(
        `caches[0].type must be 'memory', 'redis', 'store' or 'cache-module' (got "memcached")`,
      );
    });

    it('for a cache TTL that is not a positive integer', () => {
      expect(configurationError({ resources: [generic], caches: [{ name: 'c', timeToLiveSeconds: 0 }] }).field).toBe(
        'caches[0].timeToLiveSeconds',
      );
    });

    it('for a policy naming an unregistered resource, listing the registered ones', () => {
      const error = configurationError({ resources: [generic, am], policy: { oauthResource: 'missing' } });
      expect(error.field).toBe('policy.oauthResource');
      expect(error.message).toContain("policy.oauthResource names the resource 'missing', which is not registered");
      expect(error.message).toContain("(registered resources: 'as', 'am')");
    });

    it('for a policy naming an unregistered cache', () => {
      const error = configurationError({
        resources: [generic],
        caches: [{ name: 'local' }],
        policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
      });
      expect(error.field).toBe('policy.oauthCacheResource');
      expect(error.message).toContain("names the cache 'shared', which is not registered (registered caches: 'local')");
    });

    it('for a policy naming a cache when there is none', () => {
      const error = configurationError({ resources: [generic], policy: { oauthCacheResource: 'local' } });
      expect(error.message).toContain('(registered caches: none)');
    });

    it.each(['introspectionEndpoint', 'userInfoEndpoint'])('for a path %s without authorizationServerUrl', (field) => {
      const error = configurationError(withGeneric({ [field]: '/oauth/endpoint' }));
      expect(error.field).toBe(`resources[0].${field}`);
      expect(error.message).toContain(`resources[0].${field} is a path: set authorizationServerUrl`);
    });

    it('for a GET introspection with the token in a form body', () => {
      const error = configurationError(
        withGeneric({ introspectionEndpointMethod: 'GET', tokenIsSuppliedByFormUrlEncoded: true }),
      );
      expect(error.field).toBe('resources[0].tokenIsSuppliedByFormUrlEncoded');
      expect(error.message).toContain('needs introspectionEndpointMethod POST');
    });

    it('for a resource that sends the token nowhere', () => {
      const error = configurationError(
        withGeneric({
          tokenIsSuppliedByQueryParam: false,
          tokenIsSuppliedByHttpHeader: false,
          tokenIsSuppliedByFormUrlEncoded: false,
        }),
      );
      expect(error.field).toBe('resources[0].tokenIsSuppliedByFormUrlEncoded');
      expect(error.message).toContain('the token would not be sent');
    });

    it('for a token header without tokenHeaderName', () => {
      const error = configurationError(withGeneric({ tokenIsSuppliedByHttpHeader: true }));
      expect(error.field).toBe('resources[0].tokenHeaderName');
      expect(error.message).toContain('is required when tokenIsSuppliedByHttpHeader is true');
    });

    it('for a header name that is not an HTTP token', () => {
      const error = configurationError(withGeneric({ tokenIsSuppliedByHttpHeader: true, tokenHeaderName: 'X Token' }));
      expect(error.message).toContain('resources[0].tokenHeaderName is not a valid HTTP header name');
    });

    it('for a GET introspection whose client credentials would have to go in the URL', () => {
      const error = configurationError(
        withGeneric({
          introspectionEndpointMethod: 'GET',
          useClientAuthorizationHeader: false,
          clientId: 'api',
          clientSecret: 's',
        }),
      );
      expect(error.field).toBe('resources[0].useClientAuthorizationHeader');
      expect(error.message).toContain('Use POST, or the header');
    });

    it('for a clientSecret without clientId', () => {
      expect(configurationError(withGeneric({ clientSecret: 's' })).field).toBe('resources[0].clientId');
    });

    it('for a required scope holding a space', () => {
      const error = configurationError({ resources: [generic], policy: { requiredScopes: ['orders:read', 'a b'] } });
      expect(error.field).toBe('policy.requiredScopes[1]');
      expect(error.message).toContain('is not a valid scope');
    });

    it('for a response template under a key that is not an error key', () => {
      const error = configurationError({ resources: [generic], responseTemplates: { OAUTH2_UNKNOWN: { '*/*': {} } } });
      expect(error.field).toBe('responseTemplates.OAUTH2_UNKNOWN');
      expect(error.message).toContain('is not an error key. The keys are: OAUTH2_MISSING_SERVER');
    });

    it.each([99, 600, 401.5, '401'])('for a response template status of %j', (status) => {
      const error = configurationError({
        resources: [generic],
        responseTemplates: { OAUTH2_MISSING_HEADER: { 'application/json': { status } } },
      });
      expect(error.field).toBe("responseTemplates.OAUTH2_MISSING_HEADER['application/json'].status");
      expect(error.message).toContain('must be an HTTP status');
    });

    it.each(['json', 'application/json/x', 'text plain/x'])(
      'for a response template under the media type %j',
      (mediaType) => {
        const error = configurationError({
          resources: [generic],
          responseTemplates: { OAUTH2_MISSING_HEADER: { [mediaType]: { status: 401 } } },
        });
        expect(error.field).toBe(`responseTemplates.OAUTH2_MISSING_HEADER['${mediaType}']`);
        expect(error.message).toContain('is not a media type');
      },
    );

    it('for a response template with an unknown option or a header value on two lines', () => {
      const error = configurationError({
        resources: [generic],
        responseTemplates: {
          OAUTH2_MISSING_HEADER: { '*/*': { statusCode: 401, headers: { 'X-A': 'a\r\nSet-Cookie: x' } } },
        },
      });
      expect(error.message).toContain(
        "responseTemplates.OAUTH2_MISSING_HEADER['*/*'].statusCode is not an option of a response template",
      );
      expect(error.message).toContain(
        "responseTemplates.OAUTH2_MISSING_HEADER['*/*'].headers['X-A'] must be a valid header name",
      );
    });

    it('for a realm that would break the WWW-Authenticate header', () => {
      expect(configurationError({ resources: [generic], realm: 'a"b' }).field).toBe('realm');
    });
  });

  it('reports several problems together, one line each', () => {
    const error = configurationError({
      resources: [
        { ...generic, timeout: '5' },
        { name: 'as', type: 'other' },
      ],
      caches: [{ name: 'c', maxEntries: -1 }],
      polcy: {},
    });
    expect(error.message).toMatch(/^OAuth2Module configuration has 5 problems:\n/);
    const lines = error.message.split('\n').slice(1);
    expect(lines).toHaveLength(5);
    expect(lines.map((line) => line.trim().split(' ')[1])).toEqual(
      expect.arrayContaining([
        'polcy',
        'resources[0].timeout',
        'resources[1].type',
        'resources[1].name',
        'caches[0].maxEntries',
      ]),
    );
  });

  describe('never echoes a secret', () => {
    it('of a generic resource, even of the wrong type', () => {
      const error = configurationError(withGeneric({ clientId: 'api', clientSecret: 987654321 }));
      expect(error.field).toBe('resources[0].clientSecret');
      expect(error.message).toContain('resources[0].clientSecret must be a string');
      expect(error.message).not.toContain('987654321');
    });

    it('of a gravitee-am resource, even of the wrong type', () => {
      const error = configurationError({ resources: [{ ...am, clientSecret: 987654321 }] });
      expect(error.field).toBe('resources[0].clientSecret');
      expect(error.message).not.toContain('987654321');
    });

    it('when other problems are reported with it', () => {
      const error = configurationError(withGeneric({ clientId: 'api', clientSecret: 987654321, timeout: 'slow' }));
      expect(error.message).toContain('(got "slow")');
      expect(error.message).not.toContain('987654321');
    });
  });
});

describe('policyProblems', () => {
  it('finds none in a valid policy', () => {
    expect(
      policyProblems({ oauthResource: 'as', requiredScopes: ['a:b'], modeStrict: false }, '@OAuth2Policy'),
    ).toEqual([]);
  });

  it('names each wrong field under the given prefix', () => {
    const problems = policyProblems(
      { modeStrict: 'yes', requiredScopes: ['ok', 'not ok'], unknown: 1 },
      '@OAuth2Policy',
    );
    expect(problems.map((problem) => problem.field).sort()).toEqual([
      '@OAuth2Policy.modeStrict',
      '@OAuth2Policy.requiredScopes[1]',
      '@OAuth2Policy.unknown',
    ]);
  });

  it.each([
    ['a string', 'as'],
    ['null', null],
    ['an array', []],
  ])('refuses a policy that is %s', (_, policy) => {
    expect(policyProblems(policy, 'policy')).toEqual([
      { field: 'policy', problem: expect.stringContaining('must be an object') },
    ]);
  });

  it('refuses a required scope with a quote or backslash, or empty', () => {
    const problems = policyProblems({ requiredScopes: ['a"b', 'a\\b', ''] }, 'policy');
    expect(problems.map((problem) => problem.field)).toEqual([
      'policy.requiredScopes[0]',
      'policy.requiredScopes[1]',
      'policy.requiredScopes[2]',
    ]);
  });

  it('accepts false for oauthCacheResource (no cache for this route), but not for oauthResource', () => {
    expect(policyProblems({ oauthCacheResource: false }, 'policy')).toEqual([]);
    expect(policyProblems({ oauthResource: false }, 'policy').map((p) => p.field)).toEqual(['policy.oauthResource']);
  });

  it('takes audiences and issuers as non-empty lists of strings, or false; an empty list is refused', () => {
    expect(policyProblems({ audiences: ['https://api.example.com'], issuers: false }, 'policy')).toEqual([]);
    expect(policyProblems({ audiences: false, issuers: ['https://as.example.com'] }, 'policy')).toEqual([]);
    const problems = policyProblems({ audiences: [], issuers: ['ok', ''] }, 'policy');
    expect(problems.map((p) => p.field).sort()).toEqual(['policy.audiences', 'policy.issuers']);
    expect(problems[0].problem).toContain('or false to turn the check off');
    expect(policyProblems({ audiences: 'https://api.example.com' }, 'policy').map((p) => p.field)).toEqual([
      'policy.audiences',
    ]);
  });

  it('refuses an empty resource name and a clock tolerance out of range', () => {
    const fields = policyProblems({ oauthResource: '', clockToleranceSeconds: 3601 }, 'policy').map((p) => p.field);
    expect(fields.sort()).toEqual(['policy.clockToleranceSeconds', 'policy.oauthResource']);
  });
});

describe('mergePolicy', () => {
  it('lets the set fields of the override win', () => {
    const resolved = mergePolicy(DEFAULT_POLICY, { modeStrict: false, requiredScopes: ['a'], oauthResource: 'as' });
    expect(resolved).toEqual({ ...DEFAULT_POLICY, modeStrict: false, requiredScopes: ['a'], oauthResource: 'as' });
  });

  it('keeps the base for fields the override leaves undefined', () => {
    const base = mergePolicy(DEFAULT_POLICY, { oauthResource: 'as', extractPayload: true });
    const resolved = mergePolicy(base, { oauthResource: undefined, extractPayload: undefined, modeStrict: false });
    expect(resolved.oauthResource).toBe('as');
    expect(resolved.extractPayload).toBe(true);
    expect(resolved.modeStrict).toBe(false);
  });

  it('lets false and empty values override', () => {
    const base = mergePolicy(DEFAULT_POLICY, { checkRequiredScopes: true, requiredScopes: ['a'] });
    const resolved = mergePolicy(base, { checkRequiredScopes: false, requiredScopes: [] });
    expect(resolved.checkRequiredScopes).toBe(false);
    expect(resolved.requiredScopes).toEqual([]);
  });

  it('changes neither the base nor the override, and freezes the result', () => {
    const override = { modeStrict: false };
    const resolved = mergePolicy(DEFAULT_POLICY, override);
    expect(DEFAULT_POLICY.modeStrict).toBe(true);
    expect(override).toEqual({ modeStrict: false });
    expect(Object.isFrozen(resolved)).toBe(true);
  });
});

describe('response templates with an object body (issue 12, point 3)', () => {
  const withTemplate = (mediaType: string, template: Record<string, unknown>) => ({
    resources: [generic],
    responseTemplates: { OAUTH2_MISSING_HEADER: { [mediaType]: template } },
  });

  it.each([
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['*/*', { 'content-type': 'text/html; charset=utf-8' }],
    ['application/json', { 'CONTENT-TYPE': 'application/xml' }],
  ])('refuses an object body under a %s key with the headers %j, naming the body', (mediaType, headers) => {
    const error = configurationError(withTemplate(mediaType, { headers, body: { error: 'x' } }));
    expect(error.field).toBe(`responseTemplates.OAUTH2_MISSING_HEADER['${mediaType}'].body`);
    expect(error.message).toMatch(/give a string body, or a JSON content type/);
  });

  it.each([
    ['application/json', undefined],
    ['text/plain', undefined],
    ['*/*', { 'Content-Type': 'application/json' }],
    ['*/*', { 'content-type': 'Application/Problem+JSON; charset=utf-8' }],
  ])('accepts an object body under a %s key with the headers %j (sent as JSON)', (mediaType, headers) => {
    expect(() => validateModuleOptions(withTemplate(mediaType, { headers, body: { error: 'x' } }))).not.toThrow();
  });

  it('accepts a string body under any content type', () => {
    const template = { headers: { 'Content-Type': 'text/plain' }, body: 'no token' };
    expect(() => validateModuleOptions(withTemplate('text/plain', template))).not.toThrow();
  });
});

describe('async resource selectors (issue 12, point 8)', () => {
  it.each(['oauthResource', 'oauthCacheResource'])('refuses an async %s in the module policy', (selector) => {
    const error = configurationError({ resources: [generic], policy: { [selector]: async () => 'as' } });
    expect(error.field).toBe(`policy.${selector}`);
    expect(error.message).toMatch(/must be synchronous and return a name/);
  });

  it('names the decorator in a decorator policy', () => {
    expect(policyProblems({ oauthResource: async () => 'as' }, '@OAuth2Policy()')).toEqual([
      { field: '@OAuth2Policy().oauthResource', problem: expect.stringMatching(/is an async function/) },
    ]);
  });

  it('accepts a synchronous selector', () => {
    expect(policyProblems({ oauthResource: () => 'as', oauthCacheResource: () => undefined }, 'policy')).toEqual([]);
  });
});

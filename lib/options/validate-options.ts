import { isJsonObject } from '../common/is-json-object';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../errors/error-profiles';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import type { OAuth2ModuleOptions } from '../interfaces/module-options.interface';
import { DEFAULT_REALM } from '../oauth2.constants';
import { cachesProblems, resolveCacheOptions } from './cache-options.schema';
import { publicUrlProblems, resolvePublicUrl } from './dpop-options';
import { onDecisionProblems } from './audit-options';
import { type OptionProblem, unknownKeys } from './option-problem';
import { namedReferenceProblems, policyProblems } from './policy-options.schema';
import { protectedResourceProblems, resolveProtectedResource } from './protected-resource.schema';
import { DEFAULT_POLICY, type ResolvedOAuth2ModuleOptions, mergePolicy } from './resolved-options';
import { resourcesProblems } from './resource-options.schema';
import { errorProfileProblems, realmProblems, responseTemplatesProblems } from './response-options';
import { clientCertificateHeaderProblems, resolveClientCertificateHeader } from './sender-constraint-options';
import { resolveTransportOptions, transportOptionProblems } from './transport-options';

/** The options of `forRoot()`: anything else is a typo, refused at start-up. */
const MODULE_OPTION_NAMES = [
  'resources',
  'caches',
  'policy',
  'responseTemplates',
  'realm',
  'errorProfile',
  'retryAfterSeconds',
  'transports',
  'protectedResource',
  'publicUrl',
  'trustedClientCertificateHeader',
  'onDecision',
];

/**
 * Validates the options of `forRoot()` or of `forRootAsync()`'s factory, and applies defaults.
 *
 * @throws OAuth2ConfigurationError naming every field that is wrong, and what to do.
 */
export function validateModuleOptions(raw: unknown): ResolvedOAuth2ModuleOptions {
  if (!isJsonObject(raw)) {
    throw new OAuth2ConfigurationError('options', 'must be an object such as { resources: [...], policy: {...} }.');
  }
  // One check per section, each in its own module; their problems are reported together, in this order.
  const problems: OptionProblem[] = [
    ...unknownKeys(raw, MODULE_OPTION_NAMES, 'options', 'an option of OAuth2Module'),
    ...resourcesProblems(raw.resources),
    ...cachesProblems(raw.caches),
    ...policyProblems(raw.policy === undefined ? {} : raw.policy, 'policy'),
    ...responseTemplatesProblems(raw.responseTemplates),
    ...realmProblems(raw.realm),
    ...errorProfileProblems(raw.errorProfile, raw.retryAfterSeconds),
    ...transportOptionProblems(raw.transports),
    ...protectedResourceProblems(raw.protectedResource),
    ...publicUrlProblems(raw.publicUrl),
    ...clientCertificateHeaderProblems(raw.trustedClientCertificateHeader, 'trustedClientCertificateHeader'),
    ...onDecisionProblems(raw.onDecision, 'onDecision'),
  ];
  const options = raw as unknown as OAuth2ModuleOptions;
  if (problems.length === 0) {
    // Names are looked up only among valid resources and caches.
    problems.push(...namedReferenceProblems(options.policy ?? {}, 'policy', options.resources, options.caches ?? []));
  }
  if (problems.length > 0) {
    throw OAuth2ConfigurationError.fromProblems(problems);
  }
  return resolveModuleOptions(options);
}

/** Valid options with their defaults. */
function resolveModuleOptions(options: OAuth2ModuleOptions): ResolvedOAuth2ModuleOptions {
  const protectedResource = options.protectedResource && resolveProtectedResource(options.protectedResource);
  // An MCP server (RFC 9728, RFC 8707) must accept only tokens issued for it: its resource is the default audience.
  const defaultPolicy = protectedResource
    ? mergePolicy(DEFAULT_POLICY, { audiences: [protectedResource.options.resource] })
    : DEFAULT_POLICY;
  return {
    resources: options.resources,
    caches: (options.caches ?? []).map(resolveCacheOptions),
    policy: mergePolicy(defaultPolicy, options.policy ?? {}),
    responseTemplates: options.responseTemplates ?? {},
    realm: options.realm ?? DEFAULT_REALM,
    errorProfile: options.errorProfile ?? 'documented',
    retryAfterSeconds: options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
    transports: resolveTransportOptions(options.transports),
    ...(protectedResource && { protectedResource }),
    ...(options.publicUrl !== undefined && { publicUrl: resolvePublicUrl(options.publicUrl) }),
    ...(options.trustedClientCertificateHeader !== undefined && {
      trustedClientCertificateHeader: resolveClientCertificateHeader(options.trustedClientCertificateHeader),
    }),
    ...(options.onDecision && { onDecision: options.onDecision }),
  };
}

import { Allow, IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { isAsyncFunction } from '../common/is-async-function';
import { isJsonObject } from '../common/is-json-object';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import type { OAuth2PolicyOptions } from '../interfaces/policy-options.interface';
import { dpopPolicyProblems } from './dpop-options';
import { type OptionProblem, isScopeToken, schemaProblems } from './option-problem';
import { IsNonEmptyStringListOrFalse, IsStringOrFunction } from './validation-decorators';

/** Validation rules of a policy, in `forRoot({ policy })` and in `@OAuth2Policy()`. */
export class PolicySchema {
  @IsOptional() @IsStringOrFunction() oauthResource?: unknown;
  @IsOptional() @IsStringOrFunction({ allowFalse: true }) oauthCacheResource?: unknown;
  @IsOptional() @IsBoolean() extractPayload?: boolean;
  @IsOptional() @IsBoolean() checkRequiredScopes?: boolean;
  @IsOptional() @IsArray() @IsString({ each: true }) requiredScopes?: string[];
  @IsOptional() @IsBoolean() modeStrict?: boolean;
  @IsOptional() @IsBoolean() propagateAuthHeader?: boolean;
  @IsOptional() @IsBoolean() allowAccessTokenQueryParam?: boolean;
  @IsOptional() @IsInt() @Min(0) @Max(3600) clockToleranceSeconds?: number;
  @IsOptional() @IsNonEmptyStringListOrFalse() audiences?: unknown;
  @IsOptional() @IsNonEmptyStringListOrFalse() issuers?: unknown;
  // Checked by dpopPolicyProblems (dpop-options.ts).
  @Allow() dpop?: unknown;
  @Allow() dpopAlgorithms?: unknown;
  @Allow() dpopNonces?: unknown;
  @IsOptional() @IsBoolean() requireCertificateBinding?: boolean;
}

/** Validation problems of a policy (module default or decorator), without name look-ups. */
export function policyProblems(raw: unknown, field: string): OptionProblem[] {
  if (!isJsonObject(raw)) {
    return [{ field, problem: 'must be an object with the policy options (oauthResource, requiredScopes, ...).' }];
  }
  const problems = schemaProblems(PolicySchema, raw, field, 'a policy option');
  problems.push(...dpopPolicyProblems(raw, field));
  for (const selector of ['oauthResource', 'oauthCacheResource']) {
    // The guard calls a selector synchronously: an async one gives a Promise, never a name, so every request
    // would fail. A plain function that returns a Promise cannot be told apart before it is called.
    if (isAsyncFunction(raw[selector])) {
      problems.push({
        field: `${field}.${selector}`,
        problem:
          'is an async function: a selector must be synchronous and return a name. Decide from the ExecutionContext without awaiting (load what it needs at start-up), or give a name.',
      });
    }
  }
  const scopes = raw.requiredScopes;
  if (Array.isArray(scopes)) {
    scopes.forEach((scope, index) => {
      if (typeof scope === 'string' && !isScopeToken(scope)) {
        problems.push({
          field: `${field}.requiredScopes[${index}]`,
          problem:
            'is not a valid scope (RFC 6749 §3.3: no spaces, quotes or backslashes). List each scope as its own string.',
        });
      }
    });
  }
  return problems;
}

/** Problems with the plain-string resource and cache names of a policy. */
export function namedReferenceProblems(
  policy: OAuth2PolicyOptions,
  field: string,
  resources: readonly { name: string }[],
  caches: readonly { name: string }[],
): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const check = (
    value: unknown,
    subfield: string,
    kind: 'resource' | 'cache',
    registered: readonly { name: string }[],
  ) => {
    if (typeof value === 'string' && !registered.some((entry) => entry.name === value)) {
      const error = OAuth2ConfigurationError.unknownName(
        `${field}.${subfield}`,
        kind,
        value,
        registered.map((entry) => entry.name),
      );
      problems.push({ field: error.field, problem: error.message.replace(/^.*? names /, 'names ') });
    }
  };
  check(policy.oauthResource, 'oauthResource', 'resource', resources);
  check(policy.oauthCacheResource, 'oauthCacheResource', 'cache', caches);
  return problems;
}

import { Transform, plainToInstance } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { isJsonObject } from '../common/is-json-object';
import { httpClientOptionProblems } from './http-client-options';
import {
  type OptionProblem,
  describeValue,
  duplicateNameProblems,
  isHeaderName,
  schemaProblems,
} from './option-problem';
import { tlsOptionProblems } from './tls-options';
import { IsHttpUrl, IsRequired, IsStringOrFalse, IsUrlOrPath } from './validation-decorators';
import { signedIntrospectionProblems } from './sender-constraint-options';

const HTTP_METHODS = ['GET', 'POST'];

/** Validation rules of a resource's `http` option. */
class ResourceHttpSchema {
  @IsOptional() @IsInt() @Min(1) @Max(10_000) maxConcurrentConnections?: number;
  /** Checked against `timeout` by httpClientOptionProblems(). */
  @IsOptional() @IsInt() @Min(1) @Max(600_000) connectTimeout?: number;
  @IsOptional() @IsInt() @Min(1) @Max(3_600_000) idleTimeout?: number;
  @IsOptional() @IsBoolean() keepAlive?: boolean;
  @IsOptional() @IsBoolean() useCompression?: boolean;
}

/** Validation rules of a resource's `circuitBreaker` option (when it is not `false`). */
class ResourceCircuitBreakerSchema {
  @IsOptional() @IsInt() @Min(1) @Max(1000) failureThreshold?: number;
  @IsOptional() @IsInt() @Min(1) @Max(3600) coolDownSeconds?: number;
}

/**
 * A nested option group as an instance of its schema, so that its members are validated; anything
 * else as it is, for the group's own type check. (Not class-transformer's `@Type`, which needs
 * reflect-metadata.)
 */
function nested(schema: new () => object, value: unknown): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? plainToInstance(schema, value) : value;
}

/** Validation rules of the options every resource has. */
abstract class ResourceCommonSchema {
  @IsRequired() @IsString() @IsNotEmpty() name!: string;
  @IsRequired() @IsString() type!: string;
  @IsOptional() @IsString() @IsNotEmpty() userClaim?: string;
  @IsOptional() @IsInt() @Min(1) @Max(600_000) timeout?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(64 * 1024 * 1024) maxResponseBytes?: number;
  // Only its shape here: its members are checked by tlsOptionProblems(), which needs the resource's URLs.
  @IsOptional() @IsObjectOption() tls?: object;
  @IsOptional()
  @IsObjectOption({ message: 'must be an object such as { maxConcurrentConnections: 64 }' })
  @ValidateNested()
  @Transform(({ value }) => nested(ResourceHttpSchema, value))
  http?: ResourceHttpSchema;
  // Only its shape here: its members are checked by proxyOptionProblems(), which never quotes a password.
  @IsOptional()
  @IsObjectOption({
    message: "must be an object such as { host: 'proxy.internal', port: 3128 } or { useSystemProxy: true }",
  })
  proxy?: object;
  @IsOptional()
  @ValidateIf((_object, value) => value !== false)
  @IsObjectOption({
    message: 'must be false (no circuit breaker) or an object such as { failureThreshold: 10, coolDownSeconds: 10 }',
  })
  @ValidateNested()
  @Transform(({ value }) => nested(ResourceCircuitBreakerSchema, value))
  circuitBreaker?: ResourceCircuitBreakerSchema | false;
}

/** Validation rules of a `generic` resource. */
export class GenericResourceSchema extends ResourceCommonSchema {
  @IsOptional() @IsHttpUrl() authorizationServerUrl?: string;
  // Required unless `issuer` is set: checked by genericResourceProblems().
  @IsOptional() @IsUrlOrPath() introspectionEndpoint?: string;
  @IsOptional() @IsHttpUrl() issuer?: string;
  @IsOptional() @IsIn(HTTP_METHODS) introspectionEndpointMethod?: string;
  @IsOptional() @IsString() clientId?: string;
  @IsOptional() @IsString() clientSecret?: string;
  @IsOptional() @IsBoolean() useClientAuthorizationHeader?: boolean;
  @IsOptional() @IsString() @IsNotEmpty() clientAuthorizationHeaderName?: string;
  @IsOptional() @IsString() clientAuthorizationHeaderScheme?: string;
  @IsOptional() @IsBoolean() tokenIsSuppliedByQueryParam?: boolean;
  @IsOptional() @IsString() @IsNotEmpty() tokenQueryParamName?: string;
  @IsOptional() @IsBoolean() tokenIsSuppliedByHttpHeader?: boolean;
  @IsOptional() @IsString() @IsNotEmpty() tokenHeaderName?: string;
  @IsOptional() @IsBoolean() tokenIsSuppliedByFormUrlEncoded?: boolean;
  @IsOptional() @IsString() @IsNotEmpty() tokenFormUrlEncodedName?: string;
  @IsOptional() @IsStringOrFalse() tokenTypeHint?: string | false;
  @IsOptional() @IsString() @IsNotEmpty() scopeSeparator?: string;
  @IsOptional() @IsUrlOrPath() userInfoEndpoint?: string;
  @IsOptional() @IsIn(HTTP_METHODS) userInfoEndpointMethod?: string;
  // Checked beside issuer and clientId by signedIntrospectionProblems().
  @IsOptional() @IsIn(['json', 'jwt']) introspectionResponseFormat?: string;
  @IsOptional() @IsHttpUrl() jwksUri?: string;
}

/** Validation rules of a `gravitee-am` resource. */
export class GraviteeAmResourceSchema extends ResourceCommonSchema {
  @IsRequired() @IsHttpUrl() serverURL!: string;
  @IsRequired() @IsString() @IsNotEmpty() securityDomain!: string;
  @IsRequired() @IsString() @IsNotEmpty() clientId!: string;
  @IsRequired() @IsString() clientSecret!: string;
  @IsOptional() @IsIn(['V1_X', 'V2_X', 'V3_X']) version?: string;
}

/** An object (not an array, not null); its members are checked elsewhere. */
function IsObjectOption(options?: { message: string }): PropertyDecorator {
  return ValidateBy({
    name: 'isObjectOption',
    validator: {
      validate: (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
      defaultMessage: () => options?.message ?? 'must be an object',
    },
  });
}

/**
 * Problems of the `resources` option: at least one, each checked by its type's schema and the checks
 * across its options (endpoints, TLS, HTTP client), and no name twice.
 */
export function resourcesProblems(raw: unknown): OptionProblem[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    return [
      {
        field: 'resources',
        problem:
          "is required: list at least one authorization server, e.g. [{ name: 'my-as', type: 'generic', introspectionEndpoint: 'https://...' }].",
      },
    ];
  }
  const problems: OptionProblem[] = [];
  raw.forEach((resource, index) => {
    const field = `resources[${index}]`;
    if (!isJsonObject(resource)) {
      problems.push({ field, problem: 'must be an object.' });
    } else if (resource.type === 'generic') {
      problems.push(...schemaProblems(GenericResourceSchema, resource, field, "an option of a 'generic' resource"));
      problems.push(...genericResourceProblems(resource, field));
      problems.push(...signedIntrospectionProblems(resource, field));
      const urls = [
        resource.introspectionEndpoint,
        resource.issuer,
        resource.authorizationServerUrl,
        resource.userInfoEndpoint,
      ];
      problems.push(...tlsOptionProblems(resource.tls, `${field}.tls`, urls));
      problems.push(...httpClientOptionProblems(resource, field));
    } else if (resource.type === 'gravitee-am') {
      problems.push(
        ...schemaProblems(GraviteeAmResourceSchema, resource, field, "an option of a 'gravitee-am' resource"),
      );
      problems.push(...tlsOptionProblems(resource.tls, `${field}.tls`, [resource.serverURL]));
      problems.push(...httpClientOptionProblems(resource, field));
    } else {
      problems.push({
        field: `${field}.type`,
        problem: `must be 'generic' or 'gravitee-am' (got ${describeValue(resource.type)}).`,
      });
    }
  });
  problems.push(...duplicateNameProblems(raw, 'resources'));
  return problems;
}

function genericResourceProblems(resource: Record<string, unknown>, field: string): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const isPath = (value: unknown) => typeof value === 'string' && value.startsWith('/');
  problems.push(...endpointOrIssuerProblems(resource, field));
  for (const endpoint of ['introspectionEndpoint', 'userInfoEndpoint']) {
    if (isPath(resource[endpoint]) && resource.authorizationServerUrl === undefined) {
      problems.push({
        field: `${field}.${endpoint}`,
        problem: "is a path: set authorizationServerUrl to the server's base URL, or give a full URL here.",
      });
    }
  }
  const method = resource.introspectionEndpointMethod ?? 'POST';
  if (method === 'GET' && resource.tokenIsSuppliedByFormUrlEncoded === true) {
    problems.push({
      field: `${field}.tokenIsSuppliedByFormUrlEncoded`,
      problem:
        'needs introspectionEndpointMethod POST (a GET request has no body): use tokenIsSuppliedByQueryParam, or POST.',
    });
  }
  if (
    resource.tokenIsSuppliedByQueryParam === false &&
    resource.tokenIsSuppliedByHttpHeader === false &&
    resource.tokenIsSuppliedByFormUrlEncoded === false
  ) {
    problems.push({
      field: `${field}.tokenIsSuppliedByFormUrlEncoded`,
      problem: 'is false, and so are the query and header options: the token would not be sent. Turn one of them on.',
    });
  }
  if (resource.tokenIsSuppliedByHttpHeader === true && resource.tokenHeaderName === undefined) {
    problems.push({
      field: `${field}.tokenHeaderName`,
      problem: 'is required when tokenIsSuppliedByHttpHeader is true.',
    });
  }
  for (const headerField of ['tokenHeaderName', 'clientAuthorizationHeaderName']) {
    const value = resource[headerField];
    if (typeof value === 'string' && value !== '' && !isHeaderName(value)) {
      problems.push({ field: `${field}.${headerField}`, problem: 'is not a valid HTTP header name.' });
    }
  }
  if (method === 'GET' && resource.useClientAuthorizationHeader === false && resource.clientId !== undefined) {
    problems.push({
      field: `${field}.useClientAuthorizationHeader`,
      problem:
        'is false with introspectionEndpointMethod GET: the client credentials would have to go in the URL, where they are logged, so they would not be sent. Use POST, or the header.',
    });
  }
  if (resource.clientSecret !== undefined && resource.clientId === undefined) {
    problems.push({ field: `${field}.clientId`, problem: 'is required when clientSecret is set.' });
  }
  return problems;
}

/** A generic resource names its introspection endpoint, or the issuer to discover it from: one of the two. */
function endpointOrIssuerProblems(resource: Record<string, unknown>, field: string): OptionProblem[] {
  const { introspectionEndpoint, issuer } = resource;
  if (introspectionEndpoint === undefined && issuer === undefined) {
    return [
      {
        field: `${field}.introspectionEndpoint`,
        problem:
          "is required: give the introspection endpoint's URL, or the authorization server's issuer (issuer: 'https://as.example.com') to discover it.",
      },
    ];
  }
  if (introspectionEndpoint !== undefined && issuer !== undefined) {
    return [
      {
        field: `${field}.issuer`,
        problem: 'is set beside introspectionEndpoint: give one of them (issuer discovers the endpoint).',
      },
    ];
  }
  if (typeof issuer === 'string' && (issuer.includes('?') || issuer.includes('#'))) {
    return [
      {
        field: `${field}.issuer`,
        problem:
          'must have no query or fragment (RFC 8414 §2): give the issuer identifier exactly as the server states it.',
      },
    ];
  }
  return [];
}

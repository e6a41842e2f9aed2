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
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { PemData } from '../interfaces/resource-options.interface';
import type { OptionProblem } from './validate-options';
import { IsHttpUrl, IsRequired, IsStringOrFalse, IsUrlOrPath } from './validation-decorators';

const HTTP_METHODS = ['GET', 'POST'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

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
}

/** Validation rules of a `gravitee-am` resource. */
export class GraviteeAmResourceSchema extends ResourceCommonSchema {
  @IsRequired() @IsHttpUrl() serverURL!: string;
  @IsRequired() @IsString() @IsNotEmpty() securityDomain!: string;
  @IsRequired() @IsString() @IsNotEmpty() clientId!: string;
  @IsRequired() @IsString() clientSecret!: string;
  @IsOptional() @IsIn(['V1_X', 'V2_X', 'V3_X']) version?: string;
}

/** Header names must be HTTP tokens (RFC 9110 §5.1), or Node refuses to send them at request time. */
export function isHeaderName(value: string): boolean {
  return HEADER_NAME.test(value);
}

/** The members of a resource's `tls` option. */
const TLS_OPTION_NAMES = ['ca', 'cert', 'key', 'passphrase', 'insecureSkipVerify'];

/**
 * Problems with a resource's `tls` option: unknown members, wrong types, PEM texts that do not load
 * (checked now, so that a bad certificate stops the start rather than failing every request), a
 * certificate without its key, `insecureSkipVerify` beside a `ca` it would make pointless, and TLS
 * settings on a resource that has no `https://` URL to use them on.
 *
 * @param urls the resource's URL options (endpoints and base URLs), to tell whether any is https.
 */
export function tlsOptionProblems(tls: unknown, field: string, urls: readonly unknown[]): OptionProblem[] {
  // Anything but an object is reported by the schema (IsObjectOption).
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    return [];
  }
  const options = tls as Record<string, unknown>;
  const problems: OptionProblem[] = Object.keys(options)
    .filter((name) => !TLS_OPTION_NAMES.includes(name))
    .map((name) => ({
      field: `${field}.${name}`,
      problem: `is not a TLS option: check its spelling. Known options: ${TLS_OPTION_NAMES.join(', ')}.`,
    }));
  const { ca, cert, key, passphrase, insecureSkipVerify } = options;
  if (ca !== undefined) {
    const list = Array.isArray(ca) ? ca : [ca];
    if (list.length === 0) {
      problems.push({
        field: `${field}.ca`,
        problem: 'is an empty list: give at least one CA certificate, or leave ca out.',
      });
    }
    list.forEach((entry, index) => {
      const where = Array.isArray(ca) ? `${field}.ca[${index}]` : `${field}.ca`;
      if (!isPem(entry)) {
        problems.push({ field: where, problem: pemProblem('a CA certificate') });
      } else if (!isCertificate(entry)) {
        problems.push({ field: where, problem: 'is not a readable PEM certificate (-----BEGIN CERTIFICATE-----).' });
      }
    });
  }
  for (const [name, value, what] of [
    ['cert', cert, 'a certificate'],
    ['key', key, 'a private key'],
  ] as const) {
    if (value !== undefined && !isPem(value)) {
      problems.push({ field: `${field}.${name}`, problem: pemProblem(what) });
    }
  }
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? 'cert' : 'key';
    problems.push({
      field: `${field}.${missing}`,
      problem: `is required with ${missing === 'cert' ? 'key' : 'cert'}: a client certificate needs its private key, and the key its certificate.`,
    });
  }
  if (passphrase !== undefined && typeof passphrase !== 'string') {
    problems.push({ field: `${field}.passphrase`, problem: 'must be a string.' });
  } else if (passphrase !== undefined && key === undefined) {
    problems.push({
      field: `${field}.passphrase`,
      problem: 'is set without key: it is the passphrase of an encrypted key.',
    });
  }
  if (insecureSkipVerify !== undefined && typeof insecureSkipVerify !== 'boolean') {
    problems.push({
      field: `${field}.insecureSkipVerify`,
      problem: `must be a boolean (got ${typeof insecureSkipVerify}).`,
    });
  } else if (insecureSkipVerify === true && ca !== undefined) {
    problems.push({
      field: `${field}.insecureSkipVerify`,
      problem: 'is true beside ca: the CA would never be checked. Keep ca and remove insecureSkipVerify.',
    });
  }
  if (problems.length === 0 && (cert !== undefined || key !== undefined)) {
    try {
      // Loads the key pair as every connection will: a wrong passphrase or a key of another certificate fails here.
      createSecureContext({ cert: cert as PemData, key: key as PemData, passphrase: passphrase as string | undefined });
    } catch (error) {
      problems.push({
        field: `${field}.cert`,
        problem: `and key could not be loaded (${loadFailure(error)}): check that key belongs to cert, and the passphrase.`,
      });
    }
  }
  if (!urls.some((url) => typeof url === 'string' && /^https:\/\//i.test(url))) {
    problems.push({
      field,
      problem:
        'is set, but the resource has no https:// URL: TLS settings would not be used. Use https:// URLs, or remove tls.',
    });
  }
  return problems;
}

/** Whether a value is PEM text (a string or Buffer with `-----BEGIN `), not, say, a file's path. */
export function isPem(value: unknown): value is PemData {
  return (typeof value === 'string' || Buffer.isBuffer(value)) && value.includes('-----BEGIN ');
}

function isCertificate(pem: PemData): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

function pemProblem(what: string): string {
  return `must be ${what} as a PEM text (a string or Buffer with -----BEGIN ...): pass the file's content, e.g. fs.readFileSync(path), not its path.`;
}

/** OpenSSL's reason, such as `bad decrypt` or `key values mismatch`: it names the failure, never the key. */
function loadFailure(error: unknown): string {
  // Not `instanceof Error`: errors of Node's native TLS layer may come from another realm (a test VM).
  const message =
    typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return (message.split('::').pop() ?? message).slice(0, 120);
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

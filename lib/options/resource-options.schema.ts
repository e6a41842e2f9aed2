import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { IsHttpUrl, IsRequired, IsStringOrFalse, IsUrlOrPath } from './validation-decorators';

const HTTP_METHODS = ['GET', 'POST'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validation rules of the options every resource has. */
abstract class ResourceCommonSchema {
  @IsRequired() @IsString() @IsNotEmpty() name!: string;
  @IsRequired() @IsString() type!: string;
  @IsOptional() @IsString() @IsNotEmpty() userClaim?: string;
  @IsOptional() @IsInt() @Min(1) @Max(600_000) timeout?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(64 * 1024 * 1024) maxResponseBytes?: number;
}

/** Validation rules of a `generic` resource. */
export class GenericResourceSchema extends ResourceCommonSchema {
  @IsOptional() @IsHttpUrl() authorizationServerUrl?: string;
  @IsRequired() @IsUrlOrPath() introspectionEndpoint!: string;
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

import { IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
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
}

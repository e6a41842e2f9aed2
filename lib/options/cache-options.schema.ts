import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { IsRequired } from './validation-decorators';

/** Validation rules of a `memory` cache resource. */
export class MemoryCacheSchema {
  @IsRequired() @IsString() @IsNotEmpty() name!: string;
  @IsOptional() @IsIn(['memory']) type?: string;
  /** Finite by design: an entry that never expires would outlive revocations. */
  @IsOptional() @IsInt() @Min(1) @Max(86_400) timeToLiveSeconds?: number;
  /** The bound that keeps a spray of random tokens from growing the process. */
  @IsOptional() @IsInt() @Min(1) @Max(16_000_000) maxEntries?: number;
}

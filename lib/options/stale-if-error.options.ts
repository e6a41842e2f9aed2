import { isJsonObject } from '../common/is-json-object';
import type { OptionProblem } from './option-problem';

/** Longest `staleIfErrorSeconds`: an outage longer than an hour calls for a decision, not for stale answers. */
export const MAX_STALE_IF_ERROR_SECONDS = 3600;

/**
 * Problems with a cache resource's `staleIfErrorSeconds`: a whole number of seconds from 0 (off) to
 * {@link MAX_STALE_IF_ERROR_SECONDS}.
 *
 * @param cache the raw cache resource options (anything else has no problem of this kind).
 * @param field the cache's option path, such as `caches[0]`.
 */
export function staleIfErrorProblems(cache: unknown, field: string): OptionProblem[] {
  if (!isJsonObject(cache) || cache.staleIfErrorSeconds === undefined) {
    return [];
  }
  const seconds = cache.staleIfErrorSeconds;
  if (
    typeof seconds === 'number' &&
    Number.isInteger(seconds) &&
    seconds >= 0 &&
    seconds <= MAX_STALE_IF_ERROR_SECONDS
  ) {
    return [];
  }
  return [
    {
      field: `${field}.staleIfErrorSeconds`,
      problem: `must be a whole number of seconds from 0 (off) to ${MAX_STALE_IF_ERROR_SECONDS}, such as 60 (got ${typeof seconds === 'number' ? seconds : typeof seconds}).`,
    },
  ];
}

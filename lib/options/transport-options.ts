import { isAsyncFunction } from '../common/is-async-function';
import { isJsonObject } from '../common/is-json-object';
import type { OAuth2TransportOptions, ResolvedOAuth2TransportOptions } from '../interfaces/transport-options.interface';
import { OAUTH2_CONTEXT_TYPES, isOAuth2ContextType } from '../transports/context-type';
import type { OptionProblem } from './option-problem';

const TRANSPORT_OPTION_NAMES = ['globalContextTypes', 'tokenExtractors'];
const EXTRACTOR_NAMES = ['graphql', 'ws', 'rpc'];
const CONTEXT_TYPE_LIST = OAUTH2_CONTEXT_TYPES.map((type) => `'${type}'`).join(', ');

/** Problems of the `transports` option. */
export function transportOptionProblems(raw: unknown): OptionProblem[] {
  if (raw === undefined) {
    return [];
  }
  if (!isJsonObject(raw)) {
    return [{ field: 'transports', problem: "must be an object such as { globalContextTypes: ['http', 'graphql'] }." }];
  }
  const problems: OptionProblem[] = [];
  for (const name of Object.keys(raw)) {
    if (!TRANSPORT_OPTION_NAMES.includes(name)) {
      problems.push({
        field: `transports.${name}`,
        problem: `is not an option of transports (they are ${TRANSPORT_OPTION_NAMES.join(', ')}).`,
      });
    }
  }
  const types = raw.globalContextTypes;
  if (types !== undefined) {
    if (!Array.isArray(types)) {
      problems.push({
        field: 'transports.globalContextTypes',
        problem: `must be an array of context types (${CONTEXT_TYPE_LIST}).`,
      });
    } else {
      types.forEach((type, index) => {
        if (!isOAuth2ContextType(type)) {
          problems.push({
            field: `transports.globalContextTypes[${index}]`,
            problem: `must be one of ${CONTEXT_TYPE_LIST} (got ${JSON.stringify(type) ?? String(type)}).`,
          });
        }
      });
    }
  }
  const extractors = raw.tokenExtractors;
  if (extractors !== undefined) {
    if (!isJsonObject(extractors)) {
      problems.push({
        field: 'transports.tokenExtractors',
        problem: 'must be an object of functions by transport: { graphql?, ws?, rpc? }.',
      });
    } else {
      for (const [name, value] of Object.entries(extractors)) {
        if (!EXTRACTOR_NAMES.includes(name)) {
          problems.push({
            field: `transports.tokenExtractors.${name}`,
            problem: `is not a transport with a token extractor (they are ${EXTRACTOR_NAMES.join(', ')}; HTTP reads the Authorization header).`,
          });
        } else if (value !== undefined && typeof value !== 'function') {
          problems.push({
            field: `transports.tokenExtractors.${name}`,
            problem:
              "must be a function (context: ExecutionContext) => string | undefined, returning the call's Authorization value ('Bearer <token>').",
          });
        } else if (isAsyncFunction(value)) {
          problems.push({
            field: `transports.tokenExtractors.${name}`,
            problem: 'is an async function: an extractor must return the Authorization value synchronously.',
          });
        }
      }
    }
  }
  return problems;
}

/** The `transports` option with defaults applied (call after {@link transportOptionProblems} found none). */
export function resolveTransportOptions(raw: OAuth2TransportOptions | undefined): ResolvedOAuth2TransportOptions {
  return Object.freeze({
    globalContextTypes: new Set<string>(raw?.globalContextTypes ?? OAUTH2_CONTEXT_TYPES),
    tokenExtractors: Object.freeze({ ...raw?.tokenExtractors }),
  });
}

import { plainToInstance } from 'class-transformer';
import { type ValidationError, getMetadataStorage, validateSync } from 'class-validator';
import { isJsonObject } from '../common/is-json-object';

/** A problem found in the options: the field's path and what is wrong with it. */
export interface OptionProblem {
  field: string;
  problem: string;
}

/** The constraints reported first when several fail: presence, then type. */
const PRIMARY_CONSTRAINTS = ['isDefined', 'isInt', 'isString', 'isBoolean', 'isArray'];
/** RFC 9110 §5.6.2 token, which a header name is (§5.1). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The problems a class-validator schema finds in an option group: unknown options (with the known
 * ones listed), then per option its presence or type before its range.
 *
 * @param what how to call an option of the group in a message, e.g. `"an option of a 'memory' cache"`.
 */
export function schemaProblems(
  schema: new () => object,
  raw: Record<string, unknown>,
  field: string,
  what: string,
): OptionProblem[] {
  const instance = plainToInstance(schema, raw, { enableImplicitConversion: false });
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return errors.flatMap((error) => toProblems(error, field, what, knownOptions(schema)));
}

function toProblems(error: ValidationError, parent: string, what: string, known: string[]): OptionProblem[] {
  const field = `${parent}.${error.property}`;
  const constraints = Object.entries(error.constraints ?? {});
  if (constraints.some(([name]) => name === 'whitelistValidation')) {
    return [{ field, problem: `is not ${what}: check its spelling. Known options: ${known.join(', ')}.` }];
  }
  // A value of the wrong type fails its range checks too: report the type, not "must not be greater than".
  const first =
    PRIMARY_CONSTRAINTS.map((wanted) => constraints.find(([name]) => name === wanted)).find(Boolean) ?? constraints[0];
  if (!first) {
    return (error.children ?? []).flatMap((child) => toProblems(child, field, what, known));
  }
  const message = first[1].startsWith(`${error.property} `) ? first[1].slice(error.property.length + 1) : first[1];
  // Never echo what may be a secret, even a mistyped one.
  const got = /secret|password/i.test(error.property) ? '' : ` (got ${describeValue(error.value)})`;
  return [{ field, problem: `${message}${got}.` }];
}

/** The option names a schema accepts: its validated properties. */
function knownOptions(schema: new () => object): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(schema, '', true, false);
  return [...new Set(metadata.map((entry) => entry.propertyName))];
}

/**
 * One problem per member of `raw` that is not in `known`, listing the known ones.
 *
 * @param parent the group's field; `'options'` (the module's own) is left out of the members' paths.
 * @param what how to call a member in a message, e.g. `'a TLS option'`.
 */
export function unknownKeys(
  raw: Record<string, unknown>,
  known: readonly string[],
  parent: string,
  what: string,
): OptionProblem[] {
  return Object.keys(raw)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      field: parent === 'options' ? name : `${parent}.${name}`,
      problem: `is not ${what}: check its spelling. Known options: ${known.join(', ')}.`,
    }));
}

/** One problem per entry of a list whose `name` an earlier entry already has. */
export function duplicateNameProblems(entries: readonly unknown[], field: string): OptionProblem[] {
  const seen = new Map<unknown, number>();
  const problems: OptionProblem[] = [];
  entries.forEach((entry, index) => {
    const name = isJsonObject(entry) ? entry.name : undefined;
    if (typeof name !== 'string') {
      return;
    }
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, index);
    } else {
      problems.push({
        field: `${field}[${index}].name`,
        problem: `'${name}' is already the name of ${field}[${first}]: give each entry its own name.`,
      });
    }
  });
  return problems;
}

/** RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Whether a value is one scope (RFC 6749 §3.3 scope-token), as a policy or the RFC 9728 document lists them. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

/** Header names must be HTTP tokens (RFC 9110 §5.1), or Node refuses to send them at request time. */
export function isHeaderName(value: string): boolean {
  return HEADER_NAME.test(value);
}

/** Describes a value in a message without echoing secrets or long strings. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) {
    return String(value);
  }
  if (typeof value === 'string') {
    return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

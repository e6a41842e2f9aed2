import { IsDefined, ValidateBy, type ValidationOptions, buildMessage } from 'class-validator';

/** A required option: its absence is reported as "is required", not as a type error. */
export const IsRequired = (): PropertyDecorator => IsDefined({ message: 'is required' });

/** A string, or a function (resource selectors); with `allowFalse`, also `false` (turned off). */
export const IsStringOrFunction = (options?: ValidationOptions & { allowFalse?: boolean }): PropertyDecorator =>
  satisfies(
    'isStringOrFunction',
    (value) =>
      (typeof value === 'string' && value.length > 0) ||
      typeof value === 'function' ||
      (options?.allowFalse === true && value === false),
    `must be a non-empty string or a function of the ExecutionContext${options?.allowFalse ? ', or false' : ''}`,
    options,
  );

/** An absolute http(s) URL, or a path starting with `/` to resolve against a base URL. */
export const IsUrlOrPath = (options?: ValidationOptions): PropertyDecorator =>
  satisfies(
    'isUrlOrPath',
    (value) => typeof value === 'string' && (isHttpUrl(value) || value.startsWith('/')),
    'must be an http(s) URL, or a path starting with "/"',
    options,
  );

/** An absolute http(s) URL. */
export const IsHttpUrl = (options?: ValidationOptions): PropertyDecorator =>
  satisfies(
    'isHttpUrl',
    (value) => typeof value === 'string' && isHttpUrl(value),
    'must be an absolute http:// or https:// URL',
    options,
  );

/** A string or `false`. */
export const IsStringOrFalse = (options?: ValidationOptions): PropertyDecorator =>
  satisfies(
    'isStringOrFalse',
    (value) => typeof value === 'string' || value === false,
    'must be a string, or false',
    options,
  );

/**
 * A non-empty array of non-empty strings, or `false` (turned off). An empty array is refused: it would
 * either accept every token or refuse them all, and `false` says the first plainly.
 */
export const IsNonEmptyStringListOrFalse = (options?: ValidationOptions): PropertyDecorator =>
  satisfies(
    'isNonEmptyStringListOrFalse',
    (value) =>
      value === false ||
      (Array.isArray(value) &&
        value.length > 0 &&
        value.every((entry) => typeof entry === 'string' && entry.length > 0)),
    'must be a non-empty array of non-empty strings, or false to turn the check off',
    options,
  );

/** Whether a string is an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A validation rule from a predicate and the message its failure gives. */
function satisfies(
  name: string,
  predicate: (value: unknown) => boolean,
  message: string,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    { name, validator: { validate: predicate, defaultMessage: buildMessage(() => message, options) } },
    options,
  );
}

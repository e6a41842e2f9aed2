import { IsDefined, ValidateBy, ValidationOptions, buildMessage } from 'class-validator';

/** A required option: its absence is reported as "is required", not as a type error. */
export const IsRequired = (): PropertyDecorator => IsDefined({ message: 'is required' });

/** A string, or a function (resource selectors). */
export function IsStringOrFunction(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringOrFunction',
      validator: {
        validate: (value: unknown) => (typeof value === 'string' && value.length > 0) || typeof value === 'function',
        defaultMessage: buildMessage(() => 'must be a non-empty string or a function of the ExecutionContext', options),
      },
    },
    options,
  );
}

/** An absolute http(s) URL, or a path starting with `/` to resolve against a base URL. */
export function IsUrlOrPath(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isUrlOrPath',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && (isHttpUrl(value) || value.startsWith('/')),
        defaultMessage: buildMessage(() => 'must be an http(s) URL, or a path starting with "/"', options),
      },
    },
    options,
  );
}

/** An absolute http(s) URL. */
export function IsHttpUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHttpUrl',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isHttpUrl(value),
        defaultMessage: buildMessage(() => 'must be an absolute http:// or https:// URL', options),
      },
    },
    options,
  );
}

/** A string or `false`. */
export function IsStringOrFalse(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringOrFalse',
      validator: {
        validate: (value: unknown) => typeof value === 'string' || value === false,
        defaultMessage: buildMessage(() => 'must be a string, or false', options),
      },
    },
    options,
  );
}

/** Whether a string is an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

import { Injectable } from '@nestjs/common';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';

/**
 * Imports the optional peer dependencies (`@keyv/redis`) when the configuration needs them, at
 * start-up, so that an application that does not use them does not install them, and one that
 * needs a missing one does not start, with an install hint. A provider, so that a test can make a
 * package look not installed.
 */
@Injectable()
export class OptionalPackageLoader {
  /**
   * The package, imported by `importPackage` (a literal `import('<name>')`, which bundlers and
   * TypeScript can follow).
   *
   * @param packageName the name to `npm install`.
   * @param field the option path whose setting needs it, such as `caches[1]`.
   * @param feature what needs it, such as `type 'redis'`.
   * @throws OAuth2ConfigurationError when the package is not installed. Any other failure to load
   *   it (one of its own dependencies missing, say) is rethrown as it is: it names what is wrong.
   */
  async load<T>(packageName: string, field: string, feature: string, importPackage: () => Promise<T>): Promise<T> {
    try {
      return await importPackage();
    } catch (error) {
      if (isNotFound(error, packageName)) {
        throw new OAuth2ConfigurationError(
          field,
          `(${feature}) needs the package ${packageName}, which is not installed: npm install ${packageName}`,
        );
      }
      throw error;
    }
  }

  /**
   * The package, or `undefined` when it is not installed: for a package that adds something when
   * it is there and costs nothing when it is not (`@opentelemetry/api`). Any other failure to load
   * it is rethrown as it is.
   */
  async loadIfInstalled<T>(packageName: string, importPackage: () => Promise<T>): Promise<T | undefined> {
    try {
      return await importPackage();
    } catch (error) {
      if (isNotFound(error, packageName)) {
        return undefined;
      }
      throw error;
    }
  }
}

/**
 * Whether an import failed because the package itself cannot be found. Node (`MODULE_NOT_FOUND` from
 * require, `ERR_MODULE_NOT_FOUND` from import) and jest quote the missing name; a package that is
 * there but misses one of its own dependencies quotes that dependency's name instead.
 */
export function isNotFound(error: unknown, packageName: string): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${packageName}'`)
  );
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importKeyvRedis } from '../cache/redis-token-cache.store';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { OptionalPackageLoader } from './optional-package.loader';

/** A name no registry has: importing it fails as it would for any package that is not installed. */
const MISSING = '@keyv/redis-not-installed-e1f3';

describe('OptionalPackageLoader', () => {
  const loader = new OptionalPackageLoader();

  it('gives an installed package, as import() does', async () => {
    const keyv = await loader.load('keyv', 'caches[0]', "type 'memory'", () => import('keyv'));
    expect(typeof keyv.Keyv).toBe('function');
  });

  it('imports @keyv/redis for a redis cache: the adapter class and createClient', async () => {
    const keyvRedis = await importKeyvRedis(loader, 'caches[0]');
    expect(typeof keyvRedis.default).toBe('function');
    expect(typeof keyvRedis.createClient).toBe('function');
  });

  it('a package that is not installed: a configuration error naming the field, with the install command', async () => {
    const failure = loader.load(MISSING, 'caches[1]', "type 'redis'", () => import(MISSING));
    await expect(failure).rejects.toBeInstanceOf(OAuth2ConfigurationError);
    await expect(failure).rejects.toMatchObject({
      field: 'caches[1]',
      message: `OAuth2Module configuration: caches[1] (type 'redis') needs the package ${MISSING}, which is not installed: npm install ${MISSING}`,
    });
  });

  it('a package that is there but misses a dependency of its own: the error as it is, naming that dependency', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'oauth2-optional-package-'));
    try {
      const entry = join(directory, 'index.cjs');
      writeFileSync(entry, `module.exports = require('${MISSING}');\n`);
      const failure = loader.load('broken-package', 'caches[0]', "type 'redis'", () => import(entry));
      await expect(failure).rejects.not.toBeInstanceOf(OAuth2ConfigurationError);
      await expect(failure).rejects.toThrow(MISSING);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

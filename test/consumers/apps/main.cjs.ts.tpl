// A CommonJS application: its import statements are compiled to require().
import { OAuth2Module } from 'nestjs-oauth2-policy';
import { start } from './orders.app.js';

// TypeScript rewrites import() into require() under `module: commonjs`; it leaves a Function body alone, so this is a
// real ES import, as an ES module dependency of the application would make.
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<{ OAuth2Module: unknown }>;

// One CommonJS build: require() and import() in the same process must reach the same module (no dual-package hazard).
importModule('nestjs-oauth2-policy')
  .then((imported) => start({ format: 'cjs', sameModule: imported.OAuth2Module === OAuth2Module }))
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });

// An ES module application ("type": "module", module nodenext).
import { createRequire } from 'node:module';
import { OAuth2Module } from 'nestjs-oauth2-policy';
import { start } from './orders.app.js';

// The package is one CommonJS build, so an ES import and a require() in the same process must reach the same module
// (no dual-package hazard: one OAuth2Module class, one set of metadata keys and injection tokens).
const required = createRequire(import.meta.url)('nestjs-oauth2-policy') as { OAuth2Module: unknown };
await start({ format: 'esm', sameModule: required.OAuth2Module === OAuth2Module });

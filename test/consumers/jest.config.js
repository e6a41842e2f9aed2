/**
 * The consumer tests (`node scripts/test.mjs --leg consumers`): the packed library installed into fresh applications,
 * which run in processes of their own. The tests themselves load no Nest package, so jest's CommonJS mode serves,
 * with ts-jest compiling them as the root config's Nest 11 leg does.
 */
const { compilerOptions } = require('../../tsconfig.json');

module.exports = {
  rootDir: '../..',
  roots: ['<rootDir>/test/consumers'],
  testEnvironment: 'node',
  testRegex: '\\.e2e-spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { ...compilerOptions, module: 'commonjs' } }] },
  testTimeout: 20000,
};

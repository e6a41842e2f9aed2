/**
 * Unit tests sit next to the code (lib/**\/*.spec.ts); end-to-end tests live in test/ (*.e2e-spec.ts).
 *
 * The suite runs on two NestJS majors (see CONTRIBUTING.md):
 *
 * - Nest 12 (the default; the root devDependencies). Nest 12 ships as ES modules only, and jest's
 *   CommonJS runtime has no require(esm), so this leg runs in jest's ESM mode: node
 *   --experimental-vm-modules, with lib/ and the tests compiled to ES modules by ts-jest.
 * - Nest 11 (OAUTH2_TEST_NEST=11): @nestjs/* are mapped to compat/nest11/node_modules, and the leg
 *   runs in jest's CommonJS mode, as a CommonJS Nest 11 application loads the package.
 *
 * `npm test` runs both legs (scripts/test.mjs); `npm run jest -- <paths>` runs the Nest 12 leg alone.
 */
const nest = process.env.OAUTH2_TEST_NEST ?? '12';
if (nest !== '11' && nest !== '12') {
  throw new Error(`OAUTH2_TEST_NEST must be 11 or 12, not '${nest}'`);
}
const esm = nest === '12';
const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
if (esm && !nodeOptions.includes('--experimental-vm-modules')) {
  throw new Error(
    "The Nest 12 leg runs in jest's ESM mode, which needs node --experimental-vm-modules: use `npm run jest -- <paths>` " +
      '(or set NODE_OPTIONS=--experimental-vm-modules), or OAUTH2_TEST_NEST=11 for the CommonJS leg.',
  );
}

const tsJest = esm
  ? ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', useESM: true }]
  : ['ts-jest', { tsconfig: { ...require('./tsconfig.json').compilerOptions, module: 'commonjs' } }];

/** The Nest 11 leg loads these @nestjs/* packages from compat/nest11 instead of the root node_modules. */
const NEST11_PACKAGES = [
  'common',
  'core',
  'platform-express',
  'platform-fastify',
  'testing',
  'cache-manager',
  'graphql',
  'apollo',
  'mercurius',
  'websockets',
  'platform-socket.io',
  'platform-ws',
  'microservices',
  'swagger',
  'terminus',
];
/**
 * And these, which the Nest 11 packages above load from compat/nest11 as their peers: a test that
 * imports one must get the same copy (two copies of graphql in one schema fail at run time).
 */
const NEST11_PEERS = ['graphql', '@apollo/server', 'mercurius'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/lib', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  // The consumer tests pack the library and run it in applications of their own: scripts/test.mjs
  // runs them once, not once per leg.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/consumers/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  ...(esm && { extensionsToTreatAsEsm: ['.ts'] }),
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: {
    // Mercurius loads @fastify/static, which require()s content-disposition 3, an ES module only: jest's
    // runtime (both legs) cannot require() an ES module. The shim serves the same API as CommonJS.
    '^content-disposition$': '<rootDir>/test/support/content-disposition.cjs',
    ...(!esm && {
      [`^@nestjs/(${NEST11_PACKAGES.join('|')})($|/.*)`]: '<rootDir>/compat/nest11/node_modules/@nestjs/$1$2',
      [`^(${NEST11_PEERS.join('|')})($|/.*)`]: '<rootDir>/compat/nest11/node_modules/$1$2',
    }),
  },
  testTimeout: 20000,
  // Jest's ESM mode keeps every test file's module graph (Nest included) alive in its worker; a worker
  // that grows past this is replaced between files, so that heap-measuring tests see a small heap.
  workerIdleMemoryLimit: '512MB',
  // One real authorization server (node-oidc-provider) for the run, for test/conformance; its
  // address and clients reach the tests as OIDC_* environment variables.
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
};

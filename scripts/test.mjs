/**
 * `npm test`: the whole test matrix, as CI runs it.
 *
 *   1. nest12    every unit and end-to-end test on NestJS 12, Node 24 (jest's ESM mode)
 *   2. nest11    the same tests on NestJS 11, Node 20 (jest's CommonJS mode, compat/nest11)
 *   3. consumers the packed library installed into fresh Nest 12 ESM, Nest 12 CommonJS and Nest 11
 *                CommonJS applications, on Express and Fastify, on Node 20, 22 and 24
 *
 *   node scripts/test.mjs [--leg nest12|nest11|consumers]... [-- <jest arguments>]
 *   node scripts/test.mjs --install-only   installs compat/nest11 when missing (for the Nest 11 type check)
 *
 * Every leg runs even when an earlier one failed; the exit code is non-zero when any did. The type
 * check (`npm run typecheck`) runs before, from package.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinary } from './node-binaries.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const JEST = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

const LEGS = {
  nest12: {
    title: 'NestJS 12 on Node 24 (ESM)',
    node: 24,
    env: { OAUTH2_TEST_NEST: '12', NODE_OPTIONS: '--experimental-vm-modules' },
  },
  nest11: { title: 'NestJS 11 on Node 20 (CommonJS)', node: 20, env: { OAUTH2_TEST_NEST: '11' } },
  consumers: {
    title: 'the packed library in fresh applications',
    node: 20,
    config: 'test/consumers/jest.config.js',
    env: {},
  },
};

const separator = process.argv.indexOf('--');
const ownArguments = separator === -1 ? process.argv.slice(2) : process.argv.slice(2, separator);
const jestArguments = separator === -1 ? [] : process.argv.slice(separator + 1);
const chosen = [];
const installOnly = ownArguments[0] === '--install-only';
for (let index = installOnly ? 1 : 0; index < ownArguments.length; index += 1) {
  if (ownArguments[index] === '--leg' && LEGS[ownArguments[index + 1]] !== undefined) {
    chosen.push(ownArguments[index + 1]);
    index += 1;
  } else {
    console.error(`usage: node scripts/test.mjs [--leg ${Object.keys(LEGS).join('|')}]... [-- <jest arguments>]`);
    process.exit(2);
  }
}
const legs = chosen.length > 0 ? chosen : Object.keys(LEGS);

if (
  (installOnly || legs.includes('nest11')) &&
  !existsSync(join(ROOT, 'compat', 'nest11', 'node_modules', '@nestjs', 'core'))
) {
  console.log('Installing the NestJS 11 leg (npm ci in compat/nest11)');
  run('npm', ['ci', '--prefix', join(ROOT, 'compat', 'nest11'), '--no-audit', '--no-fund']);
}
if (installOnly) {
  process.exit(0);
}

const results = [];
const reports = mkdtempSync(join(tmpdir(), 'oauth2-test-'));
for (const name of legs) {
  const leg = LEGS[name];
  const node = nodeBinary(leg.node);
  const report = join(reports, `${name}.json`);
  console.log(`\n=== ${name}: ${leg.title} (${node})\n`);
  const status = run(
    node,
    [JEST, ...(leg.config ? ['-c', leg.config] : []), '--json', `--outputFile=${report}`, ...jestArguments],
    {
      ...process.env,
      ...leg.env,
    },
  );
  results.push({ name, status, ...counts(report) });
}
rmSync(reports, { recursive: true, force: true });

console.log('\n=== test matrix');
for (const { name, status, passed, failed, skipped } of results) {
  console.log(
    `${name.padEnd(10)} ${status === 0 ? 'ok    ' : 'FAILED'} ${passed} passed, ${failed} failed, ${skipped} skipped`,
  );
}
const total = (key) => results.reduce((sum, result) => sum + result[key], 0);
console.log(`${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped`);
process.exit(results.every((result) => result.status === 0) ? 0 : 1);

function run(command, args, env = process.env) {
  const { status, signal } = spawnSync(command, args, { cwd: ROOT, env, stdio: 'inherit' });
  return signal ? 1 : status;
}

/** The counts of a jest --json report; a leg that crashed before writing one counts as one failure. */
function counts(report) {
  if (!existsSync(report)) {
    return { passed: 0, failed: 1, skipped: 0 };
  }
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, numRuntimeErrorTestSuites } = JSON.parse(
    readFileSync(report, 'utf8'),
  );
  return {
    passed: numPassedTests,
    failed: numFailedTests + numRuntimeErrorTestSuites,
    skipped: numPendingTests + numTodoTests,
  };
}

/**
 * The Node.js releases the project tests on, for the benchmarks' `--node=<major>`: the pinned releases and their
 * installation live in scripts/node-binaries.mjs (an ES module, shared with scripts/test.mjs), asked here in a
 * child process because the benchmarks compile to CommonJS.
 */
import { execFileSync } from 'node:child_process';

/**
 * The path of the binary of the release pinned for `major` (20, 22 or 24), installed from npm into `.cache/node/`
 * on first use.
 *
 * @param root the repository's root, where `scripts/` and `.cache/` are.
 * @throws when no release is pinned for `major` (the child prints which are), or the installation fails.
 */
export function pinnedNodeBinary(root: string, major: string): string {
  return execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { nodeBinary } from './scripts/node-binaries.mjs'; console.log(nodeBinary(${JSON.stringify(major)}));`,
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  ).trim();
}

/**
 * The Node.js binaries of the test matrix. Node 22 and 24 come from the npm registry's `node`
 * package (it installs the official binary for this platform), pinned here so that every run tests
 * the same releases; they are installed once into .cache/node/<version>/ and reused.
 *
 *   node scripts/node-binaries.mjs 20 22 24   installs what is missing, prints "<major> <path>" lines
 *
 * Node 20 is the machine's own `node` when it is a 20.x (CI's is), else the pinned release.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The release tested for each major: the newest of each line when the matrix was last updated. */
export const NODE_RELEASES = Object.freeze({ 20: '20.20.2', 22: '22.23.3', 24: '24.21.0' });

/**
 * The path of a `node` binary of the given major (20, 22 or 24), installed from the npm registry
 * when this machine does not have it yet.
 */
export function nodeBinary(major) {
  const release = NODE_RELEASES[major];
  if (release === undefined) {
    throw new Error(
      `no Node.js release is pinned for major ${major} (pinned: ${Object.keys(NODE_RELEASES).join(', ')})`,
    );
  }
  if (process.versions.node.split('.')[0] === String(major)) {
    return process.execPath;
  }
  const prefix = join(ROOT, '.cache', 'node', release);
  const binary = join(prefix, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    // The package's preinstall script copies the binary of node-<platform>-<arch>@<release> into place.
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `node@${release}`,
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    if (!existsSync(binary)) {
      throw new Error(`npm install node@${release} did not leave a binary at ${binary}`);
    }
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (version !== `v${release}`) {
    throw new Error(`${binary} is ${version}, expected v${release}: remove ${prefix} and run again`);
  }
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const major of process.argv.slice(2)) {
    console.log(`${major} ${nodeBinary(Number(major))}`);
  }
}

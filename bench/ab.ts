/**
 * `npm run bench:ab -- <git ref> [--rounds=3] [--adapter=express] [--node=24] [--guard-time]`: the hit path of the
 * working tree against the one of another commit, on this machine, the way the project compares two builds.
 *
 * Both are built into directories of their own under the system's temporary directory (the commit from `git
 * archive`, compiled with this checkout's `node_modules`), so that editing the tree meanwhile changes nothing. Then
 * whole `--server-time --http-only` runs of one adapter alternate between the two, three runs of a build at a time,
 * `--rounds` times, the order of the two blocks alternating too: the machine's swings, which move one run by about
 * ±0.01, hit both builds alike. Prints each run's ratios as they come and, per build, every ratio, their median and,
 * with `--guard-time`, the median time in the guard above a skipped call.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './interleaved';
import { pinnedNodeBinary } from './pinned-node';

const ROOT = join(__dirname, '..', '..');
const RUNS_PER_BLOCK = 3;

interface Options {
  ref: string;
  rounds: number;
  adapter: 'express' | 'fastify';
  node?: string;
  guardTime: boolean;
}

/** One `--server-time` run's HTTP figures, as its output prints them. */
interface RunFigures {
  ratio: number;
  /** With `--guard-time`: the guard's time on the guarded request less its time on the skipped one, in µs. */
  guardMicros?: number;
}

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: npm run bench:ab -- <git ref> [--rounds=<n>] [--adapter=express|fastify] [--node=20|22|24] [--guard-time]`,
  );
  process.exit(2);
}

function parseOptions(args: string[]): Options {
  const positional = args.filter((arg) => !arg.startsWith('--'));
  if (positional.length !== 1) {
    usage('give one git ref to compare the working tree with (a commit, a branch, HEAD~1)');
  }
  const value = (name: string): string | undefined =>
    args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const rounds = Number(value('rounds') ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) {
    usage('--rounds must be a whole number from 1 to 10');
  }
  const adapter = value('adapter') ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') {
    usage("--adapter must be 'express' or 'fastify'");
  }
  const known = ['--rounds=', '--adapter=', '--node=', '--guard-time'];
  const unknown = args.find((arg) => arg.startsWith('--') && !known.some((flag) => arg.startsWith(flag)));
  if (unknown !== undefined) {
    usage(`unknown option ${unknown}`);
  }
  return { ref: positional[0], rounds, adapter, node: value('node'), guardTime: args.includes('--guard-time') };
}

/** The Node.js binary to run the bench on: this one, or the release scripts/node-binaries.mjs pins for `--node`. */
function nodeBinary(major: string | undefined): string {
  if (major === undefined) {
    return process.execPath;
  }
  return pinnedNodeBinary(ROOT, major);
}

/** A directory with `package.json`, a link to this checkout's `node_modules`, and the bench built from `source`. */
function buildCopy(directory: string, source: 'working tree' | { ref: string }): void {
  mkdirSync(directory, { recursive: true });
  if (source === 'working tree') {
    execFileSync('cp', ['-r', 'dist-bench', 'package.json', directory], { cwd: ROOT });
  } else {
    // Only what the bench compiles from: lib/, bench/ and the TypeScript configurations.
    const archive = execFileSync(
      'git',
      ['archive', '--format=tar', source.ref, 'lib', 'bench', 'package.json', 'tsconfig.json', 'tsconfig.bench.json'],
      { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 },
    );
    execFileSync('tar', ['-x', '-C', directory], { input: archive });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(directory, 'node_modules'), 'dir');
  if (source !== 'working tree') {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.bench.json'],
      {
        cwd: directory,
        stdio: 'inherit',
      },
    );
  }
}

/** One `--server-time` run of the build in `directory`: the HTTP figures of each of its runs. */
function serverTimeRun(node: string, directory: string, options: Options): RunFigures[] {
  const args = [
    join('dist-bench', 'bench', 'run.js'),
    '--server-time',
    '--http-only',
    `--adapter=${options.adapter}`,
    ...(options.guardTime ? ['--guard-time'] : []),
  ];
  const result = spawnSync(node, args, { cwd: directory, encoding: 'utf8', timeout: 15 * 60_000 });
  const figures = [
    ...(result.stdout ?? '').matchAll(
      /server time http run \d+: .*?ratio ([\d.]+)(?:; in the guard: skipped ([\d.]+) µs, guarded ([\d.]+) µs)?/g,
    ),
  ].map((match): RunFigures => ({
    ratio: Number(match[1]),
    guardMicros: match[2] === undefined ? undefined : Number(match[3]) - Number(match[2]),
  }));
  if (result.status !== 0 || figures.length === 0) {
    throw new Error(
      `the bench in ${directory} failed (exit ${result.status}): ${(result.stderr ?? '').slice(-2000) || (result.stdout ?? '').slice(-2000)}`,
    );
  }
  return figures;
}

/** Whether `ref` names a commit of this repository. */
function isCommit(ref: string): boolean {
  return spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: ROOT }).status === 0;
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  if (!isCommit(options.ref)) {
    usage(`'${options.ref}' names no commit of this repository`);
  }
  const node = nodeBinary(options.node);
  const base = mkdtempSync(join(tmpdir(), 'oauth2-bench-ab-'));
  const builds = { [options.ref]: join(base, 'ref'), 'working tree': join(base, 'tree') };
  try {
    buildCopy(builds['working tree'], 'working tree');
    buildCopy(builds[options.ref], { ref: options.ref });
    const figures: Record<string, RunFigures[]> = { [options.ref]: [], 'working tree': [] };
    for (let round = 1; round <= options.rounds; round++) {
      // The order of the two blocks alternates from round to round, so that neither build always goes first.
      const order = Object.entries(builds);
      for (const [name, directory] of round % 2 ? order : order.reverse()) {
        for (let run = 0; run < RUNS_PER_BLOCK; run++) {
          const runs = serverTimeRun(node, directory, options);
          figures[name].push(...runs);
          const guard = runs.map((one) =>
            one.guardMicros === undefined ? '' : ` (guard +${one.guardMicros.toFixed(2)} µs)`,
          );
          console.log(
            `round ${round}, ${name}: ${runs.map((one, index) => `${one.ratio.toFixed(3)}${guard[index]}`).join(', ')}`,
          );
        }
      }
    }
    console.log(
      `\n${options.adapter}, Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, skipped ÷ guarded, HTTP:`,
    );
    for (const [name, runs] of Object.entries(figures)) {
      const ratios = runs.map((one) => one.ratio);
      const guard = runs.flatMap((one) => (one.guardMicros === undefined ? [] : [one.guardMicros]));
      console.log(
        `  ${name}: median ${median(ratios).toFixed(3)} of ${ratios.length} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})${guard.length ? `, guard +${median(guard).toFixed(2)} µs above a skipped call` : ''}`,
      );
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main();

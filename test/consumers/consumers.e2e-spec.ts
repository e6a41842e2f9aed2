/**
 * The published package, as users get it: `npm pack` (which builds dist/), then three fresh applications install the
 * tarball with plain `npm install` (no peer flags), compile against it with this repository's TypeScript, and serve
 * a guarded route on Express and Fastify, on Node 20, 22 and 24:
 *
 * - nest12-esm: NestJS 12, an ES module application ("type": "module", module nodenext)
 * - nest12-cjs: NestJS 12, a CommonJS application (module commonjs), which loads the ESM-only Nest 12 by require(esm)
 * - nest11-cjs: NestJS 11, a CommonJS application (module nodenext in a CommonJS package: TypeScript resolves the
 *   package as Node.js's require() does)
 *
 * Each application also checks that require() and import of the package reach the same module (one build, so no
 * dual-package hazard). The applications live in a temporary directory, removed at the end unless
 * KEEP_CONSUMER_APPS=1 is set (its path is printed, to debug an application by hand).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import {
  APPS,
  dependencySpecs,
  eachLimited,
  readJson,
  ROOT,
  run,
  RunningApp,
  writeApp,
  type ConsumerApp,
  type Finished,
} from './consumer-apps';

const NODE_MAJORS = [20, 22, 24] as const;
const ADAPTERS = ['express', 'fastify'] as const;
/** Applications run at the same time: this is a 2-core machine's worth. */
const PARALLEL_RUNS = 3;
const KEEP = process.env.KEEP_CONSUMER_APPS === '1';

interface Case {
  app: ConsumerApp;
  adapter: (typeof ADAPTERS)[number];
  node: (typeof NODE_MAJORS)[number];
}
const CASES: Case[] = APPS.flatMap((app) =>
  ADAPTERS.flatMap((adapter) => NODE_MAJORS.map((node) => ({ app, adapter, node }))),
);
const label = ({ app, adapter, node }: Case) => `${app.name} on ${adapter}, Node ${node}`;

interface Reply {
  status: number;
  body: unknown;
}
interface Outcome {
  announced: Record<string, unknown>;
  replies: Record<'none' | 'good' | 'weak' | 'unknown', Reply>;
  stderr: string;
  otherStdoutLines: string[];
  milliseconds: number;
}

const began = Date.now();
const workspace = mkdtempSync(join(workspaceParent(), 'oauth2-consumers-'));
const server = new ScriptedIntrospectionServer();
const timings: string[] = [];
let tarball: string | undefined;
let tarballFiles: string[];
const nodes = new Map<number, string>();
const installs = new Map<string, { install: Finished; compile: Finished } | Error>();
const outcomes = new Map<Case, Outcome | Error>();

beforeAll(async () => {
  const started = Date.now();
  const [, binaries] = await Promise.all([
    // prepack builds dist/ first.
    run('npm', ['pack', '--pack-destination', workspace], { cwd: ROOT, timeoutMs: 3 * 60_000 }),
    run(process.execPath, ['scripts/node-binaries.mjs', ...NODE_MAJORS.map(String)], {
      cwd: ROOT,
      timeoutMs: 3 * 60_000,
    }),
  ]);
  const packed = readdirSync(workspace).filter((file) => file.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = join(workspace, packed[0]);
  tarballFiles = (await run('tar', ['-tzf', tarball], { cwd: workspace, timeoutMs: 30_000 })).stdout
    .split('\n')
    .filter((line) => line !== '');
  for (const line of binaries.stdout.trim().split('\n')) {
    const [major, path] = line.split(' ');
    nodes.set(Number(major), path);
  }
  timings.push(`pack (build included) and Node binaries: ${seconds(Date.now() - started)}`);
}, 4 * 60_000);

beforeAll(async () => {
  const packed = tarball;
  if (packed === undefined) {
    return; // the package was not packed: its failure is every test's
  }
  const started = Date.now();
  await Promise.all(
    APPS.map(async (app) => {
      const directory = join(workspace, app.name);
      try {
        writeApp(app, directory);
        const install = await run('npm', ['install', packed, ...dependencySpecs(app), '--no-audit', '--no-fund'], {
          cwd: directory,
          timeoutMs: 5 * 60_000,
        });
        const compile = await run(
          process.execPath,
          [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
          { cwd: directory, timeoutMs: 2 * 60_000 },
        );
        // Exits non-zero on a missing or invalid (non-optional) peer anywhere in the tree.
        await run('npm', ['ls', '--all'], { cwd: directory, timeoutMs: 60_000 });
        installs.set(app.name, { install, compile });
        timings.push(
          `${app.name}: npm install ${seconds(install.milliseconds)} (${npmWarnings(install.stderr)}), ` +
            `tsc ${seconds(compile.milliseconds)}`,
        );
      } catch (error) {
        installs.set(app.name, error as Error);
      }
    }),
  );
  timings.push(`installs and compiles, concurrently: ${seconds(Date.now() - started)}`);
}, 8 * 60_000); // each install within 5 minutes, each compile within 2

beforeAll(async () => {
  if (installs.size === 0) {
    return;
  }
  const started = Date.now();
  const url = await server.start();
  server.tokens.set('good', { active: true, scope: 'orders:read', client_id: 'c' });
  server.tokens.set('weak', { active: true, scope: 'other', client_id: 'c' });
  const runnable = CASES.filter((one) => !(installs.get(one.app.name) instanceof Error));
  await eachLimited(runnable, PARALLEL_RUNS, async (one) => {
    outcomes.set(one, await runCase(one, `${url}/introspect`).catch((error: Error) => error));
  });
  timings.push(`${runnable.length} application runs, ${PARALLEL_RUNS} at a time: ${seconds(Date.now() - started)}`);
}, 6 * 60_000); // 18 runs, 3 at a time, each within 55 s (start-up 30 s, 4 requests of 5 s, stop 5 s)

afterAll(async () => {
  await RunningApp.stopAll(); // any left running by a hook that timed out
  await server.stop();
  console.log(
    [
      ...timings,
      ...[...outcomes].map(([one, outcome]) =>
        outcome instanceof Error
          ? `${label(one)}: ${outcome.message.split('\n')[0]}`
          : `${label(one)}: ${String(outcome.announced.node)}, ${seconds(outcome.milliseconds)}`,
      ),
      KEEP ? `applications kept in ${workspace}` : '',
    ].join('\n'),
  );
  if (!KEEP) {
    const removing = Date.now();
    rmSync(workspace, { recursive: true, force: true });
    console.log(`clean-up ${seconds(Date.now() - removing)}; the whole file ${seconds(Date.now() - began)}`);
  }
});

it('packs dist/ and package.json, and no sources, tests or node_modules', () => {
  expect(tarballFiles).toEqual(
    expect.arrayContaining([
      'package/package.json',
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/dist/testing/index.js',
      'package/dist/testing/index.d.ts',
    ]),
  );
  const unwanted = tarballFiles.filter(
    (file) =>
      /^package\/(lib|test|node_modules|compat|scripts|sample|bench)\//.test(file) ||
      /\/node_modules\//.test(file) ||
      (/\.ts$/.test(file) && !/\.d\.ts$/.test(file)) ||
      /\.spec\./.test(file) ||
      // Source maps would point at lib/, which is not published.
      /\.map$/.test(file),
  );
  expect(unwanted).toEqual([]);
});

describe.each(APPS)('$name', (app) => {
  it('installs the tarball and its peers with plain npm install, at the versions of the test legs', () => {
    const installed = installs.get(app.name);
    if (installed instanceof Error) {
      throw installed;
    }
    // npm resolves peers on its own without --legacy-peer-deps; it warns when it has to override one.
    expect(installed!.install.stderr).not.toMatch(/ERESOLVE|peer dep/i);
    const directory = join(workspace, app.name);
    for (const spec of dependencySpecs(app)) {
      const name = spec.slice(0, spec.lastIndexOf('@'));
      const { version } = readJson(join(directory, 'node_modules', name, 'package.json')) as { version: string };
      expect(`${name}@${version}`).toBe(spec);
    }
    const ours = readJson(join(directory, 'node_modules', 'nestjs-oauth2-policy', 'package.json')) as {
      name: string;
    };
    expect(ours.name).toBe('nestjs-oauth2-policy');
  });

  it(`compiles against the published types (module ${app.tsModule}) to ${app.type === 'module' ? 'ES modules' : 'CommonJS'}`, () => {
    const installed = installs.get(app.name);
    if (installed instanceof Error) {
      throw installed;
    }
    const main = readFileSync(join(workspace, app.name, 'dist', 'main.js'), 'utf8');
    expect(main).toMatch(
      app.type === 'module'
        ? /^import \{ OAuth2Module \} from 'nestjs-oauth2-policy';$/m
        : /require\("nestjs-oauth2-policy"\)/,
    );
  });
});

describe.each(CASES.map((one) => [label(one), one] as const))('%s', (_label, one) => {
  it('guards the route, with one module instance for require() and import', () => {
    const outcome = outcomes.get(one);
    if (outcome === undefined) {
      throw new Error(`${one.app.name} was not installed: see its install test`);
    }
    if (outcome instanceof Error) {
      throw outcome;
    }
    expect(outcome.announced).toEqual({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      node: expect.stringMatching(new RegExp(`^v${one.node}\\.`)),
      testing: 'function',
      format: one.app.type === 'module' ? 'esm' : 'cjs',
      sameModule: true,
    });
    expect(outcome.replies.none).toEqual({
      status: 401,
      body: expect.objectContaining({ key: 'OAUTH2_MISSING_HEADER' }),
    });
    expect(outcome.replies.good).toEqual({ status: 200, body: { orders: [] } });
    expect(outcome.replies.weak).toEqual({
      status: 403,
      body: expect.objectContaining({ key: 'OAUTH2_INSUFFICIENT_SCOPE' }),
    });
    expect(outcome.replies.unknown).toEqual({
      status: 401,
      body: expect.objectContaining({ key: 'OAUTH2_INVALID_ACCESS_TOKEN' }),
    });
    // Nothing on stderr: Node 20.19+ and 22.13+ print their require(esm) ExperimentalWarning only under
    // --trace-require-module, so even the CommonJS applications that require() Nest 12 print none.
    expect(outcome.stderr).toBe('');
    expect(outcome.otherStdoutLines).toEqual([]);
  });
});

async function runCase(one: Case, introspectionUrl: string): Promise<Outcome> {
  const started = Date.now();
  const { app, announced } = await RunningApp.start(
    nodes.get(one.node)!,
    join(workspace, one.app.name),
    { INTROSPECTION_URL: introspectionUrl, HTTP_ADAPTER: one.adapter },
    30_000,
  );
  let replies: Outcome['replies'];
  try {
    const orders = `${String(announced.url)}/orders`;
    replies = {
      none: await get(orders),
      good: await get(orders, 'good'),
      weak: await get(orders, 'weak'),
      unknown: await get(orders, 'unknown'),
    };
  } finally {
    await app.stop();
  }
  return {
    announced,
    replies,
    stderr: app.output.stderr,
    otherStdoutLines: app.otherStdoutLines,
    milliseconds: Date.now() - started,
  };
}

async function get(url: string, token?: string): Promise<Reply> {
  const response = await fetch(url, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the assertion shows the text.
  }
  return { status: response.status, body };
}

/** npm's warnings in short: their codes, and the packages of EBADENGINE (Nest 12 has some that ask for Node 22). */
function npmWarnings(stderr: string): string {
  const codes = new Set([...stderr.matchAll(/^npm warn (\w+)/gm)].map((match) => match[1]));
  const engines = [...stderr.matchAll(/^npm warn EBADENGINE +package: '([^']+)'/gm)].map((match) => match[1]);
  return codes.size === 0
    ? 'no warnings'
    : [...codes].map((code) => (code === 'EBADENGINE' ? `EBADENGINE ${engines.join(', ')}` : code)).join('; ');
}

/**
 * Where the applications go: a RAM disk when the machine has one with room, else the temporary directory. npm writes,
 * and the clean-up deletes, some 200 MB of small files, and deleting them alone took over a minute on a disk mounted
 * with `discard` under load.
 */
function workspaceParent(): string {
  try {
    const { bavail, bsize } = statfsSync('/dev/shm');
    if (bavail * bsize >= 1024 ** 3) {
      return '/dev/shm';
    }
  } catch {
    // No /dev/shm here.
  }
  return tmpdir();
}

function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

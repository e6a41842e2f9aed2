import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root. */
export const ROOT = join(__dirname, '..', '..');
const TEMPLATES = join(__dirname, 'apps');

/** A fresh application that installs the packed library, as a user's would. */
export interface ConsumerApp {
  name: string;
  /** The "type" of its package.json: "module" makes its compiled .js files ES modules. */
  type: 'module' | 'commonjs';
  /**
   * TypeScript's `module`, which also sets the module resolution: `nodenext` follows package.json "type" and resolves
   * as Node.js does; `commonjs` is the classic setting, which TypeScript 6 resolves like a bundler, with the `require`
   * condition. Between them the apps cover the three ways a TypeScript user reads our `exports` map.
   */
  tsModule: 'nodenext' | 'commonjs';
  /** Its entry point, from apps/. */
  main: 'main.esm.ts.tpl' | 'main.cjs.ts.tpl';
  /** The package.json, from the root, whose devDependencies give the versions of {@link APP_PACKAGES}. */
  versionsFrom: string;
}

export const APPS: readonly ConsumerApp[] = [
  { name: 'nest12-esm', type: 'module', tsModule: 'nodenext', main: 'main.esm.ts.tpl', versionsFrom: 'package.json' },
  { name: 'nest12-cjs', type: 'commonjs', tsModule: 'commonjs', main: 'main.cjs.ts.tpl', versionsFrom: 'package.json' },
  {
    name: 'nest11-cjs',
    type: 'commonjs',
    tsModule: 'nodenext',
    main: 'main.cjs.ts.tpl',
    versionsFrom: 'compat/nest11/package.json',
  },
];

/** What every application installs beside the library, at the versions the test legs use. */
export const APP_PACKAGES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  'reflect-metadata',
  'rxjs',
] as const;

/** `name@version` of each of {@link APP_PACKAGES}, read from the app's `versionsFrom`. */
export function dependencySpecs(app: ConsumerApp): string[] {
  const { devDependencies } = readJson(join(ROOT, app.versionsFrom)) as { devDependencies: Record<string, string> };
  return APP_PACKAGES.map((name) => {
    const version = devDependencies[name];
    if (version === undefined) {
      throw new Error(`${app.versionsFrom} has no devDependency ${name}`);
    }
    return `${name}@${version}`;
  });
}

/** Writes the application's package.json, tsconfig.json and sources into `directory`. */
export function writeApp(app: ConsumerApp, directory: string): void {
  mkdirSync(join(directory, 'src'), { recursive: true });
  writeJson(join(directory, 'package.json'), { name: `consumer-${app.name}`, private: true, type: app.type });
  writeJson(join(directory, 'tsconfig.json'), {
    compilerOptions: {
      module: app.tsModule,
      ...(app.tsModule === 'nodenext' && { moduleResolution: 'nodenext' }),
      target: 'ES2022',
      lib: ['ES2022'],
      // src/node-globals.d.ts declares the little of Node.js the app uses: no @types/node to install.
      types: [],
      strict: true,
      skipLibCheck: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  });
  copyFileSync(join(TEMPLATES, 'orders.app.ts.tpl'), join(directory, 'src', 'orders.app.ts'));
  copyFileSync(join(TEMPLATES, app.main), join(directory, 'src', 'main.ts'));
  copyFileSync(join(TEMPLATES, 'node-globals.d.ts.tpl'), join(directory, 'src', 'node-globals.d.ts'));
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** What a finished command wrote, and how long it took. */
export interface Finished {
  stdout: string;
  stderr: string;
  milliseconds: number;
}

/**
 * Runs a command to its end, within `timeoutMs`; rejects, with its output, when it fails or runs out of time (then
 * its process group, which it leads, is killed: npm starts processes of its own).
 */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number },
): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: commandEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const output = collect(child);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group has just ended.
      }
      reject(new Error(`${command} ${args.join(' ')} took over ${options.timeoutMs} ms\n${output.stderr}`));
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const finished = { stdout: output.stdout, stderr: output.stderr, milliseconds: Date.now() - started };
      if (code === 0) {
        resolve(finished);
      } else {
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${options.cwd}) ended with ${signal ?? `exit code ${code}`}\n` +
              `${output.stdout}\n${output.stderr}`,
          ),
        );
      }
    });
  });
}

/** The environment of npm and tsc: this one, without the Node options jest may have been started with. */
function commandEnvironment(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _nodeOptions, ...environment } = process.env;
  return environment;
}

/** The output of a child process so far. */
export interface Output {
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Output {
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  return output;
}

/** A consumer application running in a process of its own. */
export class RunningApp {
  /** Every application not stopped yet, so that none outlives the tests. */
  private static readonly running = new Set<RunningApp>();
  readonly output: Output;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.output = collect(child);
    this.exited = new Promise((resolve) => child.on('close', () => resolve()));
    RunningApp.running.add(this);
  }

  /** Stops every application still running. */
  static async stopAll(): Promise<void> {
    await Promise.all([...RunningApp.running].map((app) => app.stop()));
  }

  /**
   * Starts `dist/main.js` of the application in `directory` with the `node` binary given, and waits (at most
   * `timeoutMs`) for the JSON line it prints once it listens.
   */
  static async start(
    node: string,
    directory: string,
    env: Record<string, string>,
    timeoutMs: number,
  ): Promise<{ app: RunningApp; announced: Record<string, unknown> }> {
    // A clean environment: nothing from jest's (NODE_OPTIONS, NODE_ENV) reaches the application.
    const child = spawn(node, ['dist/main.js'], {
      cwd: directory,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new RunningApp(child);
    try {
      const announced = await app.announcement(timeoutMs);
      return { app, announced };
    } catch (error) {
      await app.stop();
      throw error;
    }
  }

  /** The lines of stdout other than the announcement. */
  get otherStdoutLines(): string[] {
    return lines(this.output.stdout).slice(1);
  }

  /** Kills the process (SIGTERM, SIGKILL after 5 s) and waits for its end. */
  async stop(): Promise<void> {
    RunningApp.running.delete(this);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private announcement(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const failed = (reason: string) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`${reason}\nstdout:\n${this.output.stdout}\nstderr:\n${this.output.stderr}`));
      };
      const poll = setInterval(() => {
        const first = lines(this.output.stdout)[0];
        if (first !== undefined && this.output.stdout.includes('\n')) {
          clearInterval(poll);
          clearTimeout(timer);
          try {
            resolve(JSON.parse(first) as Record<string, unknown>);
          } catch {
            failed('the first line on stdout is not JSON');
          }
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          failed(`the application ended (${this.child.signalCode ?? `exit code ${this.child.exitCode}`})`);
        }
      }, 25);
      const timer = setTimeout(() => failed(`the application did not start within ${timeoutMs} ms`), timeoutMs);
    });
  }
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** Runs `work` on every item, at most `limit` at a time, and returns the results in the items' order. */
export async function eachLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

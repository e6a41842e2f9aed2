import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The repository: jest runs from it (its rootDir). */
const ROOT = process.cwd();
const run = promisify(execFile);

/** Waits, bounded, until a process has printed a line matching `pattern`. */
function waitForOutput(child: ChildProcess, output: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output()}`)),
      timeoutMs,
    );
    const check = () => {
      if (pattern.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`the demo exited early; output:\n${output()}`));
    });
    check();
  });
}

/**
 * `npm start` as a newcomer runs it: the sample with its embedded demo authorization server, whose
 * printed commands are pasted into a shell and must answer as their comments say.
 */
describe('the demo (npm start)', () => {
  let demo: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    // What `npm start` does before it runs start.mjs.
    await run(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.sample.json'],
      {
        cwd: ROOT,
        timeout: 90_000,
      },
    );
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DEMO_AS_PORT: '0' };
    delete env.OAUTH2_INTROSPECTION_URL;
    demo = spawn(process.execPath, ['sample/start.mjs'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForOutput(demo, () => output, /Ctrl-C stops the API and the demo server/, 30_000);
  }, 120_000);

  afterAll(() => {
    if (demo && demo.exitCode === null) {
      demo.kill('SIGKILL');
    }
  });

  it('prints commands that, pasted in order, answer as their comments say', async () => {
    const lines = output.split('\n').filter((line) => /^\s+(READ_TOKEN=|WRITE_TOKEN=|OTHER_TOKEN=|curl )/.test(line));
    const curls = lines.filter((line) => line.trim().startsWith('curl'));
    expect(curls).toHaveLength(11);
    const expected = curls.map((line) => Number(/#\s*(\d{3})/.exec(line)?.[1]));
    // One shell, as a user pasting: the token variables carry over; print each status on its own line.
    const script = lines
      .map((line) =>
        line.trim().startsWith('curl')
          ? `${line.replace(/\s+#.*$/, '').replace('curl -i', 'curl -s -o /dev/null -w "%{http_code}\\n"')}`
          : line,
      )
      .join('\n');
    const { stdout } = await run('bash', ['-c', `set -e\n${script}`], { timeout: 30_000 });
    expect(stdout.trim().split('\n').map(Number)).toEqual(expected);
    // The orders API, a token for another resource (RFC 8707), then the MCP endpoint: metadata, challenge, tools.
    expect(expected).toEqual([200, 200, 200, 201, 403, 401, 401, 401, 200, 401, 200]);
  });

  it('stops cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => demo!.on('exit', (code) => resolve(code)));
    demo!.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref()),
    ]);
    expect(code).toBe(0);
    expect(output).toContain('stopped');
  });
});

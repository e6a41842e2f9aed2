/**
 * `npm run typecheck:docs`: the documentation's own check, run by `npm run typecheck` (and so by `npm test`).
 *
 *   1. Every ```ts / ```typescript block of README.md, CONTRIBUTING.md and docs/**\/*.md is written to
 *      .cache/doc-examples/ as a module of its own and compiled with the repository's compiler options
 *      (tsconfig.json: strict, decorators, isolatedModules), `nestjs-oauth2-policy` and its subpaths
 *      (`/testing`, `/terminus`, `/openapi`) mapped to lib/. An example may import `AppModule` from
 *      './app.module': the one stub the check supplies, an empty module standing for "your application".
 *   2. Every relative link between those files, and every #anchor, must resolve (GitHub's heading slugs).
 *
 * Errors name the Markdown file and line. The exit code is non-zero when any example or link fails.
 *
 *   node scripts/check-docs.mjs
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, '.cache', 'doc-examples');

/**
 * Pages that other branches of this round add; a link to one of them only warns until it is merged.
 */
const PENDING_PAGES = new Set(
  [
    'dpop.md',
    'certificate-bound-tokens.md',
    'signed-introspection.md',
    'telemetry.md',
    'stale-if-error.md',
    'audit.md',
    'redis-cluster-and-sentinel.md',
    'fleet-single-flight.md',
  ].map((name) => join(ROOT, 'docs', name)),
);

function markdownFiles() {
  const files = ['README.md', 'CONTRIBUTING.md'].map((name) => join(ROOT, name)).filter((file) => existsSync(file));
  const walk = (folder) => {
    for (const entry of readdirSync(folder).sort()) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) {
        walk(path);
      } else if (entry.endsWith('.md')) {
        files.push(path);
      }
    }
  };
  if (existsSync(join(ROOT, 'docs'))) {
    walk(join(ROOT, 'docs'));
  }
  return files;
}

function isClosingFence(line, marker) {
  const fence = /^\s*(```+|~~~+)\s*$/.exec(line);
  return fence !== null && fence[1][0] === marker[0] && fence[1].length >= marker.length;
}

/** The fenced blocks of a Markdown text: language, first line of code (1-based), code. */
function fencedBlocks(text) {
  const blocks = [];
  const lines = text.split('\n');
  let open;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index];
    const fence = /^(\s*)(```+|~~~+)\s*([\w+-]*)/.exec(line);
    if (open === undefined && fence) {
      open = { marker: fence[2], language: fence[3].toLowerCase(), start: index + 2, code: [] };
    } else if (open !== undefined && isClosingFence(line, open.marker)) {
      blocks.push({ language: open.language, start: open.start, code: open.code.join('\n') });
      open = undefined;
    } else if (open !== undefined) {
      open.code.push(line);
    }
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------------------
// 1. The TypeScript examples
// ---------------------------------------------------------------------------------------------------------

function checkExamples(files) {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(
    join(OUT, 'app.module.ts'),
    "import { Module } from '@nestjs/common';\n\n/** Stands for the application's own root module. */\n@Module({})\nexport class AppModule {}\n",
  );
  const origins = new Map();
  for (const file of files) {
    const name = relative(ROOT, file).split(sep).join('__').replace(/\.md$/, '');
    let count = 0;
    for (const block of fencedBlocks(readFileSync(file, 'utf8'))) {
      if (block.language !== 'ts' && block.language !== 'typescript') {
        continue;
      }
      count += 1;
      const example = join(OUT, `${name}-${count}.ts`);
      writeFileSync(example, `${block.code}\n`);
      origins.set(resolve(example), { file: relative(ROOT, file), start: block.start });
    }
  }

  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const lib = (path) => [join(ROOT, 'lib', path)];
  const options = {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    moduleDetection: ts.ModuleDetectionKind.Force,
    rootDir: ROOT,
    paths: {
      'nestjs-oauth2-policy': lib('index.ts'),
      'nestjs-oauth2-policy/testing': lib('testing/index.ts'),
      'nestjs-oauth2-policy/terminus': lib('terminus/index.ts'),
      'nestjs-oauth2-policy/openapi': lib('openapi/index.ts'),
    },
  };
  const program = ts.createProgram([...origins.keys()], options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const problems = [];
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const source = diagnostic.file ? resolve(diagnostic.file.fileName) : undefined;
    const origin = source ? origins.get(source) : undefined;
    if (diagnostic.file && origin && diagnostic.start !== undefined) {
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      problems.push(
        `${origin.file}:${origin.start + line}:${character + 1} error TS${diagnostic.code}: ${message}` +
          `  (${relative(ROOT, source)})`,
      );
    } else {
      const where = diagnostic.file ? `${relative(ROOT, diagnostic.file.fileName)}: ` : '';
      problems.push(`${where}error TS${diagnostic.code}: ${message}`);
    }
  }
  return { count: origins.size, problems };
}

// ---------------------------------------------------------------------------------------------------------
// 2. The links
// ---------------------------------------------------------------------------------------------------------

/** GitHub's anchor of a heading (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
function slug(heading) {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

const anchorCache = new Map();
function anchorsOf(file) {
  if (!anchorCache.has(file)) {
    const anchors = new Set();
    const seen = new Map();
    let inFence = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        continue;
      }
      const heading = inFence ? undefined : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (heading) {
        const base = slug(heading[1]);
        const count = seen.get(base) ?? 0;
        seen.set(base, count + 1);
        anchors.add(count === 0 ? base : `${base}-${count}`);
      }
    }
    anchorCache.set(file, anchors);
  }
  return anchorCache.get(file);
}

function checkLinks(files) {
  const problems = [];
  const warnings = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let inFence = false;
    lines.forEach((line, index) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return;
      }
      if (inFence) {
        return;
      }
      const unquoted = line.replace(/`[^`]*`/g, '');
      for (const match of unquoted.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = match[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
          continue; // https:, mailto:
        }
        const [path, anchor] = target.split('#');
        const where = `${relative(ROOT, file)}:${index + 1}`;
        const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(destination)) {
          if (PENDING_PAGES.has(destination)) {
            warnings.push(`${where}: ${target} is not there yet (another branch adds it)`);
          } else {
            problems.push(`${where}: link to ${target}: no such file`);
          }
          continue;
        }
        if (anchor !== undefined && destination.endsWith('.md') && !anchorsOf(destination).has(anchor)) {
          problems.push(`${where}: link to ${target}: no heading with that anchor in ${relative(ROOT, destination)}`);
        }
      }
    });
  }
  return { problems, warnings };
}

const files = markdownFiles();
const examples = checkExamples(files);
const links = checkLinks(files);
for (const warning of links.warnings) {
  console.warn(`warning: ${warning}`);
}
for (const problem of [...examples.problems, ...links.problems]) {
  console.error(problem);
}
const failed = examples.problems.length + links.problems.length;
console.log(
  `docs: ${examples.count} TypeScript examples in ${files.length} Markdown files, ` +
    `${examples.problems.length} type errors, ${links.problems.length} broken links`,
);
process.exit(failed > 0 ? 1 : 0);

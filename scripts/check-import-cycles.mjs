// Fails when the library's own modules import each other in a circle, type-only imports included (a type-only
// circle is still a design circle). Run by `npm run lint`; `node scripts/check-import-cycles.mjs [folder]`.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? 'lib');

function sourceFiles(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) {
      return sourceFiles(path);
    }
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names, the way TypeScript resolves it (`x.ts`, `x/index.ts`, `x.js` → `x.ts`). */
function resolveSpecifier(from, specifier) {
  const base = resolve(dirname(from), specifier.replace(/\.(m?js)$/, ''));
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

const files = sourceFiles(root);
const edges = new Map(
  files.map((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .filter(({ fileName }) => fileName.startsWith('.'))
      .map(({ fileName }) => resolveSpecifier(file, fileName))
      .filter((target) => target !== undefined && target.startsWith(root));
    return [file, [...new Set(targets)]];
  }),
);

// Tarjan's strongly connected components: every component of more than one file (or a file importing itself) is
// a circle.
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const circles = [];
let counter = 0;
function visit(file) {
  index.set(file, counter);
  low.set(file, counter);
  counter += 1;
  stack.push(file);
  onStack.add(file);
  for (const target of edges.get(file) ?? []) {
    if (!index.has(target)) {
      visit(target);
      low.set(file, Math.min(low.get(file), low.get(target)));
    } else if (onStack.has(target)) {
      low.set(file, Math.min(low.get(file), index.get(target)));
    }
  }
  if (low.get(file) === index.get(file)) {
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (edges.get(file) ?? []).includes(file)) {
      circles.push(component);
    }
  }
}
for (const file of files) {
  if (!index.has(file)) {
    visit(file);
  }
}

if (circles.length > 0) {
  const name = (file) => relative(process.cwd(), file);
  console.error(`Import circles in ${name(root)}/ (each line: files that import one another, type imports included):`);
  for (const component of circles) {
    const members = new Set(component);
    const lines = component.map(
      (file) =>
        `    ${name(file)} → ${(edges.get(file) ?? [])
          .filter((target) => members.has(target))
          .map(name)
          .join(', ')}`,
    );
    console.error(`  - ${component.length} files:\n${lines.join('\n')}`);
  }
  process.exit(1);
}
console.log(`No import circle in ${relative(process.cwd(), root) || '.'}/ (${files.length} files).`);

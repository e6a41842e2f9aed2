import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * `@nestjs/swagger` is an optional peer: a REST-only application, which imports the main entry, must
 * not need it. The main entry's import graph must reach neither the package nor lib/openapi, and
 * lib/openapi itself takes only types from it, so that `applyOAuth2OpenApi` loads nothing of it.
 */
const LIB = join(process.cwd(), 'lib');
const IMPORT = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'([^']+)';/gms;
const DYNAMIC_IMPORT = /import\(\s*'([^']+)'\s*\)/g;

interface ImportLine {
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

function importsOf(file: string): ImportLine[] {
  const source = readFileSync(file, 'utf8');
  const lines: ImportLine[] = [];
  for (const [, , typeKeyword, names, specifier] of source.matchAll(IMPORT)) {
    // `import { type A, type B } from` is erased as a whole, like `import type`.
    const allTypes =
      /^\{[^}]*\}$/s.test(names.trim()) &&
      names
        .replace(/[{}\s]/g, '')
        .split(',')
        .filter(Boolean)
        .every((name) => name.startsWith('type'));
    lines.push({ file, specifier, typeOnly: typeKeyword !== undefined || allTypes });
  }
  for (const [, specifier] of source.matchAll(DYNAMIC_IMPORT)) {
    lines.push({ file, specifier, typeOnly: false });
  }
  return lines;
}

function resolveRelative(from: string, specifier: string): string {
  const base = join(dirname(from), specifier);
  return existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts');
}

/** Every import line of the files that `entry` loads at run time (type-only imports are not followed). */
function runtimeGraph(entry: string): ImportLine[] {
  const seen = new Set<string>();
  const lines: ImportLine[] = [];
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) {
      continue;
    }
    seen.add(file);
    for (const line of importsOf(file)) {
      lines.push(line);
      if (line.specifier.startsWith('.') && !line.typeOnly) {
        pending.push(resolveRelative(file, line.specifier));
      }
    }
  }
  return lines;
}

const isSwagger = (line: ImportLine): boolean => line.specifier.startsWith('@nestjs/swagger');

describe('@nestjs/swagger stays optional', () => {
  it('the main entry loads neither @nestjs/swagger nor lib/openapi', () => {
    const graph = runtimeGraph(join(LIB, 'index.ts'));
    expect(graph.length).toBeGreaterThan(50);
    expect(graph.filter(isSwagger)).toEqual([]);
    const files = new Set(graph.map((line) => relative(LIB, line.file)));
    expect([...files].filter((file) => file.startsWith('openapi'))).toEqual([]);
  });

  it('lib/openapi takes only types from @nestjs/swagger', () => {
    const swaggerImports = runtimeGraph(join(LIB, 'openapi', 'index.ts')).filter(isSwagger);
    expect(swaggerImports.length).toBeGreaterThan(0);
    expect(swaggerImports.filter((line) => !line.typeOnly)).toEqual([]);
  });
});

// The few Node.js globals the application uses, declared so that it compiles without @types/node.
declare const process: { env: Record<string, string | undefined>; version: string; exitCode?: number };
declare const console: { log(...values: unknown[]): void; error(...values: unknown[]): void };
interface ImportMeta {
  url: string;
}
declare module 'node:module' {
  export function createRequire(path: string): (id: string) => unknown;
}

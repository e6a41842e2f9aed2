/**
 * Whether a value is an `async` function. Options that Nest calls synchronously (selectors, token
 * extractors) refuse one at start-up: it would give a Promise, never a value. A plain function that
 * returns a Promise cannot be told apart before it is called.
 */
export function isAsyncFunction(value: unknown): boolean {
  return typeof value === 'function' && value.constructor?.name === 'AsyncFunction';
}

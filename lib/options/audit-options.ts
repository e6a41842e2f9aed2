import type { OptionProblem } from './option-problem';

/**
 * Problems with the module's `onDecision` audit hook: a function when set. An `async` function is
 * accepted; the guard calls it without waiting for it (see `OAuth2Decision`).
 *
 * @param hook the raw `onDecision` option.
 * @param field its option path, `onDecision`.
 */
export function onDecisionProblems(hook: unknown, field: string): OptionProblem[] {
  if (hook === undefined || typeof hook === 'function') {
    return [];
  }
  return [
    {
      field,
      problem: `must be a function called with each decision, such as (decision) => auditLog.write(decision) (got ${hook === null ? 'null' : typeof hook}).`,
    },
  ];
}

import { onDecisionProblems } from './audit-options';

describe('onDecisionProblems', () => {
  it.each([
    ['absent', undefined],
    ['a function', () => undefined],
    ['an async function', async () => undefined],
  ])('accepts %s', (_, hook) => {
    expect(onDecisionProblems(hook, 'onDecision')).toEqual([]);
  });

  it.each([
    ['a string', 'audit', 'got string'],
    ['null', null, 'got null'],
    ['an object', { write: () => undefined }, 'got object'],
  ])('refuses %s', (_, hook, got) => {
    const problems = onDecisionProblems(hook, 'onDecision');
    expect(problems).toEqual([{ field: 'onDecision', problem: expect.stringContaining(got) as unknown as string }]);
    expect(problems[0].problem).toContain('must be a function');
  });
});

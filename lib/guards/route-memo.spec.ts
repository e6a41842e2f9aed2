import { RouteMemo } from './route-memo';

describe('RouteMemo', () => {
  it('computes a route’s value once, and once more for each other controller that inherits the handler', () => {
    const memo = new RouteMemo<string>();
    const handler = () => undefined;
    const [first, second] = [class First {}, class Second {}];
    const computed: string[] = [];
    const compute = (name: string) => () => {
      computed.push(name);
      return name;
    };

    expect(memo.get(handler, first, compute('first'))).toBe('first');
    expect(memo.get(handler, first, compute('again'))).toBe('first');
    expect(memo.get(handler, second, compute('second'))).toBe('second');
    expect(memo.get(handler, second, compute('again'))).toBe('second');
    expect(memo.get(handler, first, compute('again'))).toBe('first');
    expect(computed).toEqual(['first', 'second']);
  });

  it('keeps the handlers apart', () => {
    const memo = new RouteMemo<number>();
    const controller = class Controller {};
    expect(
      memo.get(
        () => undefined,
        controller,
        () => 1,
      ),
    ).toBe(1);
    expect(
      memo.get(
        () => undefined,
        controller,
        () => 2,
      ),
    ).toBe(2);
  });
});

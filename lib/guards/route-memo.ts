/**
 * What a guard works out once per route (handler of a controller class): metadata does not change
 * after start-up. Weak, so a route that goes away takes its entry with it.
 */
export class RouteMemo<T> {
  /** By handler: the value for the first controller seen, the usual and only one; others beside it. */
  private readonly byHandler = new WeakMap<object, { controller: object; value: T; others?: WeakMap<object, T> }>();

  /** The value for a route, computed by `compute` the first time only. */
  get(handler: object, controller: object, compute: () => T): T {
    const entry = this.byHandler.get(handler);
    if (entry === undefined) {
      const value = compute();
      this.byHandler.set(handler, { controller, value });
      return value;
    }
    if (entry.controller === controller) {
      return entry.value;
    }
    // A handler inherited by several controller classes.
    entry.others ??= new WeakMap();
    if (entry.others.has(controller)) {
      return entry.others.get(controller) as T;
    }
    const value = compute();
    entry.others.set(controller, value);
    return value;
  }
}

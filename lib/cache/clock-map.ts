/**
 * A `Map` bounded to `capacity` entries, for the memory store under Keyv (which asks of a store only
 * `get`, `set`, `delete` and `clear`). When full, it drops an entry that has not been read since it
 * last came up for eviction: CLOCK, or "second chance", the classic approximation of least recently
 * used.
 *
 * Why not an exact LRU: that moves an entry on every read, which costs the guard's hot path a
 * delete and an insert in a large hash table (or a linked list's pointer writes) per request. Here
 * a read sets a flag, and the moving is done by eviction, which is rare in a cache that fits its
 * tokens. An entry that is read is kept over one that is not, as with LRU; among entries that were
 * all read, the oldest goes first.
 *
 * With `idleMilliseconds`, an entry not read for that long is gone: a read finds it idle, drops it and
 * answers nothing. A read then costs a clock reading (passed in by the caller, who reads it anyway
 * for the entry's expiry) and a number written into the slot, no allocation.
 */
export class ClockMap<V> {
  /** In insertion order, which eviction walks from the oldest end. */
  private readonly entries = new Map<string, Slot<V>>();
  /** The entries that have an alias (see {@link alias}), by scope, then alias. */
  private readonly aliases = new Map<string, Map<string, Slot<V>>>();

  constructor(
    /** Most entries kept. */
    readonly capacity: number,
    /** An entry not read (nor set) for this long is dropped at its next read. Default: never. */
    readonly idleMilliseconds?: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    if (idleMilliseconds !== undefined && !(idleMilliseconds > 0)) {
      throw new RangeError(`idleMilliseconds must be positive, got ${idleMilliseconds}`);
    }
  }

  /** How many entries the map holds. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The value of a key; a read counts as a use, and restarts its idle time.
   *
   * @param now the time of the read, in milliseconds (`Date.now()`), for the idle check.
   */
  get(key: string, now: number = Date.now()): V | undefined {
    return this.use(this.entries.get(key), now);
  }

  /**
   * The value of an entry found by its alias in a scope (see {@link alias}); a read as {@link get} is.
   *
   * @param now the time of the read, in milliseconds (`Date.now()`), for the idle check.
   */
  getByAlias(scope: string, alias: string, now: number = Date.now()): V | undefined {
    return this.use(this.aliases.get(scope)?.get(alias), now);
  }

  /**
   * Gives the entry of `key`, if there is one, a second name in a scope, which {@link getByAlias}
   * finds it by. An entry has one alias at most (a new one replaces it), and the alias goes with the
   * entry: when it is dropped, evicted, replaced or left idle, and on {@link clear}.
   */
  alias(key: string, scope: string, alias: string): void {
    const slot = this.entries.get(key);
    if (slot === undefined) {
      return;
    }
    this.unalias(slot);
    let names = this.aliases.get(scope);
    if (names === undefined) {
      names = new Map();
      this.aliases.set(scope, names);
    }
    // An alias names one entry: an entry it named before loses it.
    const previous = names.get(alias);
    if (previous !== undefined) {
      previous.alias = undefined;
    }
    names.set(alias, slot);
    slot.scope = names;
    slot.alias = alias;
  }

  /**
   * Renames the alias of the entry that `alias` names in a scope: the entry keeps one alias, now
   * `renamed` (an entry that `renamed` named before loses it). Nothing when `alias` names no entry. Not
   * a read: the entry's use mark and idle time are left as they are.
   */
  renameAlias(scope: string, alias: string, renamed: string): void {
    const names = this.aliases.get(scope);
    const slot = names?.get(alias);
    if (names === undefined || slot === undefined || alias === renamed) {
      return;
    }
    names.delete(alias);
    const previous = names.get(renamed);
    if (previous !== undefined) {
      previous.alias = undefined;
    }
    names.set(renamed, slot);
    slot.alias = renamed;
  }

  /** How many entries have an alias. */
  get aliasCount(): number {
    let count = 0;
    for (const names of this.aliases.values()) {
      count += names.size;
    }
    return count;
  }

  /** Whether the map holds a key; not a use. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Sets a key as the newest entry, dropping one entry first when the map is full. */
  set(key: string, value: V): this {
    const replaced = this.entries.get(key);
    if (replaced !== undefined) {
      this.remove(key, replaced);
    } else if (this.entries.size >= this.capacity) {
      this.evictOne();
    }
    this.entries.set(key, {
      key,
      value,
      used: false,
      readAt: this.idleMilliseconds === undefined ? 0 : Date.now(),
      alias: undefined,
      scope: undefined,
    });
    return this;
  }

  /** Drops a key; whether it was there. */
  delete(key: string): boolean {
    const slot = this.entries.get(key);
    if (slot === undefined) {
      return false;
    }
    this.remove(key, slot);
    return true;
  }

  /** Drops the entry an alias names; whether there was one. */
  deleteByAlias(scope: string, alias: string): boolean {
    const slot = this.aliases.get(scope)?.get(alias);
    if (slot === undefined) {
      return false;
    }
    this.remove(slot.key, slot);
    return true;
  }

  /** Drops every key. */
  clear(): void {
    this.entries.clear();
    this.aliases.clear();
  }

  /** A read of a slot: counts as a use and restarts its idle time, or drops it when it was idle too long. */
  private use(slot: Slot<V> | undefined, now: number): V | undefined {
    if (slot === undefined) {
      return undefined;
    }
    if (this.idleMilliseconds !== undefined) {
      if (now - slot.readAt >= this.idleMilliseconds) {
        this.remove(slot.key, slot);
        return undefined;
      }
      slot.readAt = now;
    }
    slot.used = true;
    return slot.value;
  }

  private remove(key: string, slot: Slot<V>): void {
    this.entries.delete(key);
    this.unalias(slot);
  }

  private unalias(slot: Slot<V>): void {
    if (slot.alias !== undefined) {
      slot.scope!.delete(slot.alias);
      slot.alias = undefined;
    }
  }

  /**
   * Drops the oldest entry not used since it was last passed over; each used entry passed over loses
   * its mark and goes to the newest end. Ends within one pass: every entry passed over is unmarked.
   */
  private evictOne(): void {
    for (const [key, slot] of this.entries) {
      this.entries.delete(key);
      if (!slot.used) {
        this.unalias(slot);
        return;
      }
      slot.used = false;
      this.entries.set(key, slot);
    }
  }
}

/** A value, and whether it was read since it was set or last passed over by eviction. */
interface Slot<V> {
  readonly key: string;
  readonly value: V;
  used: boolean;
  /** When it was last read or set (milliseconds); kept only with an idle time. */
  readAt: number;
  /** Its alias, and the map of its scope that holds it; none by default. */
  alias: string | undefined;
  scope: Map<string, Slot<V>> | undefined;
}

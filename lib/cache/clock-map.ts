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
    const slot = this.entries.get(key);
    if (slot === undefined) {
      return undefined;
    }
    if (this.idleMilliseconds !== undefined) {
      if (now - slot.readAt >= this.idleMilliseconds) {
        this.entries.delete(key);
        return undefined;
      }
      slot.readAt = now;
    }
    slot.used = true;
    return slot.value;
  }

  /** Whether the map holds a key; not a use. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Sets a key as the newest entry, dropping one entry first when the map is full. */
  set(key: string, value: V): this {
    if (!this.entries.delete(key) && this.entries.size >= this.capacity) {
      this.evictOne();
    }
    this.entries.set(key, { value, used: false, readAt: this.idleMilliseconds === undefined ? 0 : Date.now() });
    return this;
  }

  /** Drops a key; whether it was there. */
  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Drops every key. */
  clear(): void {
    this.entries.clear();
  }

  /**
   * Drops the oldest entry not used since it was last passed over; each used entry passed over loses
   * its mark and goes to the newest end. Ends within one pass: every entry passed over is unmarked.
   */
  private evictOne(): void {
    for (const [key, slot] of this.entries) {
      this.entries.delete(key);
      if (!slot.used) {
        return;
      }
      slot.used = false;
      this.entries.set(key, slot);
    }
  }
}

/** A value, and whether it was read since it was set or last passed over by eviction. */
interface Slot<V> {
  readonly value: V;
  used: boolean;
  /** When it was last read or set (milliseconds); kept only with an idle time. */
  readAt: number;
}

import { Logger } from '@nestjs/common';
import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';
import type { IntrospectionPayload, IntrospectionResult } from '../interfaces/introspection.interface';
import { bearerTokenOf, isB64Token } from '../guards/bearer-token';
import { INACTIVE_ENTRY, activeEntry } from './cached-introspection';
import { FleetSingleFlight } from './fleet-single-flight';
import type { CachedIntrospection, TokenCacheStore } from './token-cache-store.interface';

/** How a {@link TokenCache} keeps entries. */
export interface TokenCacheSettings {
  /** Longest life of an active token's entry, in seconds. */
  readonly timeToLiveSeconds: number;
  /** Life of an inactive token's entry, in seconds; without it, inactive tokens are not kept. */
  readonly negativeTimeToLiveSeconds?: number;
  /** Turns keys into HMAC-SHA-256 digests under this secret. */
  readonly hmacSecret?: string;
  /**
   * Time limit of one store call, in milliseconds; past it the call is a miss. None for a store in
   * memory, which cannot hang (and a timer per call would be all of a hit's cost).
   */
  readonly timeoutMs?: number;
  /**
   * Keep an active token's entry this many seconds past its freshness, to serve it when the
   * authorization server is unavailable (`staleIfErrorSeconds`); never past the token's `exp`.
   */
  readonly staleIfErrorSeconds?: number;
  /**
   * Wait for another instance's introspection of the same token, and life of its lock, in
   * milliseconds: turns the fleet-wide single flight on, for a store with locks (Redis).
   */
  readonly singleFlightTimeoutMs?: number;
}

/** The attributes of one look-up result: built once per cache and result, never per look-up. */
export type TokenCacheLookupAttributes = Readonly<Record<'cache' | 'result', string>>;

/**
 * Where a cache counts its look-ups (the `oauth2.cache.lookups` counter of telemetry), with the
 * attributes of each result built in advance: a count costs one call, and no allocation.
 */
export interface TokenCacheLookupCounter {
  readonly counter: { add(value: number, attributes: TokenCacheLookupAttributes): void };
  readonly hit: TokenCacheLookupAttributes;
  readonly miss: TokenCacheLookupAttributes;
  readonly error: TokenCacheLookupAttributes;
  readonly stale: TokenCacheLookupAttributes;
}

/**
 * After a failed call, the store is left alone this long: requests go straight to introspection
 * instead of each paying for a store that is down or stuck, and the store is tried again after it.
 */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Life of the tombstone an eviction leaves in a shared store: instances whose introspection of the
 * token was under way when it was evicted see it, and neither keep nor trust their answer. It covers
 * introspections that take up to this long (a resource's `timeout` is 10 s unless set higher).
 */
export const TOMBSTONE_TTL_MS = 30_000;

/**
 * How many evicted keys a cache remembers for {@link TokenCache.evictedSince}; past it they are
 * forgotten at once, and every look-up begun before counts as overtaken by an eviction (a few more
 * introspections, never a stale answer).
 */
const REMEMBERED_EVICTIONS = 10_000;

/** A store call that did not answer in time. */
class TokenCacheTimeoutError extends Error {
  constructor(milliseconds: number) {
    super(`no answer within ${milliseconds} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * A cache resource: keeps introspection answers, keyed by a hash of resource name and token, for at
 * most `timeToLiveSeconds` and never past the token's `exp` (inactive answers only with
 * `negativeTimeToLiveSeconds`, for that long). The guard checks `active`, `exp`, `nbf` and scopes on
 * every request, hit or miss: the cache holds answers, not decisions. A failing store is a miss,
 * never a failed or delayed request, and an outage is logged once.
 */
export class TokenCache {
  private readonly logger = new Logger('OAuth2Cache');
  private readonly hmacKey?: KeyObject;
  private failing = false;
  private retryAt = 0;
  private closed = false;
  private evictions = 0;
  /** The eviction number of each key evicted lately (see {@link evictedSince}). */
  private readonly evictedAt = new Map<string, number>();
  /** Evictions up to this number are forgotten. */
  private forgottenUpTo = 0;
  /** `staleIfErrorSeconds` in milliseconds; 0 without it. */
  private readonly staleMs: number;
  /** Counts look-ups when telemetry is on (see {@link countLookups}). */
  private lookups?: TokenCacheLookupCounter;
  /** The fleet-wide single flight, for a shared store with locks when it is on. */
  readonly singleFlight?: FleetSingleFlight;

  constructor(
    /** The cache resource's name. */
    readonly name: string,
    private readonly store: TokenCacheStore,
    private readonly settings: TokenCacheSettings,
  ) {
    this.hmacKey =
      settings.hmacSecret === undefined ? undefined : createSecretKey(Buffer.from(settings.hmacSecret, 'utf8'));
    this.staleMs = (settings.staleIfErrorSeconds ?? 0) * 1000;
    if (settings.singleFlightTimeoutMs !== undefined && store.lock && store.locked && store.unlock) {
      this.singleFlight = new FleetSingleFlight(this, settings.singleFlightTimeoutMs);
    }
  }

  /** Whether the cache keeps active entries past their freshness, for when the server is unavailable. */
  get servesStale(): boolean {
    return this.staleMs > 0;
  }

  /** Counts every look-up from now on (telemetry, set once when the application starts). */
  countLookups(lookups: TokenCacheLookupCounter): void {
    this.lookups = lookups;
  }

  /** The SHA-256 key of a token at a resource: never the token itself. */
  static key(resourceName: string, token: string): string {
    // One-shot hash: no Hash object per request on the hot path.
    return hash('sha256', `${resourceName}\0${token}`, 'base64url');
  }

  /**
   * How long an active token's payload may be kept, in milliseconds: `min(exp - now,
   * timeToLiveSeconds)`; `undefined` when it must not be kept (expired, or `exp` unreadable).
   */
  static ttlMilliseconds(
    payload: IntrospectionPayload,
    timeToLiveSeconds: number,
    now = Date.now(),
  ): number | undefined {
    const cap = timeToLiveSeconds * 1000;
    if (payload.exp === undefined) {
      return cap;
    }
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
      return undefined;
    }
    const untilExpiry = Math.floor(payload.exp * 1000 - now);
    const ttl = Math.min(untilExpiry, cap);
    return ttl > 0 ? ttl : undefined;
  }

  /**
   * This cache's key of a token at a resource: SHA-256 of both, or HMAC-SHA-256 under `hmacSecret`.
   * The separator keeps them apart: resource `a` and token `bc` is not resource `ab` and token `c`.
   */
  keyOf(resourceName: string, token: string): string {
    if (this.hmacKey === undefined) {
      return TokenCache.key(resourceName, token);
    }
    return createHmac('sha256', this.hmacKey).update(resourceName).update('\0').update(token).digest('base64url');
  }

  /**
   * A mark to take before a look-up, and to give to {@link evictedSince} and {@link set}: an answer
   * obtained across an eviction of its token is neither trusted nor written, so a token revoked while
   * its introspection was under way is not allowed, nor cached again, by it.
   */
  evictionMark(): number {
    return this.evictions;
  }

  /** Whether the key has been evicted on this instance since `mark` was taken. */
  evictedSince(key: string, mark: number): boolean {
    return mark < this.forgottenUpTo || (this.evictedAt.get(key) ?? 0) > mark;
  }

  /**
   * Whether a shared store holds the tombstone of a recent eviction of the key (by any instance).
   * Always false for a store in this process's memory; false too when the store fails.
   */
  async revoked(key: string): Promise<boolean> {
    if (this.peekable || this.resting()) {
      return false;
    }
    try {
      const tombstone = await this.call(this.store.get(tombstoneKey(key)));
      this.recovered();
      return tombstone !== undefined;
    } catch (error) {
      this.failed(error);
      return false;
    }
  }

  /** Drops an entry this instance wrote and should not have (a revocation landed meanwhile). Never throws. */
  async discard(key: string): Promise<void> {
    if (this.resting()) {
      return;
    }
    try {
      await this.call(this.store.delete(key));
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  /**
   * Gets the store ready (see {@link TokenCacheStore.prepare}), if it needs to be.
   *
   * @throws the store's error when it cannot work at all (a package that is not installed, no
   *   application cache to use): unlike a store that is down, that is a configuration to fix.
   */
  async prepare(): Promise<void> {
    await this.store.prepare?.();
  }

  /** Connects the store, if it has a connection. Never throws: a store that is down is a miss. */
  async open(): Promise<void> {
    if (!this.store.open) {
      return;
    }
    try {
      await this.store.open();
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  /**
   * The entry of a key, or `undefined`: a miss, or a store that failed or did not answer in time.
   * `counted: false` for the reads of the fleet-wide single flight's wait, which are polls for
   * another instance's answer, not look-ups (telemetry's `oauth2.cache.lookups` counts a request's
   * look-up once).
   */
  async get(key: string, counted = true): Promise<CachedIntrospection | undefined> {
    if (this.resting()) {
      this.count('error', counted);
      return undefined;
    }
    let entry: CachedIntrospection | undefined;
    try {
      entry = await this.call(this.store.get(key));
      this.recovered();
    } catch (error) {
      this.failed(error);
      this.count('error', counted);
      return undefined;
    }
    return this.fresh(entry, counted);
  }

  /**
   * The entry of a key, read synchronously when the store is in this process's memory; `undefined`
   * for a miss, and for a store that can only answer asynchronously (then call {@link get}). With the
   * token it was computed from, a hit makes the store remember the token beside the entry, so that
   * the token's next look-ups ({@link peekToken}) skip the hash. Only a token of RFC 6750's
   * `b64token` syntax is remembered: a remembered token is then one the guard accepts as written, and
   * the guard can skip its syntax check on a hit by the token ({@link peekToken}), whoever looked the
   * token up first.
   */
  peek(key: string, resourceName?: string, token?: string): CachedIntrospection | undefined {
    if (this.store.peek === undefined) {
      return undefined;
    }
    if (this.resting()) {
      this.count('error');
      return undefined;
    }
    let entry: CachedIntrospection | undefined;
    try {
      entry = this.store.peek(key);
    } catch (error) {
      this.failed(error);
      this.count('error');
      return undefined;
    }
    const fresh = this.fresh(entry);
    if (fresh !== undefined && token !== undefined && resourceName !== undefined && isB64Token(token)) {
      this.store.rememberToken?.(key, resourceName, token);
    }
    return fresh;
  }

  /**
   * The hit path of a token this process looked up before: its fresh entry, found by the token
   * itself in a store that remembers it (see {@link peek}), without hashing it. `undefined`
   * otherwise, and then uncounted: the caller looks the key up with {@link peek}, which counts. A
   * token found this way has RFC 6750's `b64token` syntax: it was checked when it was remembered.
   *
   * @param now the caller's clock reading (`Date.now()`), for one reading per request.
   */
  peekToken(resourceName: string, token: string, now?: number): CachedIntrospection | undefined {
    const entry = this.entryOfToken(resourceName, token, now);
    if (entry !== undefined) {
      this.count('hit');
    }
    return entry;
  }

  /**
   * The payload of an active token's fresh entry found by the token itself, as {@link peekToken}
   * finds it, counted as a hit; `undefined` otherwise, uncounted (an inactive token's entry too: the
   * caller's look-up by {@link peekToken} or {@link peek} then answers, and counts). The guard's hit
   * path: one look-up, and no syntax check for a token found (a remembered token has the `b64token`
   * syntax).
   *
   * @param token the token, or the text it was remembered as ({@link rememberWriting}).
   * @param now the caller's clock reading (`Date.now()`), for one reading per request.
   */
  peekActiveToken(resourceName: string, token: string, now?: number): IntrospectionPayload | undefined {
    const entry = this.entryOfToken(resourceName, token, now);
    if (entry === undefined || !entry.active) {
      return undefined;
    }
    this.count('hit');
    return entry.payload;
  }

  /**
   * Remembers a token that this cache remembers at a resource (see {@link peek}) by the header it was
   * read from instead, `written` exactly as the request carried it (`Bearer <token>`, in any case and
   * spacing): the next request written the same way is then found by its header, a flat string the
   * map hashes and compares at once, where the token cut out of it would go through V8's slow string
   * paths. Only a Bearer value of exactly this token is taken, so that a hit by the header gives the
   * token back with `bearerTokenOf()`; anything else is ignored, as is a store that does not remember
   * tokens. One name per entry: a look-up by the token itself, or another writing, renames it again.
   */
  rememberWriting(resourceName: string, token: string, written: string): void {
    const store = this.store;
    if (store.rememberWriting === undefined || bearerTokenOf(written) !== token) {
      return;
    }
    try {
      store.rememberWriting(resourceName, token, written);
    } catch (error) {
      this.failed(error);
    }
  }

  /** The fresh entry of a remembered token, uncounted. */
  private entryOfToken(resourceName: string, token: string, now: number | undefined): CachedIntrospection | undefined {
    const store = this.store;
    if (store.peekToken === undefined || this.resting()) {
      return undefined;
    }
    let entry: CachedIntrospection | undefined;
    try {
      entry = store.peekToken(resourceName, token, now);
    } catch (error) {
      this.failed(error);
      return undefined;
    }
    return entry === undefined || this.pastFreshness(entry, now) ? undefined : entry;
  }

  /**
   * The active entry of a key kept past its freshness (`staleIfErrorSeconds`), for a request whose
   * introspection failed because the authorization server is unavailable; `undefined` when there is
   * none (a fresh entry, written by another look-up meanwhile, is not a stale one), when the key was
   * evicted since `mark`, or when the store fails. Never throws.
   */
  async stale(key: string, mark: number): Promise<CachedIntrospection | undefined> {
    if (this.staleMs === 0 || this.resting()) {
      return undefined;
    }
    let entry: CachedIntrospection | undefined;
    try {
      entry = this.store.peek ? this.store.peek(key) : await this.call(this.store.get(key));
      this.recovered();
    } catch (error) {
      this.failed(error);
      return undefined;
    }
    // The store drops the entry at the end of its stale time; the check holds for a store whose
    // clock or rounding lets it live a little longer.
    const now = Date.now();
    if (
      entry?.active !== true ||
      entry.freshUntil === undefined ||
      entry.freshUntil > now ||
      entry.freshUntil + this.staleMs <= now ||
      this.evictedSince(key, mark)
    ) {
      return undefined;
    }
    this.count('stale');
    return entry;
  }

  /** Whether {@link addOnce} can answer: the store is shared and has an atomic set-if-absent. */
  get sharedOnce(): boolean {
    return this.store.addOnce !== undefined;
  }

  /**
   * Marks a key as used for `ttlMilliseconds` unless it is already (DPoP proofs' `jti`): `true` the
   * first time, `false` after; `undefined` when the store cannot say (none, failing, or too slow).
   * Never throws. The key is hashed again with the cache's other keys (HMAC under `hmacSecret`).
   */
  async addOnce(key: string, ttlMilliseconds: number): Promise<boolean | undefined> {
    if (this.store.addOnce === undefined || this.resting()) {
      return undefined;
    }
    try {
      const first = await this.call(this.store.addOnce(this.keyOf('dpop-jti', key), ttlMilliseconds));
      this.recovered();
      return first;
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  /** Whether {@link peek} can answer: the store is in this process's memory. */
  get peekable(): boolean {
    return this.store.peek !== undefined;
  }

  /**
   * Keeps an introspection answer for as long as it may be kept: an active token's payload until
   * `min(exp, timeToLiveSeconds)`; an inactive token for `negativeTimeToLiveSeconds`, or not at all.
   * Never throws.
   *
   * @param mark the {@link evictionMark} taken before the look-up; the answer is dropped if the
   *   key has been evicted since.
   */
  async set(key: string, result: IntrospectionResult, mark = this.evictions): Promise<void> {
    const kept = this.entryOf(result);
    if (kept === undefined || this.evictedSince(key, mark) || this.resting()) {
      return;
    }
    try {
      await this.call(this.store.set(key, kept.entry, kept.ttl));
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  /**
   * Drops a token's entry at a resource, e.g. when it is revoked. Once it resolves, no look-up of
   * this instance that began before it allows the token, or caches it, on the answer it had. A shared
   * store also gets a tombstone first, for {@link TOMBSTONE_TTL_MS}, which tells the other instances
   * the same (see {@link revoked}).
   *
   * @throws the store's error when it fails (or does not answer in time): the entry may still be
   *   there, so the caller should retry.
   */
  async evict(resourceName: string, token: string): Promise<void> {
    if (this.closed) {
      throw new Error(`cache '${this.name}' is closed`);
    }
    const key = this.keyOf(resourceName, token);
    this.noteEviction(key);
    try {
      if (!this.peekable) {
        // Before the delete: an instance that writes its stale answer after the delete has then
        // checked for the tombstone after it was written, and takes its write back.
        await this.call(this.store.set(tombstoneKey(key), INACTIVE_ENTRY, TOMBSTONE_TTL_MS));
      }
      await this.call(this.store.delete(key));
      this.recovered();
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  /**
   * Takes the fleet-wide lock of a key (see {@link FleetSingleFlight}), kept under a digest of the
   * key: true when taken, false when another holds it, `undefined` when the store has no locks or
   * fails. Never throws.
   */
  async tryLock(key: string, owner: string, ttlMilliseconds: number): Promise<boolean | undefined> {
    if (!this.store.lock || this.resting()) {
      return undefined;
    }
    try {
      const taken = await this.call(this.store.lock(lockKey(key), owner, ttlMilliseconds));
      this.recovered();
      return taken;
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  /** Whether the fleet-wide lock of a key is held; `undefined` when the store has no locks or fails. Never throws. */
  async lockHeld(key: string): Promise<boolean | undefined> {
    if (!this.store.locked || this.resting()) {
      return undefined;
    }
    try {
      const held = await this.call(this.store.locked(lockKey(key)));
      this.recovered();
      return held;
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  /** Releases the fleet-wide lock of a key if `owner` holds it. Never throws: the lock expires anyway. */
  async unlock(key: string, owner: string): Promise<void> {
    if (!this.store.unlock || this.resting()) {
      return;
    }
    try {
      await this.call(this.store.unlock(lockKey(key), owner));
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  /** Whether the store has a connection to check (see {@link ping}): a Redis store has. */
  get pingable(): boolean {
    return this.store.ping !== undefined;
  }

  /**
   * Checks the store's connection (a Redis `PING`), bounded by the cache's timeout, for health
   * checks; resolves at once for a store without a connection. Outside the outage log and the pause
   * after a failure: a health check neither reports nor ends an outage.
   *
   * @throws the store's error, or a timeout error, when the check fails.
   */
  async ping(): Promise<void> {
    if (this.closed) {
      throw new Error(`cache '${this.name}' is closed`);
    }
    if (this.store.ping) {
      await this.call(this.store.ping());
    }
  }

  /** Releases the store. Later calls are misses. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    await this.store.close();
  }

  private noteEviction(key: string): void {
    if (this.evictedAt.size >= REMEMBERED_EVICTIONS) {
      this.evictedAt.clear();
      this.forgottenUpTo = this.evictions;
    }
    this.evictions += 1;
    this.evictedAt.set(key, this.evictions);
  }

  private entryOf(result: IntrospectionResult): { entry: CachedIntrospection; ttl: number } | undefined {
    if (!result.active) {
      const seconds = this.settings.negativeTimeToLiveSeconds;
      return seconds === undefined ? undefined : { entry: INACTIVE_ENTRY, ttl: seconds * 1000 };
    }
    const now = Date.now();
    const ttl = TokenCache.ttlMilliseconds(result.payload, this.settings.timeToLiveSeconds, now);
    if (ttl === undefined) {
      return undefined;
    }
    if (this.staleMs > 0) {
      // Kept past its freshness, but never past the token's `exp`: a stale entry is for an outage of
      // the server, not for a token that has run out (its `exp` is checked on every request anyway).
      const untilExpiry =
        typeof result.payload.exp === 'number' ? Math.floor(result.payload.exp * 1000 - now) : Infinity;
      const kept = Math.min(ttl + this.staleMs, untilExpiry);
      if (kept > ttl) {
        return { entry: activeEntry(result.payload, now + ttl), ttl: kept };
      }
    }
    return { entry: activeEntry(result.payload), ttl };
  }

  /**
   * A store's answer as a look-up's: an entry past its freshness is a miss (served only by
   * {@link stale}). Counts the look-up when telemetry is on.
   */
  private fresh(entry: CachedIntrospection | undefined, counted = true): CachedIntrospection | undefined {
    if (entry === undefined) {
      this.count('miss', counted);
      return undefined;
    }
    if (this.pastFreshness(entry)) {
      this.count('miss', counted);
      return undefined;
    }
    this.count('hit', counted);
    return entry;
  }

  /** Whether an entry is kept past its freshness, for stale-if-error only. */
  private pastFreshness(entry: CachedIntrospection, now?: number): boolean {
    return (
      this.staleMs > 0 && entry.active && entry.freshUntil !== undefined && entry.freshUntil <= (now ?? Date.now())
    );
  }

  private count(result: 'hit' | 'miss' | 'error' | 'stale', counted = true): void {
    const lookups = this.lookups;
    if (lookups !== undefined && counted) {
      lookups.counter.add(1, lookups[result]);
    }
  }

  /** Whether to leave the store alone for now: closed, or failing and not yet due for another try. */
  private resting(): boolean {
    return this.closed || (this.failing && Date.now() < this.retryAt);
  }

  /** A store call, bounded by the cache's timeout when it has one. */
  private call<T>(operation: Promise<T>): Promise<T> {
    const milliseconds = this.settings.timeoutMs;
    if (milliseconds === undefined) {
      return operation;
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TokenCacheTimeoutError(milliseconds)), milliseconds);
      // The timer must not keep a process alive that has nothing else to do.
      timer.unref();
      operation.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private failed(error: unknown): void {
    this.retryAt = Date.now() + RETRY_AFTER_FAILURE_MS;
    if (!this.failing) {
      this.failing = true;
      this.logger.warn(`cache '${this.name}' fails (${reasonOf(error)}): tokens are introspected until it works again`);
    }
  }

  private recovered(): void {
    if (this.failing) {
      this.failing = false;
      this.logger.log(`cache '${this.name}' works again`);
    }
  }
}

/**
 * Where a shared store keeps the tombstone of a key's eviction: a key of the same shape (a digest, so
 * the store's keys all look alike), which no token's entry can have.
 */
function tombstoneKey(key: string): string {
  return hash('sha256', `revoked\0${key}`, 'base64url');
}

/** Where a shared store keeps the fleet-wide lock of a key: a digest too, apart from the key's own. */
function lockKey(key: string): string {
  return hash('sha256', `lock\0${key}`, 'base64url');
}

/**
 * A failure's code or class name (`ECONNREFUSED`, `ClientOfflineError`, `TimeoutError`), never its
 * message: messages of parse errors quote the data, and a connection error may quote its URL.
 */
function reasonOf(error: unknown): string {
  // By shape, not instanceof: errors from Node's own modules come from another realm under some
  // runners (jest), and are still errors.
  if (typeof error !== 'object' || error === null) {
    return typeof error;
  }
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) {
    return code;
  }
  if (error instanceof TokenCacheTimeoutError) {
    return `${error.name}: ${String(message)}`;
  }
  // node-redis leaves `name` at 'Error'; its classes say what happened (ClientOfflineError, ...).
  const className = error.constructor?.name;
  return typeof name === 'string' && name !== 'Error'
    ? name
    : className && className !== 'Object'
      ? className
      : 'Error';
}

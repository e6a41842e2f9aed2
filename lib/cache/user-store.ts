import { type Cache, createCache } from 'cache-manager';
import { Keyv, type KeyvStoreAdapter } from 'keyv';

/** A store an application can hand to a `store` cache resource. */
export type UserCacheStore = Cache | Keyv | KeyvStoreAdapter;

/**
 * Whether a value is a store a `store` cache resource can use: a cache-manager `Cache`, a `Keyv`,
 * or a Keyv store adapter (what `new Keyv(adapter)` accepts). Checked by shape, not by class, so
 * that a copy of these packages other than this module's own is accepted too.
 */
export function isUserCacheStore(value: unknown): value is UserCacheStore {
  return isCacheManagerCache(value) || isKeyvStoreAdapter(value);
}

/** The store as a cache-manager `Cache`: as it is, or with a Keyv (and cache-manager) around it. */
export function userStoreAsCache(store: UserCacheStore): Cache {
  if (isCacheManagerCache(store)) {
    return store;
  }
  if (isKeyv(store)) {
    return createCache({ stores: [store] });
  }
  // Keyv would put its own 'keyv' namespace on the adapter: keep the adapter's. throwOnErrors: a
  // Keyv otherwise answers a failed read `undefined` without a word, and the outage goes unlogged.
  return createCache({
    stores: [new Keyv(store, { namespace: store.namespace, useKeyPrefix: false, throwOnErrors: true })],
  });
}

function isCacheManagerCache(value: unknown): value is Cache {
  return (
    hasFunctions(value, ['get', 'set', 'del', 'on', 'off']) && Array.isArray((value as { stores?: unknown }).stores)
  );
}

function isKeyv(value: unknown): value is Keyv {
  return (
    value instanceof Keyv ||
    (isKeyvStoreAdapter(value) && typeof (value as { hooks?: unknown }).hooks === 'object' && 'store' in value)
  );
}

function isKeyvStoreAdapter(value: unknown): value is KeyvStoreAdapter {
  return hasFunctions(value, ['get', 'set', 'delete', 'clear']);
}

function hasFunctions(value: unknown, names: readonly string[]): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

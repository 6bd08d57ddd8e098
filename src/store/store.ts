/**
 * The shared state the security features need, behind one small interface.
 *
 * Sessions themselves live in the encrypted cookie; the store holds what must be shared by
 * every instance of the app: consumed login transactions, JWT `jti` and webhook event ids
 * (single use), refresh locks, and the revocation feed. The default is a bounded in-process
 * memory store; `redisStore()` shares it across instances.
 *
 * Keys are plain strings chosen by the plugin (it adds its own prefixes); values are strings.
 * Every method may reject (the store is down): callers decide whether to fail closed or open.
 */
import { optionError } from '../option-checks.ts'

export interface SsoStore {
  /** The value, or `null` when absent or expired. */
  get(key: string): Promise<string | null>
  /** Stores `value` for `ttlMs` milliseconds, replacing any previous value. */
  set(key: string, value: string, ttlMs: number): Promise<void>
  /**
   * Stores `value` only when `key` is absent, atomically across every instance sharing the store.
   * Resolves `true` when this call stored it (first use), `false` when the key already existed.
   */
  add(key: string, value: string, ttlMs: number): Promise<boolean>
  /** Removes the key (no error when absent). */
  delete(key: string): Promise<void>
  /**
   * Appends an entry to a shared feed that every instance reads (revocations). Entries are
   * kept at least `ttlMs` milliseconds.
   */
  publish(feed: string, entry: string, ttlMs: number): Promise<void>
  /**
   * Entries appended to `feed` after `cursor` (`null`: every entry still kept), in order, and the
   * cursor to pass next time.
   */
  readFeed(feed: string, cursor: string | null): Promise<{ entries: string[], cursor: string | null }>
  /** Releases connections; called when the app closes, only for stores the plugin created. */
  close?(): Promise<void>
}

const storeMethods = ['get', 'set', 'add', 'delete', 'publish', 'readFeed'] as const

/**
 * Checks that an option holds an `SsoStore` (every method present); `undefined` stays undefined.
 *
 * @example
 * ```ts
 * const store = validateStore('directorySync.store', options.store) ?? memoryStore()
 * ```
 */
export function validateStore (option: string, value: unknown): SsoStore | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || storeMethods.some(method => typeof (value as Record<string, unknown>)[method] !== 'function')) {
    throw optionError(option, `must be an SsoStore (memoryStore(), redisStore() or an object with ${storeMethods.join(', ')}).`)
  }
  return value as SsoStore
}

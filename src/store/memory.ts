/**
 * The default store: in-process, bounded, with expiry. Right for a single instance; use
 * `redisStore()` when several instances serve the same users.
 */
import type { SsoStore } from './store.ts'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most keys kept at once; the oldest are evicted first (default 100,000). */
  maxEntries?: number
  /** Most entries kept per feed (default 100,000). */
  maxFeedEntries?: number
  /** Clock in epoch milliseconds (tests). */
  now?: () => number
}

interface Entry { value: string, expiresAt: number }
interface FeedEntry { seq: number, entry: string, expiresAt: number }

/**
 * Creates an in-process store.
 *
 * @example
 * ```ts
 * import ssoPlugin, { memoryStore } from 'fastify-sso'
 * const store = memoryStore({ maxEntries: 10_000 })
 * await app.register(ssoPlugin, { ...options, store })
 * ```
 */
export function memoryStore (options: MemoryStoreOptions = {}): SsoStore {
  const maxEntries = options.maxEntries ?? 100_000
  const maxFeedEntries = options.maxFeedEntries ?? 100_000
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>()
  const feeds = new Map<string, FeedEntry[]>()
  let seq = 0

  function live (key: string): Entry | undefined {
    const entry = entries.get(key)
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }

  function put (key: string, value: string, ttlMs: number): void {
    entries.delete(key) // re-insert at the end: Map order is our eviction order
    entries.set(key, { value, expiresAt: now() + ttlMs })
    if (entries.size > maxEntries) evict()
  }

  // Drop expired keys first; if the map is still full, the oldest inserted.
  function evict (): void {
    const t = now()
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key)
    for (const key of entries.keys()) {
      if (entries.size <= maxEntries) break
      entries.delete(key)
    }
  }

  function trimFeed (feed: FeedEntry[]): void {
    const t = now()
    let drop = 0
    while (drop < feed.length && feed[drop]!.expiresAt <= t) drop++
    drop = Math.max(drop, feed.length - maxFeedEntries)
    if (drop > 0) feed.splice(0, drop)
  }

  return {
    async get (key) {
      return live(key)?.value ?? null
    },
    async set (key, value, ttlMs) {
      put(key, value, ttlMs)
    },
    async add (key, value, ttlMs) {
      if (live(key)) return false
      put(key, value, ttlMs)
      return true
    },
    async delete (key) {
      entries.delete(key)
    },
    async publish (name, entry, ttlMs) {
      let feed = feeds.get(name)
      if (!feed) feeds.set(name, feed = [])
      feed.push({ seq: ++seq, entry, expiresAt: now() + ttlMs })
      trimFeed(feed)
    },
    async readFeed (name, cursor) {
      const feed = feeds.get(name)
      if (!feed) return { entries: [], cursor }
      trimFeed(feed)
      const after = cursor === null ? 0 : Number(cursor)
      const fresh = feed.filter(item => item.seq > after)
      const t = now()
      // Entries have their own TTLs, so an expired one may sit behind a live one: filter them all.
      return { entries: fresh.filter(item => item.expiresAt > t).map(item => item.entry), cursor: fresh.length > 0 ? String(fresh[fresh.length - 1]!.seq) : cursor }
    }
  }
}

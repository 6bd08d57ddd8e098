/**
 * Short-lived caching of an IdP lookup (an organization's domains, a metadata document) in the
 * plugin's store, so every instance shares it. A store failure only costs a call to the IdP.
 */
import type { SsoStore } from '../../store/store.ts'

/**
 * The value cached under `key`, or `load()`'s result, cached for `ttlMs`. Values are JSON.
 *
 * @example
 * ```ts
 * const domains = await cachedLookup(store, `workos:org-domains:${id}`, 5 * 60_000, () => fetchDomains(id))
 * ```
 */
export async function cachedLookup<T> (store: SsoStore, key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
  try {
    const cached = await store.get(key)
    if (cached !== null) return JSON.parse(cached) as T
  } catch {
    // The store is down or the entry is garbage: ask the IdP.
  }
  const value = await load()
  await store.set(key, JSON.stringify(value ?? null), ttlMs).catch(() => {})
  return value
}

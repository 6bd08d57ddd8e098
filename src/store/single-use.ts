/**
 * Single use across every instance sharing the store: login transactions, JWT ids, SAML
 * assertion ids, back-channel logout `jti`s. The store's atomic `add` decides which request is
 * first; every later one is a replay.
 */
import { StoreUnavailableError } from '../errors.ts'
import type { SsoStore } from './store.ts'

/**
 * Records `key` as used for `ttlMs` (at least a second) and says whether this was its first use.
 * A store failure fails closed (`FST_SSO_STORE_UNAVAILABLE`, 503): a replay must not slip through
 * because Redis is down. With `failOpen`, it is logged and counted as a first use instead.
 *
 * @example
 * ```ts
 * if (!await firstUse(store, `saml:assertion:${sha256(id)}`, ttlMs, log)) throw TokenRejectedError('This assertion was already used.')
 * ```
 */
export async function firstUse (store: SsoStore, key: string, ttlMs: number, log: { error (details: object, message: string): void }, failOpen = false): Promise<boolean> {
  try {
    return await store.add(key, '1', Math.max(1000, ttlMs))
  } catch (err) {
    log.error({ err }, 'fastify-sso: the store failed while recording a single-use value')
    if (failOpen) return true
    throw StoreUnavailableError()
  }
}

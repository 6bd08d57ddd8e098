/**
 * Renewing provider state (access tokens) when a session's `p.expiresAt` has passed.
 *
 * A refresh token is often single-use: two parallel requests that both spend it sign the user
 * out ("already exchanged"). So refreshes are single-flight per session: in the process, every
 * request for a session waits on the same promise; across instances, a short lock in the store
 * lets one instance refresh while the others wait for its sealed result. `SingleFlight` is that
 * mechanism on its own; the session refresh below and `app.sso.accessToken()` (access-token.ts)
 * both use it.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { CookieCodec } from './cookie-codec.ts'
import { auditFailure, auditUser, type AuditTrail } from './audit.ts'
import { IdpUnavailableError, isSsoError, StoreUnavailableError } from './errors.ts'
import type { ProviderInstance } from './providers/provider.ts'
import type { SessionRecord } from './session.ts'
import type { SsoStore } from './store/store.ts'
import { boundUser, type SsoUser } from './user.ts'

const lockMs = 15_000
const resultMs = 60_000
const waitStepMs = 100

/** What {@link SingleFlight.run} needs for one piece of work. */
export interface Flight<T extends object> {
  /** Does the work; its result (unless `null`) is sealed in the store for the instances waiting on it. */
  work: () => Promise<T | null>
  /** Whether a result another instance left is still good to use (not expired). */
  usable: (result: T) => boolean
  /** Called when the wait for another instance's result ends without one (it took too long). */
  gaveUp?: () => void
}

/**
 * At most one run of a piece of work per id at a time, in this process and across instances.
 * In the process, callers for the same id share one promise (and its outcome, errors included);
 * across instances, the first to take a short lock in the store (`store.add`) works while the
 * others poll for its sealed result. An instance whose wait ends without a result gets `null`.
 * Store failures and errors thrown by `work` reject; the caller decides what they mean.
 *
 * @example
 * ```ts
 * const flight = new SingleFlight<Tokens>(store, codec, 'token-refresh')
 * const tokens = await flight.run(sessionId, { work: () => renew(old), usable: fresh }, log)
 * ```
 */
export class SingleFlight<T extends object> {
  readonly #inflight = new Map<string, Promise<T | null>>()
  readonly #store: SsoStore
  readonly #codec: CookieCodec
  readonly #namespace: string

  /** `namespace` prefixes the store keys (`<namespace>-lock:<id>`, `<namespace>-result:<id>`). */
  constructor (store: SsoStore, codec: CookieCodec, namespace: string) {
    this.#store = store
    this.#codec = codec
    this.#namespace = namespace
  }

  run (id: string, flight: Flight<T>, log: FastifyBaseLogger): Promise<T | null> {
    let pending = this.#inflight.get(id)
    if (!pending) {
      pending = this.#coordinate(id, flight, log).finally(() => this.#inflight.delete(id))
      this.#inflight.set(id, pending)
    }
    return pending
  }

  async #coordinate (id: string, flight: Flight<T>, log: FastifyBaseLogger): Promise<T | null> {
    const lockKey = `${this.#namespace}-lock:${id}`
    const resultKey = `${this.#namespace}-result:${id}`
    const done = await this.#result(resultKey, flight)
    if (done) return done
    if (!await this.#store.add(lockKey, '1', lockMs)) return await this.#waitForResult(resultKey, lockKey, flight, log)
    try {
      const result = await flight.work()
      if (result !== null) await this.#store.set(resultKey, this.#codec.encode(result), resultMs)
      return result
    } finally {
      await this.#store.delete(lockKey)
    }
  }

  /** Another instance's result for this id, if it is still usable. */
  async #result (key: string, flight: Flight<T>): Promise<T | null> {
    const sealed = await this.#store.get(key)
    const result = sealed ? this.#codec.decode<T>(sealed)?.data : undefined
    return result !== undefined && result !== null && flight.usable(result) ? result : null
  }

  async #waitForResult (key: string, lockKey: string, flight: Flight<T>, log: FastifyBaseLogger): Promise<T | null> {
    for (let waited = 0; waited < lockMs; waited += waitStepMs) {
      await new Promise(resolve => setTimeout(resolve, waitStepMs))
      const result = await this.#result(key, flight)
      if (result) return result
      // The lock is gone: the other instance finished. Read once more (it may have written the
      // result just after our read); nothing there means its work failed.
      if (await this.#store.get(lockKey) === null) return await this.#result(key, flight)
    }
    log.warn(`fastify-sso: gave up waiting for another instance (${this.#namespace})`)
    flight.gaveUp?.()
    return null
  }
}

/** Runs at most one refresh per session at a time, in this process and across instances. */
export class RefreshCoordinator {
  readonly #flight: SingleFlight<SessionRecord>
  readonly #provider: ProviderInstance
  readonly #now: () => number
  readonly #audit: AuditTrail | undefined

  constructor (provider: ProviderInstance, store: SsoStore, codec: CookieCodec, now: () => number, audit?: AuditTrail) {
    this.#provider = provider
    this.#flight = new SingleFlight(store, codec, 'refresh')
    this.#now = now
    this.#audit = audit
  }

  /** Whether this session's provider state has expired and the provider can renew it. */
  due (record: SessionRecord): boolean {
    const expiresAt = record.p?.expiresAt
    return typeof expiresAt === 'number' && expiresAt <= this.#now() && typeof this.#provider.refresh === 'function'
  }

  /**
   * The refreshed record, or `null` when the refresh failed (the user is then signed out). The
   * refresh that runs here emits `session.refreshed` or `session.refresh_failed` for `request`.
   */
  async refresh (record: SessionRecord, request: FastifyRequest): Promise<SessionRecord | null> {
    try {
      return await this.#flight.run(record.id, {
        work: async () => {
          const refreshed = await this.#run(record, request)
          if (refreshed) this.#audit?.emit({ type: 'session.refreshed', ...auditUser(refreshed.u) }, request)
          return refreshed
        },
        usable: (refreshed) => {
          const expiresAt = refreshed.p?.expiresAt
          return typeof expiresAt !== 'number' || expiresAt > this.#now()
        },
        gaveUp: () => this.#failed(record, request, IdpUnavailableError('Another instance\'s refresh of this session did not finish in time.'))
      }, request.log)
    } catch (err) {
      request.log.error({ err }, 'fastify-sso: the store failed during a session refresh')
      this.#failed(record, request, StoreUnavailableError('The session store failed during the refresh.'))
      return null
    }
  }

  async #run (record: SessionRecord, request: FastifyRequest): Promise<SessionRecord | null> {
    try {
      const refreshed = await this.#provider.refresh!(record.p ?? {}, record.u)
      // Fields added by onLogin stay; every field the IdP reports again replaces the old value,
      // including one it now leaves empty or undefined (a permission removed at the IdP must not
      // survive the refresh just because the bounded user omits empty lists).
      const user = refreshed.user ? { ...withoutKeys(record.u, Object.keys(refreshed.user)), ...boundUser(refreshed.user).user } : record.u
      return { ...record, u: user, p: refreshed.session }
    } catch (err) {
      if (!isSsoError(err)) request.log.info({ err: { message: (err as Error)?.message } }, 'fastify-sso: session refresh failed; signing the user out')
      this.#failed(record, request, isSsoError(err) ? err : IdpUnavailableError())
      return null
    }
  }

  /** A refresh that signs the user out: `session.refresh_failed`, with the coded reason. */
  #failed (record: SessionRecord, request: FastifyRequest, error: Error): void {
    this.#audit?.emit({ type: 'session.refresh_failed', ...auditUser(record.u), ...auditFailure(error) }, request)
  }
}

/** A copy of `user` without the given fields. */
function withoutKeys (user: SsoUser, keys: string[]): SsoUser {
  const copy: Record<string, unknown> = { ...user }
  for (const key of keys) delete copy[key]
  return copy as unknown as SsoUser
}

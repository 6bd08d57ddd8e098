/**
 * Renewing provider state (access tokens) when a session's `p.expiresAt` has passed.
 *
 * A refresh token is often single-use: two parallel requests that both spend it sign the user
 * out ("already exchanged"). So refreshes are single-flight per session: in the process, every
 * request for a session waits on the same promise; across instances, a short lock in the store
 * lets one instance refresh while the others wait for its sealed result.
 */
import type { FastifyRequest } from 'fastify'
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

/** Runs at most one refresh per session at a time, in this process and across instances. */
export class RefreshCoordinator {
  readonly #inflight = new Map<string, Promise<SessionRecord | null>>()
  readonly #provider: ProviderInstance
  readonly #store: SsoStore
  readonly #codec: CookieCodec
  readonly #now: () => number
  readonly #audit: AuditTrail | undefined

  constructor (provider: ProviderInstance, store: SsoStore, codec: CookieCodec, now: () => number, audit?: AuditTrail) {
    this.#provider = provider
    this.#store = store
    this.#codec = codec
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
  refresh (record: SessionRecord, request: FastifyRequest): Promise<SessionRecord | null> {
    let pending = this.#inflight.get(record.id)
    if (!pending) {
      pending = this.#coordinate(record, request).finally(() => this.#inflight.delete(record.id))
      this.#inflight.set(record.id, pending)
    }
    return pending
  }

  async #coordinate (record: SessionRecord, request: FastifyRequest): Promise<SessionRecord | null> {
    const lockKey = `refresh-lock:${record.id}`
    const resultKey = `refresh-result:${record.id}`
    try {
      const done = await this.#result(resultKey)
      if (done) return done
      if (!await this.#store.add(lockKey, '1', lockMs)) return await this.#waitForResult(resultKey, lockKey, record, request)
      try {
        const refreshed = await this.#run(record, request)
        if (refreshed) {
          await this.#store.set(resultKey, this.#codec.encode(refreshed), resultMs)
          this.#audit?.emit({ type: 'session.refreshed', ...auditUser(refreshed.u) }, request)
        }
        return refreshed
      } finally {
        await this.#store.delete(lockKey)
      }
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

  /** Another instance's refresh result for this session, if it is still current. */
  async #result (key: string): Promise<SessionRecord | null> {
    const sealed = await this.#store.get(key)
    const record = sealed ? this.#codec.decode<SessionRecord>(sealed)?.data : undefined
    const expiresAt = record?.p?.expiresAt
    return record && (typeof expiresAt !== 'number' || expiresAt > this.#now()) ? record : null
  }

  async #waitForResult (key: string, lockKey: string, record: SessionRecord, request: FastifyRequest): Promise<SessionRecord | null> {
    for (let waited = 0; waited < lockMs; waited += waitStepMs) {
      await new Promise(resolve => setTimeout(resolve, waitStepMs))
      const record = await this.#result(key)
      if (record) return record
      // The lock is gone: the other instance finished. Read once more (it may have written the
      // result just after our read); nothing there means its refresh failed.
      if (await this.#store.get(lockKey) === null) return await this.#result(key)
    }
    request.log.warn('fastify-sso: gave up waiting for another instance to refresh the session')
    this.#failed(record, request, IdpUnavailableError('Another instance\'s refresh of this session did not finish in time.'))
    return null
  }
}

/** A copy of `user` without the given fields. */
function withoutKeys (user: SsoUser, keys: string[]): SsoUser {
  const copy: Record<string, unknown> = { ...user }
  for (const key of keys) delete copy[key]
  return copy as unknown as SsoUser
}

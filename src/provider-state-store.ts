/**
 * A session's secret provider state, kept server-side: in the shared store, sealed with the
 * session keys (the cookie codec: XSalsa20-Poly1305, key rotation included), under the session id,
 * until the session's absolute expiry or its logout.
 *
 * For state that every request should not carry in the cookie, or that must never reach the
 * browser: the ID token kept for `id_token_hint` at logout (about 1 KB, more than the rest of a
 * typical session cookie), and access and refresh tokens (`app.sso.accessToken()`, access-token.ts,
 * replaces them after each refresh; logout revokes them at the IdP). The session record only notes
 * that it has such state (`SessionRecord.ps`), so sessions without it cost no store read at logout.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { CookieCodec } from './cookie-codec.ts'
import type { SsoCore } from './core.ts'
import type { ProviderSession } from './providers/provider.ts'
import type { SessionRecord } from './session.ts'
import type { SsoStore } from './store/store.ts'
import { withTimeout } from './timeout.ts'

/** What is sealed: the session id travels inside, so an entry copied under another key is refused. */
interface Sealed { v: 1, sid: string, p: ProviderSession }

/** The largest sealed state kept (a few tokens; an ID token with a long group list fits). */
const maxSealedLength = 64 * 1024

/**
 * put / get / delete a session's secret provider state.
 *
 * @example
 * ```ts
 * const state = new ProviderStateStore(core.store, core.sessions.codec)
 * await state.put(record.id, { idt: idToken }, core.sessions.expiresAt(record) - Date.now())
 * const kept = await state.get(record.id) // { idt } or null
 * await state.delete(record.id)
 * ```
 */
export class ProviderStateStore {
  readonly #store: SsoStore
  readonly #codec: CookieCodec

  constructor (store: SsoStore, codec: CookieCodec) {
    this.#store = store
    this.#codec = codec
  }

  /**
   * Keeps `state` for the session for `ttlMs` milliseconds (at least one second), replacing any.
   * @throws RangeError when the sealed state exceeds 64 KB; the store's own errors.
   */
  async put (sessionId: string, state: ProviderSession, ttlMs: number): Promise<void> {
    const sealed = this.#codec.encode({ v: 1, sid: sessionId, p: state } satisfies Sealed)
    if (sealed.length > maxSealedLength) throw new RangeError(`provider state of ${sealed.length} characters once sealed; at most ${maxSealedLength} are kept`)
    await this.#store.set(storeKey(sessionId), sealed, Math.max(1000, Math.floor(ttlMs)))
  }

  /** The session's state, or `null` when absent, expired, or not sealed with our keys for this session. */
  async get (sessionId: string): Promise<ProviderSession | null> {
    const value = await this.#store.get(storeKey(sessionId))
    const opened = value === null ? null : this.#codec.decode<Sealed>(value, undefined, maxSealedLength)?.data
    return opened?.v === 1 && opened.sid === sessionId && typeof opened.p === 'object' && opened.p !== null ? opened.p : null
  }

  async delete (sessionId: string): Promise<void> {
    await this.#store.delete(storeKey(sessionId))
  }
}

function storeKey (sessionId: string): string {
  return `provider-state:${sessionId}`
}

// ── The plugin's uses: never fatal at login and logout, where the state is a convenience ─────

/** The registration's provider-state store. */
export function stateStore (core: SsoCore): ProviderStateStore {
  return new ProviderStateStore(core.store, core.sessions.codec)
}

/** Keeps a new session's secret provider state; false (logged) when the store could not take it. */
export async function keepSecrets (core: SsoCore, log: FastifyBaseLogger, sessionId: string, secrets: ProviderSession, ttlMs: number): Promise<boolean> {
  try {
    await stateStore(core).put(sessionId, secrets, ttlMs)
    return true
  } catch (err) {
    log.warn({ err }, 'fastify-sso: could not keep the provider state in the store; signing in without it')
    return false
  }
}

/** The session's provider state with its secret part merged in (without it when the store fails). */
export async function withSecrets (core: SsoCore, log: FastifyBaseLogger, record: SessionRecord): Promise<ProviderSession | undefined> {
  if (!record.ps) return record.p
  try {
    const secrets = await stateStore(core).get(record.id)
    if (secrets) return { ...record.p, ...secrets }
    log.info('fastify-sso: the provider state kept for this session is gone (expired or evicted from the store)')
  } catch (err) {
    log.warn({ err }, 'fastify-sso: could not read the provider state from the store')
  }
  return record.p
}

/** Deletes a session's secret provider state (logged, never thrown: it expires with the session anyway). */
export async function forgetSecrets (core: SsoCore, log: FastifyBaseLogger, sessionId: string): Promise<void> {
  try {
    await stateStore(core).delete(sessionId)
  } catch (err) {
    log.warn({ err }, 'fastify-sso: could not delete the provider state from the store (it expires with the session)')
  }
}

/** How long ending a session waits for the IdP to revoke its tokens (the request itself may go on, up to its 10 s). */
const revocationWaitMs = 2_000

/**
 * Revokes the tokens kept for a session at the IdP (the provider's `revokeTokens`), best effort:
 * the caller waits at most two seconds, a failure is logged (never the token), nothing throws.
 */
export async function revokeKeptTokens (core: SsoCore, log: FastifyBaseLogger, state: ProviderSession): Promise<void> {
  if (!core.provider.revokeTokens) return
  const revoking = withTimeout(core.provider.revokeTokens(state)).catch((err: unknown) => {
    log.warn({ err: { code: (err as { code?: unknown })?.code, message: (err as Error)?.message } }, 'fastify-sso: could not revoke the tokens at the identity provider (they expire by themselves)')
  })
  let timer: NodeJS.Timeout | undefined
  const waited = new Promise<void>(resolve => { timer = setTimeout(resolve, revocationWaitMs).unref() })
  await Promise.race([revoking, waited])
  clearTimeout(timer)
}

/**
 * The encrypted session cookie: lazy decoding, idle and absolute timeouts, revocation, key
 * rotation and the 4 KB size limit.
 *
 * Nothing here runs for a request that never reads the user: the cookie is decrypted on first
 * access to `request.user` (or in the guard), then cached on the request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { CookieCodec, maxCookieBytes, type Decoded } from './cookie-codec.ts'
import { SessionTooLargeError } from './errors.ts'
import { randomId } from './crypto.ts'
import { decodeCookieValue, expireCookie, rawRequestCookie, writeCookie } from './cookies.ts'
import type { ResolvedOptions } from './options.ts'
import type { ProviderSession } from './providers/provider.ts'
import type { RevocationList } from './revocation.ts'
import type { SsoUser } from './user.ts'
import type { SsoStore } from './store/store.ts'

/** What the session cookie holds (short keys: every byte counts against the 4 KB limit). */
export interface SessionRecord {
  v: 1
  /** Random session id: what logout revokes. */
  id: string
  /** The user. */
  u: SsoUser
  /** Created at (epoch ms): the absolute timeout counts from here. */
  c: number
  /** Last seen (epoch ms, written at most once a minute): the idle timeout counts from here. */
  s: number
  /** Provider state for refresh and logout. */
  p?: ProviderSession
  /** 1 when the provider also keeps secret state in the store under this session's id (`provider-state-store.ts`). */
  ps?: 1
}

/** The per-request result of reading the cookie. */
export interface SessionState {
  record: SessionRecord | null
  /** A cookie was sent but is unusable (garbage, expired, revoked): clear it at the next write. */
  stale: boolean
  /** Valid, but should be written again (older key, or last-seen more than a minute old). */
  reissue: boolean
  /** Server-side sessions only: the store could not be read. */
  unavailable?: boolean
}

/** A re-issued session and its cookie value (being sealed or saved). */
interface Renewal { record: SessionRecord, value: Promise<string> }

/** What the cookie holds when sessions are kept server-side (`session.store`): a pointer. */
interface SessionPointer { v: 1, sid: string }

const none: SessionState = Object.freeze({ record: null, stale: false, reissue: false })
const stale: SessionState = Object.freeze({ record: null, stale: true, reissue: false })

/** Last-seen is written back at most this often, so most responses carry no Set-Cookie. */
const touchIntervalMs = 60_000
/** Decoded cookies kept in memory (about 1.5 KB each): the active users of one instance. */
const decodedCacheSize = 10_000
/**
 * The decoded-cookie cache is keyed by the cookie's last characters: the random nonce secretbox
 * puts at the end of every sealed value. Hashing the whole ~700-character value for a Map lookup
 * costs about a microsecond, more than the rest of a protected request's checks; the entry keeps
 * the full value, compared on every hit, so a different cookie with the same ending only misses.
 */
const cacheKeyLength = 32
/** Once the cache is full, one new cookie in this many replaces the oldest entry (see #remember). */
const admitOneIn = 8

/** Where a request keeps its decoded session. */
export const kSessionState = Symbol('fastify-sso.session')

type RequestWithState = FastifyRequest & { [kSessionState]: SessionState | null }

/**
 * Reads, validates and writes sessions for one plugin registration. By default the whole
 * session travels in the encrypted cookie; with `session.store` the record is kept in the store
 * and the cookie holds only an encrypted pointer to it.
 */
export class SessionManager {
  readonly codec: CookieCodec
  readonly #options: ResolvedOptions
  readonly #store: SsoStore | undefined
  readonly #revocations: RevocationList
  /**
   * Cookie ending (see cacheKeyLength) → the cookie value as sent and its decrypted, deeply frozen
   * content. A returning browser sends the same cookie until it is re-issued, so most requests
   * skip the decryption; the checks that depend on time and revocation still run on every
   * request. Only valid cookies are cached, so garbage cannot evict real sessions.
   */
  readonly #decoded = new Map<string, { raw: string, decoded: Decoded<SessionRecord> }>()
  #misses = 0
  /** Old cookie value (as sent) → its renewal; see {@link SessionManager.#renewal}. */
  readonly #renewals = new Map<string, Renewal>()

  constructor (options: ResolvedOptions, codec: CookieCodec, revocations: RevocationList) {
    this.#options = options
    this.codec = codec
    this.#revocations = revocations
    this.#store = options.sessionStore
  }

  /** Whether records live in the store (the cookie holds a pointer). */
  get serverSide (): boolean {
    return this.#store !== undefined
  }

  /** The request's session, decoded once and cached on the request. */
  read (request: FastifyRequest): SessionState {
    const holder = request as RequestWithState
    return holder[kSessionState] ??= this.#decode(request)
  }

  /** The signed-in user, or null. */
  user (request: FastifyRequest): SsoUser | null {
    return this.read(request).record?.u ?? null
  }

  #decode (request: FastifyRequest): SessionState {
    // Server-side records are fetched by load() (an onRequest hook): nothing to decode here.
    if (this.#store) return none
    const raw = rawRequestCookie(request, this.#options.cookieName)
    if (raw === undefined) return none
    const key = raw.slice(-cacheKeyLength)
    const cached = this.#decoded.get(key)
    const decoded = cached !== undefined && cached.raw === raw ? cached.decoded : this.#open(raw, key, request)
    return decoded ? this.#evaluate(decoded.data, decoded.rotated, request) : stale
  }

  /** The checks that depend on time and revocation: run on every request, cached cookie or not. */
  #evaluate (record: SessionRecord, rotated: boolean, request: FastifyRequest): SessionState {
    const now = this.#options.now()
    if (now - record.c > this.#options.absoluteTimeoutMs || now - record.s > this.#options.idleTimeoutMs) {
      request.log.debug('fastify-sso: session expired')
      return stale
    }
    const idpSessionId = typeof record.p?.sid === 'string' ? record.p.sid : undefined
    if (this.#revocations.isRevoked({ id: record.id, createdAt: record.c, user: record.u, idpSessionId })) {
      request.log.debug('fastify-sso: session revoked')
      return stale
    }
    return { record, stale: false, reissue: rotated || now - record.s >= touchIntervalMs }
  }

  /**
   * Server-side sessions: fetches the record the cookie points to (one store read per request
   * that carries the cookie; `request.user` is synchronous, so this happens in an onRequest hook).
   */
  async load (request: FastifyRequest): Promise<void> {
    const holder = request as RequestWithState
    const raw = rawRequestCookie(request, this.#options.cookieName)
    if (raw === undefined || !this.#store) return
    const value = decodeCookieValue(raw)
    const pointer = value === undefined ? null : this.codec.decode<SessionPointer>(value, request.log)
    if (!pointer || pointer.data.v !== 1 || typeof pointer.data.sid !== 'string') {
      holder[kSessionState] = stale
      return
    }
    let json: string | null
    try {
      json = await this.#store.get(sessionKey(pointer.data.sid))
    } catch (err) {
      request.log.error({ err }, 'fastify-sso: cannot read the session from the store')
      holder[kSessionState] = { record: null, stale: false, reissue: false, unavailable: true }
      return
    }
    const record = json === null ? null : parseRecord(json)
    holder[kSessionState] = record && record.id === pointer.data.sid ? this.#evaluate(record, pointer.rotated, request) : stale
  }

  /** Decrypts and checks the shape of a cookie; remembers a valid one. */
  #open (raw: string, key: string, request: FastifyRequest): Decoded<SessionRecord> | null {
    const value = decodeCookieValue(raw)
    const decoded = value === undefined ? null : this.codec.decode<SessionRecord>(value, request.log)
    if (!decoded || !isRecord(decoded.data)) return null
    // Possibly shared by every request that sends this cookie: nobody may change it.
    deepFreeze(decoded.data)
    this.#remember(key, raw, decoded)
    return decoded
  }

  /**
   * Caches a decoded cookie. When the cache is full, only one new cookie in `admitOneIn` evicts
   * the oldest entry: with more active sessions than entries, replacing on every miss would churn
   * the cache (and the garbage collector) for no hits at all.
   */
  #remember (key: string, raw: string, decoded: Decoded<SessionRecord>): void {
    if (this.#decoded.size >= decodedCacheSize) {
      if (++this.#misses % admitOneIn !== 0) return
      this.#decoded.delete(this.#decoded.keys().next().value!)
    }
    this.#decoded.set(key, { raw, decoded })
  }

  /** A brand-new session (fresh id: a session is never reused across logins). */
  create (user: SsoUser, provider?: ProviderSession): SessionRecord {
    const now = this.#options.now()
    const record: SessionRecord = { v: 1, id: randomId(), u: user, c: now, s: now }
    if (provider) record.p = provider
    return record
  }

  /**
   * Seals a record into a cookie value.
   * @throws FST_SSO_SESSION_TOO_LARGE when the cookie would exceed 4,096 bytes.
   */
  seal (record: SessionRecord): string {
    const value = this.codec.encode(record)
    const size = CookieCodec.size(this.#options.cookieName, value)
    if (size > maxCookieBytes) {
      throw SessionTooLargeError(
        `The session cookie would be ${size} bytes; browsers silently drop cookies over ${maxCookieBytes} bytes. ` +
        'Keep fewer fields on the user in onLogin (large claims, long group lists) or keep fewer tokens, or keep sessions server-side with session.store.'
      )
    }
    return value
  }

  /**
   * Stores a record and returns the cookie value that carries it: the sealed record, or with
   * `session.store`, a sealed pointer to the record saved in the store.
   */
  async save (record: SessionRecord): Promise<string> {
    if (!this.#store) return this.seal(record)
    const ttl = record.c + this.#options.absoluteTimeoutMs - this.#options.now()
    await this.#store.set(sessionKey(record.id), JSON.stringify(record), Math.max(1000, ttl))
    return this.codec.encode({ v: 1, sid: record.id } satisfies SessionPointer)
  }

  /** Sets the session cookie on the reply and makes the record the request's session. */
  setCookie (request: FastifyRequest, reply: FastifyReply, record: SessionRecord, value: string): void {
    const remaining = Math.min(this.#options.idleTimeoutMs, record.c + this.#options.absoluteTimeoutMs - this.#options.now())
    writeCookie(reply, this.#options.sessionCookie, value, Math.max(0, Math.floor(remaining / 1000)))
    ;(request as RequestWithState)[kSessionState] = { record, stale: false, reissue: false }
  }

  /** Saves the record and sets its cookie. */
  async write (request: FastifyRequest, reply: FastifyReply, record: SessionRecord): Promise<void> {
    this.setCookie(request, reply, record, await this.save(record))
  }

  /** Removes the session (its server-side record too) and its cookie. */
  async clear (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const record = this.read(request).record
    expireCookie(reply, this.#options.sessionCookie)
    ;(request as RequestWithState)[kSessionState] = none
    if (this.#store && record) {
      await this.#store.delete(sessionKey(record.id)).catch((err: unknown) => {
        request.log.warn({ err }, 'fastify-sso: could not delete the session from the store (it stays revoked)')
      })
    }
  }

  /**
   * Forgets the session for the rest of the request when no reply is at hand
   * (`request.logout()`); the cookie, already revoked, is cleared at the next write.
   */
  forget (request: FastifyRequest): void {
    ;(request as RequestWithState)[kSessionState] = { record: null, stale: true, reissue: false }
  }

  /**
   * Brings the cookie up to date after a read: clears a stale one, re-issues a session under
   * the newest key or with a fresh last-seen. Called by the guard and the auth routes, the
   * places that have a reply; other routes never pay for a write.
   */
  async sync (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const state = this.read(request)
    if (state.stale) {
      await this.clear(request, reply)
    } else if (state.record && state.reissue) {
      try {
        const renewal = this.#renewal(rawRequestCookie(request, this.#options.cookieName), state.record)
        this.setCookie(request, reply, renewal.record, await renewal.value)
      } catch (err) {
        // The session stays valid with its old cookie (a store hiccup, or, impossibly, a record
        // that no longer fits): the next request tries again.
        request.log.error({ err }, 'fastify-sso: could not re-issue the session')
      }
    }
  }

  /**
   * The renewed session for a cookie due for re-issue: made once per old cookie and reused for
   * the rest of the touch interval, so a burst of parallel requests (or a client that keeps
   * sending the old cookie) costs one encryption and store write, not one per response.
   */
  #renewal (raw: string | undefined, record: SessionRecord): Renewal {
    const now = this.#options.now()
    const known = raw === undefined ? undefined : this.#renewals.get(raw)
    if (known && now - known.record.s < touchIntervalMs) return known
    const renewed = { ...record, s: now }
    const renewal: Renewal = { record: renewed, value: this.save(renewed) }
    if (raw !== undefined) {
      if (this.#renewals.size >= decodedCacheSize) this.#renewals.delete(this.#renewals.keys().next().value!)
      this.#renewals.set(raw, renewal)
      // A failed renewal is not reused: the next request tries again.
      renewal.value.catch(() => { if (this.#renewals.get(raw) === renewal) this.#renewals.delete(raw) })
    }
    return renewal
  }

  /** Replaces the session's provider state and user (after a refresh). */
  async update (request: FastifyRequest, reply: FastifyReply, record: SessionRecord): Promise<void> {
    await this.write(request, reply, { ...record, s: this.#options.now() })
  }

  /**
   * Until when a logged-out session id must stay revoked: its absolute expiry. (Not the idle
   * expiry: another tab may hold a copy re-issued with a later last-seen.)
   */
  expiresAt (record: SessionRecord): number {
    return record.c + this.#options.absoluteTimeoutMs
  }
}

/** The store key of a server-side session record. */
function sessionKey (id: string): string {
  return `session:${id}`
}

/** Whether a decrypted or stored value has the shape of a session record. */
function isRecord (value: unknown): value is SessionRecord {
  const record = value as SessionRecord
  return typeof record === 'object' && record !== null && record.v === 1 && typeof record.id === 'string' &&
    typeof record.u?.id === 'string' && typeof record.c === 'number' && typeof record.s === 'number'
}

/** A stored record, frozen like a cookie's; null when it is not one. */
function parseRecord (json: string): SessionRecord | null {
  try {
    const record: unknown = JSON.parse(json)
    if (!isRecord(record)) return null
    deepFreeze(record)
    return record
  } catch {
    return null
  }
}

/** Freezes an object and everything in it. */
function deepFreeze (value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const child of Object.values(value)) deepFreeze(child)
}

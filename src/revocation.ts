/**
 * Session revocation: logged-out session ids and revoked users (logout, deprovisioning,
 * `app.sso.revoke()`, back-channel logout).
 *
 * Checking must cost nothing measurable on every request, so each instance keeps a local
 * copy of the revocations and answers from memory, synchronously. Revocations are published to
 * the store's feed; every instance reads the feed every `pollMs` (500 ms by default), so a
 * revocation made on one instance is enforced by all within about a second.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { SsoStore } from './store/store.ts'
import { FeedFollower } from './store/feed-follower.ts'
import type { SsoUser } from './user.ts'
import { auditUser, type AuditTrail, type RevocationSource } from './audit.ts'
import { definedFields } from './defined-fields.ts'

/** Which sessions to revoke: every session of the user matching any of these. */
export interface RevokeFilter {
  /** `user.id` (the provider's stable id). */
  userId?: string
  /** Email address, compared case-insensitively. */
  email?: string
  /** The user's id at the customer's IdP (`user.idpId`), as directory sync reports it. */
  idpId?: string
  /** The IdP's own session id (OIDC `sid`), as back-channel logout reports it. */
  idpSessionId?: string
  /**
   * Only sessions whose user has this `organizationId`. A tenant's own directory (a WorkOS
   * webhook, a SCIM token) names users by email or IdP id, which another tenant may share:
   * scoped, its revocations cannot sign out anyone outside that organization.
   */
  organizationId?: string
}

/**
 * Who revoked, for the `session.revoked` audit event: the source, the request that asked (its id,
 * address and user agent go into the event) and, for one session, whose session it was.
 */
export interface RevocationCause {
  source: RevocationSource
  request?: FastifyRequest
  user?: SsoUser
}

/** The parts of a session that revocation looks at. */
export interface RevocableSession {
  id: string
  createdAt: number
  user: SsoUser
  /** The IdP's session id this session came from (OIDC `sid`), if the provider kept it. */
  idpSessionId?: string | undefined
}

type FeedEntry =
  | { kind: 'session', id: string, until: number }
  | { kind: 'user', key: string, at: number, until: number, org?: string }

const feedName = 'revocations'
const maxEntries = 200_000

/** The lookup keys of a user: a revocation of any of them revokes the user's sessions. */
function userKeys (user: Pick<SsoUser, 'id' | 'email' | 'idpId'>): string[] {
  const keys = [`id:${user.id}`]
  if (user.email) keys.push(`email:${user.email.toLowerCase()}`)
  if (user.idpId) keys.push(`idp:${user.idpId}`)
  return keys
}

function filterKeys (filter: RevokeFilter): string[] {
  const keys: string[] = []
  if (filter.idpSessionId) keys.push(`idp-session:${filter.idpSessionId}`)
  if (filter.userId) keys.push(`id:${filter.userId}`)
  if (filter.email) keys.push(`email:${filter.email.toLowerCase()}`)
  if (filter.idpId) keys.push(`idp:${filter.idpId}`)
  return keys
}

/** The fields of a filter an audit event names (the IdP's own ids stay out: they mean nothing to readers). */
function revokedUser (filter: RevokeFilter): { userId?: string, email?: string, organizationId?: string } {
  return definedFields({ userId: filter.userId || undefined, email: filter.email || undefined, organizationId: filter.organizationId || undefined })
}

/**
 * Whether this key was revoked after a session created at `createdAt` began. A session created
 * after the revocation (the user was re-provisioned and signed in again) is valid.
 */
function revokedBefore (revoked: Map<string, { at: number }>, key: string, createdAt: number): boolean {
  const entry = revoked.get(key)
  return entry !== undefined && createdAt <= entry.at
}

/** A user key within one organization (length-prefixed: no organization id can forge another's key). */
function scopedKey (organizationId: string, key: string): string {
  return `${organizationId.length}:${organizationId}|${key}`
}

/** The local view of every revocation, kept in step with the store's feed. */
export class RevocationList {
  readonly #sessions = new Map<string, number>() // session id → until (ms)
  readonly #users = new Map<string, { at: number, until: number }>() // user key → revoked at / until (ms)
  readonly #scoped = new Map<string, { at: number, until: number }>() // organization + user key → revoked at / until (ms)
  /** A user's lookup keys, computed once per user object (decoded sessions are cached and frozen). */
  readonly #keysOf = new WeakMap<SsoUser, string[]>()
  readonly #scopedKeysOf = new WeakMap<SsoUser, string[]>()
  readonly #store: SsoStore
  readonly #now: () => number
  readonly #ttlMs: number
  readonly #log: FastifyBaseLogger
  readonly #audit: AuditTrail | undefined
  readonly #feed: FeedFollower

  constructor (store: SsoStore, options: { now: () => number, ttlMs: number, log: FastifyBaseLogger, audit?: AuditTrail }) {
    this.#store = store
    this.#now = options.now
    this.#ttlMs = options.ttlMs
    this.#log = options.log
    this.#audit = options.audit
    this.#feed = new FeedFollower(store, feedName, (raw) => this.#applyRaw(raw), options.log, {
      failing: 'fastify-sso: cannot read the revocation feed from the store; revocations by other instances are delayed',
      recovered: 'fastify-sso: revocation feed reachable again'
    })
  }

  /** True while the feed cannot be read: revocations by other instances may be missing. */
  get failing (): boolean {
    return this.#feed.failing
  }

  /** Whether this session was logged out, or its user revoked after it was created. Synchronous. */
  isRevoked (session: RevocableSession): boolean {
    // Runs on every protected request: with nothing revoked, or no organization-scoped
    // revocation, it costs what it did before scoping existed.
    if (this.#sessions.size === 0 && this.#users.size === 0 && this.#scoped.size === 0) return false
    if (this.#sessions.has(session.id)) return true
    if (this.#users.size > 0 && this.#matches(this.#users, this.#keysOf, session, '')) return true
    const organizationId = session.user.organizationId
    return this.#scoped.size > 0 && organizationId !== undefined && this.#matches(this.#scoped, this.#scopedKeysOf, session, organizationId)
  }

  /** Whether any lookup key of the session (within `organizationId` when scoped) was revoked after it began. */
  #matches (revoked: Map<string, { at: number }>, cache: WeakMap<SsoUser, string[]>, session: RevocableSession, organizationId: string): boolean {
    let keys = cache.get(session.user)
    if (keys === undefined) {
      keys = userKeys(session.user)
      if (organizationId) keys = keys.map(key => scopedKey(organizationId, key))
      cache.set(session.user, keys)
    }
    for (const key of keys) if (revokedBefore(revoked, key, session.createdAt)) return true
    if (session.idpSessionId === undefined) return false
    const idpSession = `idp-session:${session.idpSessionId}`
    return revokedBefore(revoked, organizationId ? scopedKey(organizationId, idpSession) : idpSession, session.createdAt)
  }

  /**
   * Ends one session (logout) until `until`, when the cookie would have expired anyway. `by` says
   * who, for the audit event (default: the application).
   */
  async revokeSession (id: string, until: number, by: RevocationCause = { source: 'api' }): Promise<void> {
    await this.#publish({ kind: 'session', id, until })
    this.#audit?.emit({ type: 'session.revoked', source: by.source, ...auditUser(by.user) }, by.request)
  }

  /**
   * Ends every current session of a user (or of one IdP session), within `filter.organizationId`
   * when given. Returns false when the filter names nobody. `by` says who, for the audit event
   * (default: the application).
   */
  async revokeUser (filter: RevokeFilter, by: RevocationCause = { source: 'api' }): Promise<boolean> {
    const keys = filterKeys(filter)
    const org = filter.organizationId
    // An empty or non-string organization must not widen the revocation to every tenant.
    if (keys.length === 0 || (org !== undefined && (typeof org !== 'string' || org.length === 0))) return false
    const at = this.#now()
    // Sessions last at most the absolute timeout: after that the revocation has nothing to match.
    for (const key of keys) await this.#publish({ kind: 'user', key, at, until: at + this.#ttlMs, ...(org ? { org } : {}) })
    this.#audit?.emit({ type: 'session.revoked', source: by.source, ...auditUser(by.user), ...revokedUser(filter) }, by.request)
    return true
  }

  async #publish (entry: FeedEntry): Promise<void> {
    this.#apply(entry) // effective here at once, even before the store answers
    await this.#store.publish(feedName, JSON.stringify(entry), Math.max(1, entry.until - this.#now()))
  }

  #apply (entry: FeedEntry): void {
    if (entry.until <= this.#now()) return
    if (entry.kind === 'session') {
      this.#sessions.set(entry.id, entry.until)
      if (this.#sessions.size > maxEntries) this.#prune(this.#sessions, until => until)
    } else {
      if (entry.org !== undefined && typeof entry.org !== 'string') return // never widen a scoped entry
      const [map, key] = typeof entry.org === 'string' ? [this.#scoped, scopedKey(entry.org, entry.key)] : [this.#users, entry.key]
      const previous = map.get(key)
      if (!previous || previous.at < entry.at) map.set(key, { at: entry.at, until: entry.until })
      if (map.size > maxEntries) this.#prune(map, value => value.until)
    }
  }

  // Expired entries go first; past the bound, the ones closest to expiry.
  #prune<V> (map: Map<string, V>, until: (value: V) => number): void {
    const t = this.#now()
    for (const [key, value] of map) if (until(value) <= t) map.delete(key)
    if (map.size <= maxEntries) return
    const byExpiry = [...map].sort((a, b) => until(a[1]) - until(b[1]))
    for (const [key] of byExpiry.slice(0, map.size - maxEntries)) map.delete(key)
  }

  /** Reads revocations published since the last call (by any instance sharing the store). */
  async sync (): Promise<void> {
    await this.#feed.read()
  }

  #applyRaw (raw: string): void {
    try {
      this.#apply(JSON.parse(raw) as FeedEntry)
    } catch {
      this.#log.warn('fastify-sso: ignored a malformed revocation feed entry')
    }
  }

  /** Starts following the feed. */
  start (pollMs: number): void {
    this.#feed.start(pollMs)
  }

  stop (): void {
    this.#feed.stop()
  }
}

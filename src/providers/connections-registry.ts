/**
 * The connections `connections()` has resolved, and the provider instance built for each.
 *
 * - A lookup (`domain:acme.test`, `organization:org_acme`, `connection:acme`) is answered from
 *   memory for `cacheTtl`; concurrent misses for one lookup share one call to `resolve`.
 * - Each connection's provider instance is built on first use and kept with the connection, so
 *   its discovery document, metadata and key sets are fetched once and reused. A connection
 *   resolved again with the very same `provider` object keeps its instance.
 * - At most `maxInstances` connections are kept; the least recently used goes first, and its
 *   instance is closed. Nothing is done per connection at start-up.
 * - `invalidate(id)` drops a connection here at once and publishes the id on the store's
 *   `connections` feed, which every instance sharing the store reads every second.
 */
import { ConnectionInvalidError, ConnectionLookupError, isSsoError } from '../errors.ts'
import { randomId } from '../crypto.ts'
import { describeLookup, validateConnection, type ConnectionLookup, type SsoConnection, type ValidConnection } from './connections-validate.ts'
import { FeedFollower } from '../store/feed-follower.ts'
import type { ProviderContext, ProviderInstance } from './provider.ts'

/** How long `resolve` may take before the login is answered 503. */
export const resolveTimeoutMs = 10_000
/** How often the invalidation feed is read: the bound on how late another instance drops a connection. */
export const invalidationPollMs = 1000
/** Unknown domains and organizations are remembered at most this long (or `cacheTtl`, if shorter). */
const negativeCacheMs = 30_000
/** Lookups remembered besides the connections themselves (several domains may point at one connection). */
const lookupsPerInstance = 4
const feedName = 'connections'
/** Provider factories (by name) whose callback URL names the connection: see `#contextFor`. */
const connectionUrlProtocols: ReadonlySet<string> = new Set(['saml'])

/** A resolved connection and, once used, its provider instance. */
export interface ConnectionEntry {
  connection: ValidConnection
  /** Epoch ms after which `resolve` is asked again. */
  expiresAt: number
  instance: ProviderInstance | undefined
}

export interface RegistrySettings {
  resolve: (lookup: ConnectionLookup) => SsoConnection | null | undefined | Promise<SsoConnection | null | undefined>
  cacheTtlMs: number
  maxInstances: number
}

interface CachedLookup { id: string | null, expiresAt: number }

export class ConnectionRegistry {
  readonly #settings: RegistrySettings
  readonly #context: ProviderContext
  /** Connection id → entry, least recently used first (Map order). */
  readonly #entries = new Map<string, ConnectionEntry>()
  /** Lookup key → connection id (`null`: nothing found), oldest first. */
  readonly #lookups = new Map<string, CachedLookup>()
  /** Lookups being resolved right now: one `resolve` call each, whoever asks. */
  readonly #pending = new Map<string, Promise<ConnectionEntry | null>>()
  /** Bumped by every invalidation: a `resolve` that started before one is not cached. */
  #generation = 0
  readonly #origin = randomId()
  /** Invalidations published by the other instances sharing the store. */
  readonly #feed: FeedFollower

  constructor (settings: RegistrySettings, context: ProviderContext) {
    this.#settings = settings
    this.#context = context
    this.#feed = new FeedFollower(context.store, feedName, (raw) => {
      const entry = parseFeedEntry(raw)
      if (entry && entry.origin !== this.#origin) this.drop(entry.id)
    }, context.log, {
      failing: 'fastify-sso: cannot read connection invalidations from the store; changed connections are picked up after cacheTtl',
      recovered: 'fastify-sso: connection invalidation feed reachable again'
    })
    this.#feed.start(invalidationPollMs)
  }

  /** How many connections (and so provider instances, at most) are kept right now. */
  get size (): number {
    return this.#entries.size
  }

  /** The connection for this lookup, from memory or from `resolve`; `null` when there is none. */
  find (lookup: ConnectionLookup): Promise<ConnectionEntry | null> | ConnectionEntry | null {
    const key = lookupKey(lookup)
    const now = this.#context.now()
    const cached = this.#lookups.get(key)
    if (cached !== undefined && cached.expiresAt > now) {
      if (cached.id === null) return null
      const entry = this.#entries.get(cached.id)
      if (entry !== undefined && entry.expiresAt > now) {
        this.#touch(cached.id, entry)
        return entry
      }
    }
    let pending = this.#pending.get(key)
    if (pending === undefined) {
      pending = this.#resolve(lookup, key).finally(() => this.#pending.delete(key))
      this.#pending.set(key, pending)
    }
    return pending
  }

  /** The connection's provider instance, built on first use. */
  instance (entry: ConnectionEntry): ProviderInstance {
    if (entry.instance !== undefined) return entry.instance
    const { connection } = entry
    let instance: ProviderInstance
    try {
      instance = connection.provider.setup(this.#contextFor(connection))
    } catch (err) {
      // A wrong provider option in the app's database (a bad issuer URL…): the option error names
      // it. Not cached: the next login resolves the connection again, once the admin fixed it.
      this.#forget(connection.id, false)
      this.#context.log.error({ err, connectionId: connection.id }, 'fastify-sso: a connection\'s provider could not be set up')
      throw ConnectionInvalidError(`The single sign-on connection "${connection.id}" is misconfigured: its provider refused its options. ${(err as Error)?.message ?? ''}`.trim())
    }
    if (typeof instance?.authorizationUrl !== 'function' || typeof instance.callback !== 'function') {
      throw ConnectionInvalidError(`The single sign-on connection "${connection.id}" is misconfigured: its provider "${connection.provider.name}" did not set up a provider instance.`)
    }
    if (instance.usesState === false) {
      // The login is routed back to its connection by the state: a provider that cannot echo it
      // (a JWT IdP without stateParam) could finish any connection's login.
      throw ConnectionInvalidError(`The single sign-on connection "${connection.id}" is misconfigured: its provider "${instance.name}" does not send the login state back (for jwtProvider, set stateParam).`)
    }
    entry.instance = instance
    return instance
  }

  /**
   * What a connection's provider is set up with: the plugin's context, a logger naming the
   * connection, and for SAML the connection's own callback URL, `{prefix}/callback?connection=<id>`:
   * its ACS URL, from which the SAML provider also derives its entity id and single-logout URL, so
   * each connection has its own (and an IdP-initiated response names its connection). Redirect
   * protocols (OpenID Connect, WorkOS) keep the one redirect URI: OAuth clients send it to the
   * token endpoint without its query, and several IdPs refuse redirect URIs with one.
   */
  #contextFor (connection: ValidConnection): ProviderContext {
    // The connection id names the instance in logs and in IdP call traces (`fastify-sso:idp`).
    const shared = { ...this.#context, log: this.#context.log.child({ connectionId: connection.id }), connectionId: connection.id }
    if (!connectionUrlProtocols.has(connection.provider.name)) return shared
    const redirectUri = new URL(this.#context.redirectUri)
    redirectUri.searchParams.set('connection', connection.id)
    return { ...shared, redirectUri: redirectUri.href }
  }

  /** Forgets a connection here at once, and on every instance sharing the store within {@link invalidationPollMs}. */
  async invalidate (id: string): Promise<void> {
    this.drop(id)
    await this.#context.store.publish(feedName, JSON.stringify({ id, origin: this.#origin }), this.#settings.cacheTtlMs)
  }

  /**
   * Forgets a connection (its instance is closed), every lookup that led to it, and every
   * "nothing found": an admin who changes connections may just have added one for that domain.
   */
  drop (id: string): void {
    this.#generation++
    this.#forget(id, true)
  }

  /** Removes a connection, its instance (closed) and the lookups that led to it (and the "nothing found", with `unknown`). */
  #forget (id: string, unknown: boolean): void {
    const entry = this.#entries.get(id)
    if (entry !== undefined) {
      this.#entries.delete(id)
      void this.#close(entry)
    }
    for (const [key, cached] of this.#lookups) {
      if (cached.id === id || (unknown && cached.id === null)) this.#lookups.delete(key)
    }
  }

  /** Stops reading the feed and closes every instance (the app is closing). */
  async close (): Promise<void> {
    this.#feed.stop()
    const entries = [...this.#entries.values()]
    this.#entries.clear()
    this.#lookups.clear()
    await Promise.all(entries.map(entry => this.#close(entry)))
  }

  async #resolve (lookup: ConnectionLookup, key: string): Promise<ConnectionEntry | null> {
    const generation = this.#generation
    const answer = await this.#callResolve(lookup)
    const now = this.#context.now()
    const fresh = generation === this.#generation
    if (answer === null || answer === undefined) {
      if (fresh) this.#remember(key, { id: null, expiresAt: now + Math.min(negativeCacheMs, this.#settings.cacheTtlMs) })
      return null
    }
    let connection: ValidConnection
    try {
      connection = validateConnection(answer, lookup)
    } catch (err) {
      this.#context.log.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'fastify-sso: resolve returned a malformed connection')
      throw err
    }
    const expiresAt = now + this.#settings.cacheTtlMs
    // Invalidated while `resolve` ran: the answer may predate the change, so it serves this login only.
    if (!fresh) return { connection, expiresAt, instance: undefined }
    const entry = this.#upsert(connection, expiresAt)
    this.#remember(key, { id: connection.id, expiresAt })
    // The callback, logout and refresh find it by id: no second `resolve` for the same answer.
    this.#remember(lookupKey({ connection: connection.id }), { id: connection.id, expiresAt })
    return entry
  }

  /** `resolve` with its deadline; whatever it throws (but a coded error) is a 503. */
  async #callResolve (lookup: ConnectionLookup): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(ConnectionLookupError(`The single sign-on settings could not be read in time (resolve(${describeLookup(lookup)}) took longer than ${resolveTimeoutMs / 1000} seconds). Please try again.`)), resolveTimeoutMs)
    })
    try {
      return await Promise.race([Promise.resolve().then(() => this.#settings.resolve(lookup)), deadline])
    } catch (err) {
      if (isSsoError(err)) {
        if (err.code === ConnectionLookupError.code) this.#context.log.error({ lookup }, 'fastify-sso: connections resolve timed out')
        throw err
      }
      this.#context.log.error({ err, lookup }, 'fastify-sso: connections resolve failed')
      throw ConnectionLookupError()
    } finally {
      clearTimeout(timer)
    }
  }

  /** Stores a resolved connection; an unchanged `provider` keeps its instance, a new one replaces it. */
  #upsert (connection: ValidConnection, expiresAt: number): ConnectionEntry {
    const existing = this.#entries.get(connection.id)
    if (existing !== undefined && existing.connection.provider === connection.provider) {
      existing.connection = connection
      existing.expiresAt = expiresAt
      this.#touch(connection.id, existing)
      return existing
    }
    if (existing !== undefined) this.#close(existing)
    const entry: ConnectionEntry = { connection, expiresAt, instance: undefined }
    this.#entries.delete(connection.id)
    this.#entries.set(connection.id, entry)
    for (const [id, oldest] of this.#entries) {
      if (this.#entries.size <= this.#settings.maxInstances) break
      this.#entries.delete(id)
      this.#close(oldest)
    }
    return entry
  }

  #remember (key: string, cached: CachedLookup): void {
    this.#lookups.delete(key)
    this.#lookups.set(key, cached)
    const max = this.#settings.maxInstances * lookupsPerInstance
    for (const oldest of this.#lookups.keys()) {
      if (this.#lookups.size <= max) break
      this.#lookups.delete(oldest)
    }
  }

  /** Marks a connection as just used (Map order is the eviction order). */
  #touch (id: string, entry: ConnectionEntry): void {
    this.#entries.delete(id)
    this.#entries.set(id, entry)
  }

  /** Closes an instance that is no longer kept. Requests already holding it may still finish with it. */
  #close (entry: ConnectionEntry): Promise<void> {
    const instance = entry.instance
    entry.instance = undefined
    if (!instance?.close) return Promise.resolve()
    return instance.close().catch((err: unknown) => {
      this.#context.log.warn({ err, connectionId: entry.connection.id }, 'fastify-sso: closing a connection\'s provider failed')
    })
  }
}

function lookupKey (lookup: ConnectionLookup): string {
  if ('connection' in lookup) return `connection:${lookup.connection}`
  if ('organization' in lookup) return `organization:${lookup.organization}`
  return `domain:${lookup.domain}`
}

function parseFeedEntry (raw: string): { id: string, origin: string } | null {
  try {
    const entry = JSON.parse(raw) as { id?: unknown, origin?: unknown }
    return typeof entry.id === 'string' && typeof entry.origin === 'string' ? { id: entry.id, origin: entry.origin } : null
  } catch {
    return null
  }
}

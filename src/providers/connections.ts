/**
 * Many customer IdPs in one registration: `connections({ resolve })` looks the customer's
 * connection up in the app's own database at login time and hands the flow to that
 * connection's provider (`oidcProvider`, `workosSso`, `samlProvider`… any factory). It knows the
 * other providers only through the provider interface.
 *
 * Tenant binding, each rule deliberate (other libraries shipped cross-tenant takeovers here):
 * - The transaction (encrypted, in the browser's transaction cookie) carries the connection id
 *   chosen at `/login`; only that connection's provider may finish the callback. A callback that
 *   names another connection is refused (401) before any code is exchanged.
 * - `user.organizationId` and `user.connectionId` come from the connection, never from the IdP's
 *   claims (an `org_id` the tenant's IdP sends is dropped).
 * - The IdP may only sign in emails of the connection's `domains` (verified by the app). Any
 *   other email is refused (403), or with `allowGuestDomains` signed in as a guest:
 *   `emailVerified: false`, `claims.guest: true`.
 * - `user.id` is `<connection id>:<the IdP's subject>`: two tenants' IdPs can never produce the
 *   same user id, however they choose their subjects. The IdP session id kept for back-channel
 *   logout is scoped the same way, so one tenant's IdP can only end its own users' sessions.
 * - The connection id also rides in the session's provider state: logout goes to the end-session
 *   endpoint of the connection the session came from, and refresh to its provider.
 * - Back-channel logout is routed by URL: each IdP is given
 *   `{baseUrl}{prefix}/backchannel-logout?connection=<id>`, and the token must then verify
 *   against that connection's own issuer and keys.
 */
import {
  ConnectionDisabledError, ConnectionMismatchError, EmailDomainNotAllowedError, InvalidCallbackError, InvalidLoginRequestError,
  NoAccessTokenError, RoutingRequiredError, SamlMetadataNotFoundError, StateMismatchError, TokenRejectedError, TransactionMissingError, UnknownConnectionError,
  UnknownDomainError, BackchannelLogoutError, type SsoError
} from '../errors.ts'
import { optionError, optionsObject, positiveInteger } from '../option-checks.ts'
import { safeEqual } from '../crypto.ts'
import type { RawUser, SsoUser } from '../user.ts'
import { emailDomain } from './kit/login-hint.ts'
import { ConnectionRegistry, type ConnectionEntry, type RegistrySettings } from './connections-registry.ts'
import { isConnectionId, lookupOf, type ConnectionLookup, type SsoConnection, type ValidConnection } from './connections-validate.ts'
import { callbackState, stepUpRoutingKeys } from './provider.ts'
import type {
  BackchannelRequest, CallbackRequest, LoginRequest, LoginTransaction, ProviderContext, ProviderInstance, ProviderSession,
  Refreshed, RestartLogin, SignIn, SsoProvider
} from './provider.ts'

/**
 * Options of {@link connections}.
 *
 * @example
 * ```ts
 * const options: ConnectionsOptions = {
 *   resolve: async (by) => db.findConnection(by), // { domain } | { organization } | { connection } → SsoConnection | null
 *   cacheTtl: 300,
 * }
 * ```
 */
export interface ConnectionsOptions {
  /**
   * Finds a connection: by the email domain of a login (`{ domain: 'acme.com' }`), by
   * organization (`{ organization: 'org_acme' }`) or by id (`{ connection: 'acme' }`). Returns the
   * connection, or `null` when there is none. Throwing, or taking longer than 10 s, answers the
   * login 503 (`FST_SSO_CONNECTION_LOOKUP_FAILED`).
   */
  resolve: (by: ConnectionLookup) => SsoConnection | null | undefined | Promise<SsoConnection | null | undefined>
  /** Seconds a resolved connection (and the provider instance built from it) is reused (default 300). */
  cacheTtl?: number
  /** Connections kept in memory with their provider instances; the least recently used go first (default 1,000). */
  maxInstances?: number
}

export type { ConnectionLookup, SsoConnection } from './connections-validate.ts'

/** `user.provider` of every user signed in through a connection (`user.connectionType` names the protocol). */
const providerName = 'connections'
const knownOptions = ['resolve', 'cacheTtl', 'maxInstances']
/** The transaction's routing key for the connection id; the connection's own routing keys get a prefix. */
const routingKey = 'connection'
const innerRoutingPrefix = 'provider.'
/** The provider state key for the connection id. */
const sessionKey = 'connectionId'
/** Routing parameters of `connections()` itself, not passed on to a connection's provider. */
const ownParams = new Set(['connection', 'organization'])

/**
 * A provider that serves many customers, each through their own identity provider.
 *
 * @example
 * ```ts
 * import ssoPlugin, { connections, oidcProvider } from 'fastify-sso'
 *
 * await app.register(ssoPlugin, {
 *   baseUrl: 'https://app.example.com',
 *   session: { secret: process.env.SESSION_SECRET },
 *   provider: connections({
 *     // Called at login time: { domain } | { organization } | { connection } → a connection or null.
 *     resolve: async (by) => {
 *       const row = await db.ssoConnections.find(by)
 *       return row && {
 *         id: row.id,
 *         organizationId: row.tenantId,
 *         domains: row.verifiedDomains,
 *         provider: oidcProvider({ issuer: row.issuer, clientId: row.clientId, clientSecret: row.clientSecret }),
 *       }
 *     },
 *     cacheTtl: 300,
 *   }),
 * })
 * // <form action="/auth/login"><input name="email"></form>: alice@acme.com signs in at Acme's IdP.
 * ```
 */
export function connections (options: ConnectionsOptions): SsoProvider {
  return {
    name: providerName,
    setup: (context) => new ConnectionsProvider(validate(options), context)
  }
}

function validate (options: ConnectionsOptions): RegistrySettings {
  optionsObject('connections', options, knownOptions, '{ resolve }')
  if (typeof options.resolve !== 'function') {
    throw optionError('connections.resolve', 'is required: async (by) => db.findConnection(by), where by is { domain } | { organization } | { connection }.')
  }
  return {
    resolve: options.resolve,
    cacheTtlMs: positiveInteger('connections.cacheTtl', options.cacheTtl, 300, 'seconds') * 1000,
    maxInstances: positiveInteger('connections.maxInstances', options.maxInstances, 1000, 'connections')
  }
}

class ConnectionsProvider implements ProviderInstance {
  readonly name = providerName
  // Connections speak different protocols: OIDC answers with a GET and `state`, SAML posts `RelayState`.
  readonly callbackMethods = ['GET', 'POST'] as const
  readonly stateParam = ['state', 'RelayState'] as const
  readonly usesState = true
  // Only for a connection whose own provider accepts them, named by `?connection=` (see callback).
  readonly acceptsUnsolicited = true
  readonly #registry: ConnectionRegistry
  /** The routing `loginRouting` returned last and its connection (see authorizationUrl). */
  #lastRouted: { routing: object, entry: ConnectionEntry } | undefined

  constructor (settings: RegistrySettings, context: ProviderContext) {
    this.#registry = new ConnectionRegistry(settings, context)
  }

  loginRouting (login: LoginRequest): Promise<Record<string, string>> | Record<string, string> {
    const lookup = lookupOf(login.query)
    const found = this.#registry.find(lookup)
    // A cached connection is routed synchronously: no promise on the usual login's path.
    return found instanceof Promise ? found.then(entry => this.#route(login, lookup, entry)) : this.#route(login, lookup, found)
  }

  /** The transaction's routing for a found connection: its id, and its provider's own routing. */
  #route (login: LoginRequest, lookup: ConnectionLookup, found: ConnectionEntry | null): Promise<Record<string, string>> | Record<string, string> {
    const entry = enabled(found, lookup)
    if ('connection' in lookup && login.query.organization !== undefined && login.query.organization !== entry.connection.organizationId) {
      throw InvalidLoginRequestError('The sign-in link names a connection of another organization than the one it names.')
    }
    const inner = this.#registry.instance(entry)
    const scoped: Record<string, string> = { connection: entry.connection.id } // routingKey
    // The plugin puts this very object in the transaction it hands to authorizationUrl next: that
    // call finds the entry here instead of looking the connection up again (compared by identity,
    // so another login in between only costs the lookup).
    this.#lastRouted = { routing: scoped, entry }
    if (!inner.loginRouting) return scoped
    return Promise.resolve(inner.loginRouting(innerLogin(login))).then(routing => {
      for (const [key, value] of Object.entries(routing)) scoped[innerRoutingPrefix + key] = value
      return scoped
    })
  }

  async authorizationUrl (transaction: LoginTransaction, login: LoginRequest): Promise<URL> {
    const last = this.#lastRouted
    const entry = last?.routing === transaction.routing ? last.entry : await this.#forTransaction(transaction)
    return this.#registry.instance(entry).authorizationUrl(innerTransaction(transaction), innerLogin(login))
  }

  async callback (request: CallbackRequest): Promise<SignIn | RestartLogin> {
    const named = request.url.searchParams.get('connection')
    const { transaction } = request
    let entry: ConnectionEntry
    let inner: ProviderInstance
    if (transaction) {
      // The connection the login was started for, from the encrypted transaction: never from the URL.
      if (named !== null && named !== transaction.routing[routingKey]) {
        throw ConnectionMismatchError('This answer names another single sign-on connection than the one this sign-in was started for.')
      }
      entry = await this.#forTransaction(transaction)
      inner = this.#registry.instance(entry)
      if (!carriesState(request.params, inner.stateParam, transaction.state)) {
        throw StateMismatchError('The identity provider\'s answer does not carry the login state where this connection\'s protocol puts it.')
      }
    } else {
      // Unsolicited (IdP-initiated): only a connection named in the URL whose provider accepts them.
      if (named === null || !isConnectionId(named)) throw TransactionMissingError()
      entry = await this.#enabled({ connection: named })
      inner = this.#registry.instance(entry)
      if (inner.acceptsUnsolicited !== true) throw TransactionMissingError()
    }
    const methods = inner.callbackMethods ?? ['GET']
    if (!methods.includes(request.method)) {
      throw InvalidCallbackError(`This connection's identity provider answers with ${methods.join(' or ')}, not ${request.method}.`)
    }
    const outcome = await inner.callback({ ...request, transaction: transaction && innerTransaction(transaction) })
    const { connection } = entry
    if ('restart' in outcome) {
      const restart: Record<string, string> = { [routingKey]: connection.id }
      for (const [key, value] of Object.entries(outcome.restart)) restart[innerRoutingPrefix + key] = value
      return { restart }
    }
    return {
      ...outcome,
      user: bindUser(outcome.user, connection, entry.connection.provider.name),
      session: scopedSession(outcome.session, connection.id)
    }
  }

  async refresh (session: ProviderSession, user: SsoUser): Promise<Refreshed> {
    const entry = await this.#enabled({ connection: connectionOf(session) })
    const inner = this.#registry.instance(entry)
    const own = innerSession(session, entry.connection.id)
    if (!inner.refresh) {
      const { expiresAt: _nothingToRenew, ...kept } = session
      return { session: kept }
    }
    const refreshed = await inner.refresh(own, { ...user, id: unscoped(user.id, entry.connection.id) })
    return {
      session: scopedSession(refreshed.session, entry.connection.id)!,
      ...(refreshed.user ? { user: bindUser(refreshed.user, entry.connection, entry.connection.provider.name) } : {})
    }
  }

  /**
   * Tokens on request (`app.sso.accessToken()`) for a connection whose provider keeps them
   * (`oidcProvider({ tokens: true })`): renewed by the session's own connection.
   */
  async refreshTokens (state: ProviderSession): Promise<ProviderSession> {
    const entry = await this.#enabled({ connection: connectionOf(state) })
    const inner = this.#registry.instance(entry)
    if (!inner.refreshTokens) throw NoAccessTokenError(`The connection ${entry.connection.id} keeps no tokens: give its oidcProvider tokens: true.`)
    return await inner.refreshTokens(innerSession(state, entry.connection.id))
  }

  /** Revokes a session's kept tokens at its connection's IdP (at logout). */
  async revokeTokens (state: ProviderSession): Promise<void> {
    const id = state[sessionKey]
    if (typeof id !== 'string' || !isConnectionId(id)) return
    const entry = await this.#registry.find({ connection: id })
    if (!entry) return
    await this.#registry.instance(entry).revokeTokens?.(innerSession(state, id))
  }

  async logoutUrl (session: ProviderSession | undefined, postLogoutRedirectUri: string): Promise<URL | null> {
    const id = session?.[sessionKey]
    if (typeof id !== 'string' || !isConnectionId(id)) return null
    const entry = await this.#registry.find({ connection: id })
    if (!entry) return null
    const inner = this.#registry.instance(entry)
    return await inner.logoutUrl?.(innerSession(session!, id), postLogoutRedirectUri) ?? null
  }

  async verifyLogoutToken (token: string, request: BackchannelRequest): Promise<{ jti: string, exp: number, sid?: string, sub?: string }> {
    const id = request.query.connection
    if (id === undefined || !isConnectionId(id)) {
      throw BackchannelLogoutError('Register the back-channel logout URL with the connection at the identity provider: …/backchannel-logout?connection=<connection id>.')
    }
    const entry = await this.#registry.find({ connection: id })
    if (!entry) throw BackchannelLogoutError(`There is no single sign-on connection ${id}.`)
    const inner = this.#registry.instance(entry)
    if (!inner.verifyLogoutToken) throw BackchannelLogoutError(`The connection ${id} does not support back-channel logout.`)
    const claims = await inner.verifyLogoutToken(token, { query: {} })
    // Scoped like the ids in the sessions, so a token can only name this connection's users.
    return {
      jti: scoped(id, claims.jti),
      exp: claims.exp,
      ...(claims.sid !== undefined ? { sid: scoped(id, claims.sid) } : {}),
      ...(claims.sub !== undefined ? { sub: scoped(id, claims.sub) } : {})
    }
  }

  async samlMetadata (login: LoginRequest): Promise<string> {
    const id = login.query.connection
    if (id === undefined) throw RoutingRequiredError('Name the connection whose SAML metadata you need: …/saml/metadata?connection=<connection id>.')
    if (!isConnectionId(id)) throw InvalidLoginRequestError('The connection in the metadata link is not a connection id.')
    const entry = await this.#registry.find({ connection: id })
    if (!entry) throw notFound({ connection: id })
    // Served for a disabled connection too: its IdP is being set up before it is switched on.
    const inner = this.#registry.instance(entry)
    if (!inner.samlMetadata) throw SamlMetadataNotFoundError(`The connection ${id} does not use SAML, so it has no SAML metadata.`)
    return inner.samlMetadata(innerLogin(login))
  }

  /**
   * A SAML LogoutResponse at `{prefix}/saml/logout?connection=<id>` (each SAML connection's
   * single-logout URL names it): checked by that connection's provider.
   */
  async samlLogoutResponse (message: Omit<CallbackRequest, 'transaction'>): Promise<void> {
    const id = message.url.searchParams.get('connection')
    if (id === null || !isConnectionId(id)) throw InvalidCallbackError('This logout answer names no single sign-on connection (…/saml/logout?connection=<connection id>).')
    const entry = await this.#registry.find({ connection: id })
    if (!entry) throw notFound({ connection: id })
    const inner = this.#registry.instance(entry)
    if (!inner.samlLogoutResponse) throw InvalidCallbackError(`The connection ${id} does not use SAML single logout.`)
    await inner.samlLogoutResponse(message)
  }

  async invalidateConnection (id: string): Promise<void> {
    await this.#registry.invalidate(id)
  }

  async close (): Promise<void> {
    await this.#registry.close()
  }

  /** A connection that exists and is switched on, or the coded refusal. */
  async #enabled (lookup: ConnectionLookup): Promise<ConnectionEntry> {
    return enabled(await this.#registry.find(lookup), lookup)
  }

  /** The connection a transaction was started for. */
  async #forTransaction (transaction: LoginTransaction): Promise<ConnectionEntry> {
    const id = transaction.routing[routingKey]
    if (id === undefined || !isConnectionId(id)) throw StateMismatchError('This sign-in was not started through a single sign-on connection. Please sign in again.')
    return await this.#enabled({ connection: id })
  }
}

/** The entry, if it exists and is switched on; otherwise the coded refusal. */
function enabled (entry: ConnectionEntry | null, lookup: ConnectionLookup): ConnectionEntry {
  if (!entry) throw notFound(lookup)
  if (!entry.connection.enabled) {
    throw ConnectionDisabledError('Single sign-on is switched off for your organization. Ask your administrator, or sign in another way.')
  }
  return entry
}

/** The refusal for a lookup that found nothing, naming what was not found. */
function notFound (lookup: ConnectionLookup): SsoError {
  if ('domain' in lookup) {
    return UnknownDomainError(`Single sign-on is not set up for ${lookup.domain}. Check the email address, or ask your administrator to set up single sign-on for this domain.`)
  }
  if ('organization' in lookup) return UnknownConnectionError(`Single sign-on is not set up for the organization ${lookup.organization}.`)
  return UnknownConnectionError(`There is no single sign-on connection ${lookup.connection}.`)
}

/**
 * The signed-in user as this connection vouches for it. The IdP's claims say who the user is;
 * the connection says which tenant they belong to and which emails the IdP may assert.
 */
function bindUser (user: RawUser, connection: ValidConnection, protocol: string): RawUser {
  if (typeof user.id !== 'string' || user.id.length === 0) throw TokenRejectedError('The identity provider sent no user id.')
  const domain = emailDomain(user.email)
  const member = domain !== undefined && connection.domains.includes(domain)
  if (!member && !connection.allowGuestDomains) {
    throw EmailDomainNotAllowedError(`Your identity provider signed you in as ${user.email ? `an address at ${domain ?? 'an unknown domain'}` : 'a user without an email address'}, which does not belong to this organization's single sign-on. Sign in with your work account.`)
  }
  return {
    ...user,
    // Unique across tenants: two IdPs that pick the same subject for different people must never
    // make one user. The IdP's own subject stays readable as `idpId` (what SCIM's externalId and
    // directory sync match on).
    id: scoped(connection.id, user.id),
    idpId: user.idpId ?? user.id,
    // Inside a domain the app verified for this tenant, its IdP is the authority on the address
    // (unless it says otherwise); a guest's address is only what that IdP asserts.
    emailVerified: member ? user.emailVerified !== false : false,
    organizationId: connection.organizationId,
    connectionId: connection.id,
    connectionType: protocol,
    ...(member ? {} : { claims: { ...user.claims, guest: true } })
  }
}

/** Whether the callback carries the transaction's state where the connection provider's protocol puts it. */
function carriesState (params: Readonly<Record<string, string>>, stateParam: string | readonly string[] | undefined, state: string): boolean {
  const carried = callbackState(params, stateParam)
  return carried !== undefined && safeEqual(carried, state)
}

/** The login as the connection's provider sees it: without connections' own routing parameters. */
function innerLogin (login: LoginRequest): LoginRequest {
  if (login.query.connection === undefined && login.query.organization === undefined) return login // the usual login: by email
  const query: Record<string, string> = {}
  for (const [key, value] of Object.entries(login.query)) if (!ownParams.has(key)) query[key] = value
  return { query }
}

/** The transaction as the connection's provider sees it: its own routing keys only. */
function innerTransaction (transaction: LoginTransaction): LoginTransaction {
  let routing: Record<string, string> | undefined
  for (const key in transaction.routing) {
    if (key.startsWith(innerRoutingPrefix)) (routing ??= {})[key.slice(innerRoutingPrefix.length)] = transaction.routing[key]!
    // What the plugin adds for a step-up login (see LoginTransaction.routing) reaches the connection's provider as is.
    else if (stepUpRoutingKeys.includes(key)) (routing ??= {})[key] = transaction.routing[key]!
  }
  return { ...transaction, routing: routing ?? noRouting }
}

/** The routing of a connection whose provider chose none (OpenID Connect): shared, frozen. */
const noRouting: Record<string, string> = Object.freeze({}) as Record<string, string>

/** The provider state kept in the session: the connection's own, the connection id, the IdP session id scoped. */
function scopedSession (session: ProviderSession | undefined, id: string): ProviderSession | undefined {
  const scopedState: ProviderSession = { ...session, [sessionKey]: id }
  if (typeof scopedState.sid === 'string') scopedState.sid = scoped(id, scopedState.sid)
  return scopedState
}

/** The provider state as the connection's provider kept it. */
function innerSession (session: ProviderSession, id: string): ProviderSession {
  const { [sessionKey]: _id, ...own } = session
  if (typeof own.sid === 'string') own.sid = unscoped(own.sid, id)
  return own
}

function connectionOf (session: ProviderSession): string {
  const id = session[sessionKey]
  if (typeof id !== 'string' || !isConnectionId(id)) throw UnknownConnectionError('This session was not started through a single sign-on connection.')
  return id
}

function scoped (id: string, value: string): string {
  return `${id}:${value}`
}

function unscoped (value: string, id: string): string {
  return value.startsWith(`${id}:`) ? value.slice(id.length + 1) : value
}

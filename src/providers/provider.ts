/**
 * The one interface every identity provider implements.
 *
 * A provider knows its IdP and nothing about Fastify replies or cookies: the plugin owns the
 * transaction, the session, returnTo and error pages; the provider turns a login into a URL and
 * a callback into a user, or throws a coded error (`errors.ts`). Any other exception it lets
 * escape is treated as an IdP failure (502), never shown to the user.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { SsoStore } from '../store/store.ts'
import type { RawUser, SsoUser } from '../user.ts'

/** One pending login, kept encrypted in the browser's transaction cookie between /login and /callback. */
export interface LoginTransaction {
  /** Random, single-use; echoed by the IdP and matched at the callback (CSRF protection). */
  state: string
  /** Random; bound into the ID token (OIDC replay protection). */
  nonce: string
  /** PKCE S256 code verifier (the challenge derived from it goes to the IdP). */
  codeVerifier: string
  /** Same-origin path to land on after the login. */
  returnTo: string
  /** Epoch milliseconds after which the callback is refused. */
  expiresAt: number
  /**
   * Provider routing chosen at /login (organization, connection…), checked again at the callback.
   * The plugin adds `max_age` and `acr_values` (OIDC's names) for a step-up login
   * (`requireUser({ maxAge, acr })`): a provider that can ask its IdP for them does, and the plugin
   * checks the new session's `authTime` / `acr` against them whatever the provider did.
   */
  routing: Record<string, string>
}

/** The routing keys the plugin adds to a step-up login's transaction (see {@link LoginTransaction.routing}). */
export const stepUpRoutingKeys: readonly string[] = ['max_age', 'acr_values']

/** What every provider gets from the plugin when it is set up, once, at register. */
export interface ProviderContext {
  /** The app's public origin (`baseUrl`), never derived from the request's Host. */
  baseUrl: URL
  /** `baseUrl + prefix + '/callback'`: the redirect URI registered at the IdP. */
  redirectUri: string
  /** The shared store (single-use caches, refresh locks). */
  store: SsoStore
  /** The Fastify logger (never log tokens or secrets). */
  log: FastifyBaseLogger
  /** Clock in epoch milliseconds (injectable for tests). */
  now: () => number
  /** The connection this instance serves, when the app has many; reported with its IdP calls' traces. */
  connectionId?: string
}

/** The parts of `GET /login` a provider may use. */
export interface LoginRequest {
  /** Query parameters, each present at most once (repeated parameters are dropped). */
  query: Readonly<Record<string, string>>
}

/** The parts of `POST {prefix}/backchannel-logout` a provider may use besides the token. */
export interface BackchannelRequest {
  /** Query parameters of the back-channel URL (e.g. `?connection=<id>`), each present at most once. */
  query: Readonly<Record<string, string>>
}

/** The parts of the callback a provider may use. */
export interface CallbackRequest {
  method: 'GET' | 'POST'
  /** Query parameters (GET) or form fields (POST), each present at most once. */
  params: Readonly<Record<string, string>>
  /**
   * The callback URL as the IdP sent the browser to it: `redirectUri` plus the request's query
   * string. Built from configuration, never from the Host header.
   */
  url: URL
  /** The matching pending login, or `null` for an unsolicited (IdP-initiated) callback. */
  transaction: LoginTransaction | null
}

/**
 * Small provider state kept in the session (a few short strings): what refresh and logout
 * need, such as a WorkOS session id or a refresh token. `expiresAt` (epoch ms), when set,
 * makes the guard call `refresh()` once it has passed.
 */
export interface ProviderSession {
  expiresAt?: number
  /** When the user authenticated at the IdP (epoch seconds, OIDC `auth_time`): `requireUser({ maxAge })` reads it. */
  authTime?: number
  /** How they authenticated (OIDC `acr`): `requireUser({ acr })` reads it. */
  acr?: string
  [key: string]: string | number | boolean | undefined
}

/** A finished login. */
export interface SignIn {
  user: RawUser
  session?: ProviderSession
  /**
   * Provider state kept server-side, never in the cookie (e.g. the ID token for logout): in the
   * store, sealed with the session keys, under the new session's id (`provider-state-store.ts`).
   * Given back merged into the provider state that `logoutUrl` receives. When the store cannot
   * take it, the login goes on without it. Tokens for `app.sso.accessToken()` go here, under these
   * names: `accessToken`, `accessTokenExpiresAt` and `accessTokenIssuedAt` (epoch ms), `refreshToken`.
   */
  secrets?: ProviderSession
  /**
   * Where the IdP asks to land (e.g. a JWT IdP's `redirect` parameter). Used only for an
   * unsolicited login (no transaction, so no returnTo of our own), and only if `safeReturnTo`
   * accepts it.
   */
  returnTo?: string
}

/**
 * Instead of signing in, start a fresh SP-initiated login with this routing (how IdP-initiated
 * logins are made safe: every session still comes from a flow that carries our own state).
 */
export interface RestartLogin {
  restart: Record<string, string>
}

/** What `refresh()` returns: the new provider state and, when the IdP says so, a changed profile. */
export interface Refreshed {
  session: ProviderSession
  user?: RawUser
}

/** A provider, set up for one app. */
export interface ProviderInstance {
  /** Goes into `user.provider`. */
  readonly name: string
  /** HTTP methods the callback accepts (default GET only). */
  readonly callbackMethods?: ReadonlyArray<'GET' | 'POST'>
  /**
   * Whether the IdP echoes our `state` (default true). A provider whose IdP cannot (some JWT
   * redirect IdPs) gets the browser's newest pending transaction instead.
   */
  readonly usesState?: boolean
  /**
   * The callback parameter that carries the state back (default `state`). Several names (e.g.
   * `['state', 'RelayState']` for `connections()`, whose IdPs speak different protocols): the
   * first one present in the callback is used.
   */
  readonly stateParam?: string | readonly string[]
  /** Whether a callback without a transaction is passed to `callback()` instead of refused. */
  readonly acceptsUnsolicited?: boolean
  /** Validates `/login`'s routing parameters; returns the routing to keep in the transaction. */
  loginRouting?(login: LoginRequest): Promise<Record<string, string>> | Record<string, string>
  /** Where to send the browser. */
  authorizationUrl(transaction: LoginTransaction, login: LoginRequest): Promise<URL>
  /** Turns the callback into a user (or a restart), or throws a coded error. */
  callback(request: CallbackRequest): Promise<SignIn | RestartLogin>
  /** Renews provider state after `session.expiresAt`; throwing signs the user out. */
  refresh?(session: ProviderSession, user: SsoUser): Promise<Refreshed>
  /**
   * Tokens on request (`app.sso.accessToken()`): given the session's provider state with its
   * secret part merged in (`SignIn.secrets`), renews the access token at the IdP and returns the
   * new secret state to keep (a rotated refresh token replacing the old one). Throws
   * `RefreshRefusedError` when the IdP refuses the refresh (the session then ends); any other
   * error leaves the session as it is. Present only on providers that keep tokens.
   */
  refreshTokens?(state: ProviderSession): Promise<ProviderSession>
  /** At logout, best effort: revokes the tokens kept in `state` at the IdP (the refresh token when there is one). */
  revokeTokens?(state: ProviderSession): Promise<void>
  /** The IdP's end-session URL, or `null` to log out locally only. */
  logoutUrl?(session: ProviderSession | undefined, postLogoutRedirectUri: string): Promise<URL | null>
  /**
   * OpenID Connect back-channel logout: validates a `logout_token` (signature, issuer, audience,
   * events claim, no nonce, `sid` and/or `sub`) and says whose sessions to end. Throws a coded
   * error (`BackchannelLogoutError`) for an invalid token. The plugin checks `jti` reuse itself.
   */
  verifyLogoutToken?(token: string, request: BackchannelRequest): Promise<{ jti: string, exp: number, sid?: string, sub?: string }>
  /**
   * A WorkOS Admin Portal link for an organization's IT admin (`app.sso.adminPortalLink()`):
   * only WorkOS providers have one. Arguments are already checked; throws a coded error.
   */
  adminPortalLink?(request: AdminPortalRequest): Promise<string>
  /**
   * `connections()` only: forgets a cached connection at once (`app.sso.invalidateConnection(id)`),
   * here and, through the store's feed, on every instance sharing the store.
   */
  invalidateConnection?(id: string): Promise<void>
  /** Releases timers and connections when the app closes. */
  close?(): Promise<void>
  // ── SAML service providers (the plugin mounts these routes only when the provider has them) ──
  /** The SP metadata XML served at `GET {prefix}/saml/metadata` (the query may name a connection). */
  samlMetadata?(login: LoginRequest): Promise<string>
  /**
   * The IdP's LogoutResponse at `GET|POST {prefix}/saml/logout`. The session is already ended
   * when it arrives; resolving sends the browser to `logoutRedirect`, throwing shows the error.
   */
  samlLogoutResponse?(message: Omit<CallbackRequest, 'transaction'>): Promise<void>
}

/**
 * The login state a callback carries under a provider's `stateParam`: that parameter, or the first
 * present of its several (default `state`).
 *
 * @example
 * ```ts
 * callbackState({ RelayState: 'abc' }, ['state', 'RelayState']) // 'abc'
 * ```
 */
export function callbackState (params: Readonly<Record<string, string>>, stateParam: string | readonly string[] = 'state'): string | undefined {
  if (typeof stateParam === 'string') return params[stateParam]
  for (const name of stateParam) if (params[name] !== undefined) return params[name]
  return undefined
}

/**
 * What the Admin Portal opens on (the WorkOS `intent`).
 *
 * @example
 * ```ts
 * const intent: AdminPortalIntent = 'dsync' // set up directory sync
 * ```
 */
export type AdminPortalIntent = 'sso' | 'dsync' | 'domain_verification' | 'audit_logs' | 'log_streams'

/**
 * The checked arguments of `app.sso.adminPortalLink()`; `returnUrl` is absolute, on the app's origin.
 *
 * @example
 * ```ts
 * const request: AdminPortalRequest = { organizationId: 'org_01H…', intent: 'sso', returnUrl: 'https://app.example.com/settings' }
 * ```
 */
export interface AdminPortalRequest {
  organizationId: string
  intent: AdminPortalIntent
  returnUrl?: string
}

/**
 * What the provider factories (`oidcProvider()`, `workosSso()`…) return. The options are
 * checked when the plugin registers, so a wrong one fails `ready()` with a coded error.
 */
export interface SsoProvider {
  readonly name: string
  setup(context: ProviderContext): ProviderInstance
}

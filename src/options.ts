/**
 * Validates and normalises the plugin's options once, at register. A wrong option fails
 * `ready()` with `FST_SSO_INVALID_OPTION` and a message that names the option and the fix.
 */
import type { FastifyRequest } from 'fastify'
import { functionOption, oneOf, optionError, parseHttpUrl, positiveInteger, rejectUnknownKeys, routePath } from './option-checks.ts'
import { safeReturnTo } from './return-to.ts'
import { deriveKey } from './crypto.ts'
import { defaultCookieName, sessionCookie, type CookieSpec } from './cookies.ts'
import type { SsoProvider } from './providers/provider.ts'
import { validateStore, type SsoStore } from './store/store.ts'
import type { SsoUser } from './user.ts'

/** Session cookie options (`session` in {@link SsoPluginOptions}). */
export interface SessionOptions {
  /** A random string of at least 32 characters; the encryption key is derived from it (HKDF-SHA256). */
  secret?: string
  /** A 32-byte key (Buffer or base64 string), e.g. from `npx @fastify/secure-session > key`. */
  key?: string | Buffer
  /** Several 32-byte keys for rotation: the first encrypts, all decrypt; cookies under an older key are re-issued. */
  keys?: Array<string | Buffer>
  /** Cookie name (default `__Host-sso` over https, `sso` on http localhost). The transaction cookie adds `-tx`. */
  cookieName?: string
  /** Seconds without activity after which the session ends (default 8 h). */
  idleTimeout?: number
  /** Seconds after sign-in after which the session ends whatever the activity (default 7 days). */
  absoluteTimeout?: number
  /** SameSite attribute of the session cookie (default `lax`; `none` requires https). */
  sameSite?: 'lax' | 'strict' | 'none'
  /** Keep sessions server-side: the cookie then holds only a random session id. */
  store?: SsoStore
}

/** What `onLogin` may return: the user (possibly changed), `false` to deny, or nothing to accept. */
export type OnLoginResult = SsoUser | boolean | undefined | void

/** Options of the `fastify-sso` plugin. docs/configuration.md describes every option with an example. */
export interface SsoPluginOptions {
  /** Public origin of the app (`https://app.example.com`); never derived from the Host header. */
  baseUrl: string
  /** Mount point of `/login`, `/callback` and `/logout` (default `/auth`). */
  prefix?: string
  /** `oidcProvider()`, `workosSso()`, `workosAuthKit()`, `jwtProvider()` or `samlProvider()`. */
  provider: SsoProvider
  /** Session cookie: a `secret`, `key` or `keys`, and its timeouts. */
  session: SessionOptions
  /** Shared state across instances (`redisStore()`); default: bounded in-process memory. */
  store?: SsoStore
  /** Called after every successful login: return a changed user, or `false` / throw to deny (403). */
  onLogin?: (user: SsoUser, request: FastifyRequest) => OnLoginResult | Promise<OnLoginResult>
  /** Where to land after login when `returnTo` is absent or unsafe (default `/`). */
  defaultReturnTo?: string
  /** Where to land after logout (default `/`); sent to the IdP as `post_logout_redirect_uri`. */
  logoutRedirect?: string
  /** Send failed logins to this path with `?error=<FST_SSO_code>` instead of rendering the error page. */
  errorRedirect?: string
  /** Request property that holds the user (default `user`). */
  decorator?: string
  /** When the store fails: `closed` (default) answers 503 on protected routes; `open` lets requests through. */
  storeFailure?: 'closed' | 'open'
  /** Clock in epoch milliseconds; for tests of the timeouts. */
  now?: () => number
}

/** The options after validation: every default applied, every value checked. */
export interface ResolvedOptions {
  baseUrl: URL
  https: boolean
  prefix: string
  redirectUri: string
  provider: SsoProvider
  keys: Buffer[]
  cookieName: string
  /** The session cookie's name and attributes. */
  sessionCookie: CookieSpec
  idleTimeoutMs: number
  absoluteTimeoutMs: number
  sameSite: 'lax' | 'strict' | 'none'
  sessionStore: SsoStore | undefined
  store: SsoStore | undefined
  onLogin: SsoPluginOptions['onLogin']
  defaultReturnTo: string
  logoutRedirect: string
  errorRedirect: string | undefined
  decorator: string
  storeFailure: 'closed' | 'open'
  now: () => number
}

const pluginKeys = [
  'baseUrl', 'prefix', 'provider', 'session', 'store', 'onLogin', 'defaultReturnTo',
  'logoutRedirect', 'errorRedirect', 'decorator', 'storeFailure', 'now'
]
const sessionKeys = ['secret', 'key', 'keys', 'cookieName', 'idleTimeout', 'absoluteTimeout', 'sameSite', 'store']

function validateBaseUrl (value: unknown): URL {
  const url = parseHttpUrl('baseUrl', value)
  if (url.pathname !== '/' || url.search || url.hash) {
    throw optionError('baseUrl', `must be an origin without a path, query or fragment, such as ${url.origin} (got ${JSON.stringify(value)}). Use \`prefix\` to move the auth routes.`)
  }
  return new URL(url.origin)
}

function validateSameOriginPath (option: string, value: unknown, fallback: string, baseUrl: URL): string {
  if (value === undefined) return fallback
  let candidate = value
  if (typeof value === 'string' && /^https?:\/\//i.test(value)) {
    let url: URL | undefined
    try { url = new URL(value) } catch {}
    if (!url || url.origin !== baseUrl.origin) throw optionError(option, `must be a path under baseUrl (${baseUrl.origin}), such as /dashboard (got ${JSON.stringify(value)}).`)
    candidate = url.pathname + url.search + url.hash
  }
  const safe = safeReturnTo(candidate, baseUrl, '\u0000')
  if (safe === '\u0000') throw optionError(option, `must be a same-origin path such as /dashboard (got ${JSON.stringify(value)}).`)
  return safe
}

function toKey (option: string, value: unknown): Buffer {
  const key = typeof value === 'string' ? Buffer.from(value, 'base64') : value
  if (!Buffer.isBuffer(key) || key.length !== 32) {
    throw optionError(option, 'must be 32 bytes: a Buffer, or a base64 string of 32 bytes (generate one with `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`).')
  }
  return key
}

function validateKeys (session: SessionOptions): Buffer[] {
  const given = ['secret', 'key', 'keys'].filter(name => session[name as keyof SessionOptions] !== undefined)
  if (given.length === 0) {
    throw optionError('session.secret', 'is required (or session.key / session.keys): a random string of at least 32 characters, e.g. `openssl rand -base64 32`.')
  }
  if (given.length > 1) throw optionError(`session.${given[1]}`, `cannot be combined with session.${given[0]}: give exactly one of secret, key or keys.`)
  if (session.secret !== undefined) {
    if (typeof session.secret !== 'string' || session.secret.length < 32) {
      throw optionError('session.secret', 'must be a string of at least 32 characters (e.g. `openssl rand -base64 32`).')
    }
    return [deriveKey(session.secret, 'session')]
  }
  if (session.key !== undefined) return [toKey('session.key', session.key)]
  if (!Array.isArray(session.keys) || session.keys.length === 0) {
    throw optionError('session.keys', 'must be a non-empty array of 32-byte keys (the first encrypts, all decrypt).')
  }
  return session.keys.map((key, index) => toKey(`session.keys[${index}]`, key))
}

function validateCookieName (value: unknown, https: boolean): string {
  if (value === undefined) return defaultCookieName(https)
  if (typeof value !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(value)) {
    throw optionError('session.cookieName', `must be a cookie name of letters, digits and !#$%&'*+.^_\`|~- (got ${JSON.stringify(value)}).`)
  }
  if (value.startsWith('__Host-') && !https) {
    throw optionError('session.cookieName', 'cannot start with __Host- on http: browsers accept __Host- cookies only with Secure, over https.')
  }
  if (value.startsWith('__Secure-') && !https) {
    throw optionError('session.cookieName', 'cannot start with __Secure- on http: browsers accept __Secure- cookies only over https.')
  }
  return value
}

/**
 * Validates the plugin options.
 * @throws FST_SSO_INVALID_OPTION
 */
export function resolveOptions (options: SsoPluginOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw optionError('options', 'must be an object with baseUrl, provider and session.')
  rejectUnknownKeys(options, pluginKeys, '')
  const baseUrl = validateBaseUrl(options.baseUrl)
  const https = baseUrl.protocol === 'https:'
  const prefix = routePath('prefix', options.prefix, '/auth')

  const provider = options.provider
  if (typeof provider !== 'object' || provider === null || typeof provider.setup !== 'function') {
    throw optionError('provider', 'is required: oidcProvider({...}), workosSso({...}), workosAuthKit({...}), jwtProvider({...}) or samlProvider({...}).')
  }

  const session = options.session
  if (typeof session !== 'object' || session === null) {
    throw optionError('session', 'is required: { secret } with a random string of at least 32 characters (or key / keys).')
  }
  rejectUnknownKeys(session, sessionKeys, 'session')
  const keys = validateKeys(session)
  const cookieName = validateCookieName(session.cookieName, https)
  const idleTimeout = positiveInteger('session.idleTimeout', session.idleTimeout, 8 * 3600, 'seconds')
  const absoluteTimeout = positiveInteger('session.absoluteTimeout', session.absoluteTimeout, 7 * 24 * 3600, 'seconds')
  if (idleTimeout > absoluteTimeout) {
    throw optionError('session.idleTimeout', `(${idleTimeout} s) must not exceed session.absoluteTimeout (${absoluteTimeout} s).`)
  }
  const sameSite = oneOf('session.sameSite', session.sameSite, ['lax', 'strict', 'none'], 'lax')
  if (sameSite === 'none' && !https) {
    throw optionError('session.sameSite', "'none' requires an https baseUrl: browsers reject SameSite=None cookies without Secure.")
  }

  const onLogin = functionOption<NonNullable<SsoPluginOptions['onLogin']>>('onLogin', options.onLogin, '(user, request) => user | false')
  const now = functionOption<() => number>('now', options.now, 'returning epoch milliseconds') ?? Date.now
  const decorator = options.decorator ?? 'user'
  if (typeof decorator !== 'string' || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(decorator)) {
    throw optionError('decorator', `must be a JavaScript identifier such as user or ssoUser (got ${JSON.stringify(decorator)}).`)
  }
  const storeFailure = oneOf('storeFailure', options.storeFailure, ['closed', 'open'], 'closed')

  return {
    baseUrl,
    https,
    prefix,
    redirectUri: `${baseUrl.origin}${prefix}/callback`,
    provider,
    keys,
    cookieName,
    sessionCookie: sessionCookie(cookieName, https, sameSite),
    idleTimeoutMs: idleTimeout * 1000,
    absoluteTimeoutMs: absoluteTimeout * 1000,
    sameSite,
    sessionStore: validateStore('session.store', session.store),
    store: validateStore('store', options.store),
    onLogin,
    defaultReturnTo: validateSameOriginPath('defaultReturnTo', options.defaultReturnTo, '/', baseUrl),
    logoutRedirect: validateSameOriginPath('logoutRedirect', options.logoutRedirect, '/', baseUrl),
    errorRedirect: options.errorRedirect === undefined ? undefined : validateSameOriginPath('errorRedirect', options.errorRedirect, '/', baseUrl),
    decorator,
    storeFailure,
    now
  }
}

/**
 * The `fastify-sso` plugin: validates the options, wires session, transaction, store and
 * provider together, decorates the request, and mounts `/login`, `/callback` and `/logout`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CookieCodec } from './cookie-codec.ts'
import { kCore, type SsoCore, type SsoDecorator } from './core.ts'
import { DecoratorConflictError, InvalidArgumentError, StoreUnavailableError } from './errors.ts'
import { sendError } from './error-reply.ts'
import { resolveOptions, type SsoPluginOptions } from './options.ts'
import { RefreshCoordinator } from './refresh.ts'
import { RevocationList } from './revocation.ts'
import { safeReturnTo } from './return-to.ts'
import { kSessionState, SessionManager } from './session.ts'
import { memoryStore } from './store/memory.ts'
import { TransactionCookie } from './transaction.ts'
import { transactionCookie } from './cookies.ts'
import { backchannelLogoutHandler } from './routes/backchannel-logout.ts'
import { callbackHandler, continueHandler } from './routes/callback.ts'
import { samlLogoutHandler, samlMetadataHandler } from './routes/saml.ts'
import { loginHandler } from './routes/login.ts'
import { endSession, logoutHandler, logoutMethodNotAllowed } from './routes/logout.ts'
import { boundUser, type SsoUser } from './user.ts'
import { startSession } from './start-session.ts'
import { AuditTrail } from './audit.ts'
import { adminPortalLink } from './admin-portal.ts'
import { authLogSerializers } from './log-redaction.ts'
import { AccessTokens } from './access-token.ts'
import { stepUpOption, stepUpQuery } from './step-up.ts'

/** How often each instance reads revocations published by the others. */
const revocationPollMs = 500
/** Form bodies on the auth routes are tiny (a logout form, a posted token). */
const authBodyLimit = 64 * 1024
/** A posted IdP answer may be larger: a SAMLResponse of up to 256 KB, base64 and form-encoded. */
const postedCallbackBodyLimit = 512 * 1024

async function ssoPlugin (fastify: FastifyInstance, rawOptions: SsoPluginOptions): Promise<void> {
  const options = resolveOptions(rawOptions)
  const log = fastify.log

  if (fastify.hasRequestDecorator(options.decorator)) {
    throw DecoratorConflictError(`fastify-sso: request.${options.decorator} is already decorated by another plugin (@fastify/jwt and @fastify/passport use "user"). Pass the \`decorator\` option, e.g. { decorator: 'ssoUser' }.`)
  }
  // No @fastify/cookie on the app: the session module reads its own cookie from the header only
  // when a route needs the user, and cookies.ts writes ours. Registering it would cost every
  // request of the app its decorators and onSend hook.

  const ownStore = options.store === undefined
  const store = options.store ?? memoryStore({ now: options.now })
  const codec = await CookieCodec.create(options.keys, Math.ceil(options.absoluteTimeoutMs / 1000) + 86_400)
  const audit = new AuditTrail({ listener: options.onAuditEvent, log, now: options.now })
  const revocations = new RevocationList(store, { now: options.now, ttlMs: options.absoluteTimeoutMs, log, audit })
  const sessions = new SessionManager(options, codec, revocations)
  let provider
  try {
    provider = options.provider.setup({ baseUrl: options.baseUrl, redirectUri: options.redirectUri, store, log, now: options.now })
  } catch (err) {
    await codec.close()
    throw err
  }
  const postsBack = provider.callbackMethods?.includes('POST') === true
  const transactions = new TransactionCookie(codec, transactionCookie(options.cookieName, options.https, postsBack), options.now)

  const loginPath = `${options.prefix}/login`
  const core: SsoCore = {
    options,
    provider,
    store,
    sessions,
    transactions,
    revocations,
    refresher: new RefreshCoordinator(provider, store, codec, options.now, audit),
    audit,
    loginPath,
    links: {
      login: loginPath,
      home: options.defaultReturnTo,
      transactionCookie: transactions.name,
      errorRedirect: options.errorRedirect
    }
  }

  const accessTokens = new AccessTokens(core)
  decorateRequest(fastify, core)
  if (sessions.serverSide) {
    // request.user is synchronous: with server-side sessions, the record is fetched up front,
    // for requests that carry the session cookie only.
    fastify.addHook('onRequest', async (request) => { await sessions.load(request) })
  }
  const decorator: SsoDecorator = {
    async revoke (filter, request) {
      if (!await revocations.revokeUser(filter, { source: 'api', request })) {
        throw InvalidArgumentError('app.sso.revoke() needs at least one of userId, email or idpId (and, to limit it to one tenant, a non-empty organizationId), e.g. app.sso.revoke({ email: \'bob@globex.test\', organizationId: \'org_globex\' }).')
      }
    },
    async signIn (request, reply, user) {
      const { user: bounded } = boundUser({ ...user, provider: user.provider ?? 'local' })
      await startSession(core, request, reply, bounded)
    },
    async invalidateConnection (id) {
      if (!provider.invalidateConnection) throw InvalidArgumentError('app.sso.invalidateConnection() needs `provider: connections({ resolve })`; this app has a single provider.')
      if (typeof id !== 'string' || id.length === 0) throw InvalidArgumentError('app.sso.invalidateConnection(id) needs the connection id, e.g. app.sso.invalidateConnection(\'acme\').')
      await provider.invalidateConnection(id)
    },
    loginUrl (returnTo, stepUp) {
      const safe = safeReturnTo(returnTo, options.baseUrl, '')
      const url = new URL(loginPath, options.baseUrl)
      if (safe) url.searchParams.set('returnTo', safe)
      let checked
      try {
        checked = stepUp && stepUpOption('app.sso.loginUrl', stepUp)
      } catch (err) {
        throw InvalidArgumentError((err as Error).message)
      }
      for (const [name, value] of stepUpQuery(checked)) url.searchParams.set(name, value)
      return url.href
    },
    adminPortalLink: (linkOptions) => adminPortalLink(core, linkOptions),
    accessToken: (request) => accessTokens.get(request),
    [kCore]: core
  }
  fastify.decorate('sso', decorator)

  fastify.addHook('onReady', async () => {
    try {
      await revocations.sync()
    } catch (err) {
      log.error({ err }, 'fastify-sso: cannot read revocations from the store at start-up')
    }
    revocations.start(revocationPollMs)
  })
  fastify.addHook('onClose', async () => {
    revocations.stop()
    await provider.close?.()
    await codec.close()
    if (ownStore) await store.close?.()
  })

  await fastify.register(async function authRoutes (routes) {
    // The auth routes' own context: their error handler and body parsers do not touch the app.
    routes.setErrorHandler((err, request, reply) => sendError(request, reply, err, core.links))
    // The callback's URL carries codes and tokens: the auth routes' log lines show queries redacted.
    const logSerializers = authLogSerializers(log)
    routes.addHook('onRoute', (route) => { route.logSerializers = Object.assign(Object.create(route.logSerializers ?? null), logSerializers) })
    // Our own parsers only, whatever the app registered: form fields as strings (a posted token,
    // a logout form), and any other body accepted and ignored (a logout posted with an empty JSON
    // body or multipart must still log out).
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: authBodyLimit }, (_request, body, done) => {
      const fields: Record<string, string | string[]> = Object.create(null)
      for (const [name, value] of new URLSearchParams(body as string)) {
        const previous = fields[name]
        fields[name] = previous === undefined ? value : [...[previous].flat(), value] // repeated: ambiguous, see singleParams
      }
      done(null, fields)
    })
    routes.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: authBodyLimit }, (_request, _body, done) => done(null, undefined))
    const formOnly = { bodyLimit: authBodyLimit }
    routes.get('/login', loginHandler(core))
    routes.route({ method: provider.callbackMethods ? [...provider.callbackMethods] : 'GET', url: '/callback', bodyLimit: postsBack ? postedCallbackBodyLimit : authBodyLimit, handler: callbackHandler(core) })
    // Where a cross-site POST callback that came without the transaction cookie resumes (routes/post-back.ts).
    if (postsBack) routes.get('/callback/continue', continueHandler(core))
    if (provider.samlMetadata) routes.get('/saml/metadata', samlMetadataHandler(core))
    if (provider.samlLogoutResponse) routes.route({ method: ['GET', 'POST'], url: '/saml/logout', bodyLimit: postedCallbackBodyLimit, handler: samlLogoutHandler(core) })
    routes.post('/logout', formOnly, logoutHandler(core))
    routes.get('/logout', logoutMethodNotAllowed(core))
    // Back-channel logout reaches one instance: advertised only with a shared store, through
    // which that instance's revocation reaches all the others.
    if (options.store && provider.verifyLogoutToken) routes.post('/backchannel-logout', formOnly, backchannelLogoutHandler(core))
  }, { prefix: options.prefix })
}

/** `request.user` (lazy), its cache slot, and `request.logout()`. */
function decorateRequest (fastify: FastifyInstance, core: SsoCore): void {
  const { sessions } = core
  const kOverride = Symbol('fastify-sso.user-override')
  type Holder = FastifyRequest & { [kOverride]?: SsoUser | null }
  fastify.decorateRequest(kSessionState, null)
  fastify.decorateRequest(kOverride, undefined)
  fastify.decorateRequest(core.options.decorator, {
    getter (this: FastifyRequest) {
      const override = (this as Holder)[kOverride]
      return override !== undefined ? override : sessions.user(this)
    },
    // Other auth code in the app (API keys…) may assign the user for a request.
    setter (this: FastifyRequest, value: SsoUser | null) {
      (this as Holder)[kOverride] = value
    }
  })
  if (fastify.hasRequestDecorator('logout')) {
    fastify.log.warn('fastify-sso: request.logout is already decorated by another plugin; use `app.sso` and the POST logout route instead')
    return
  }
  fastify.decorateRequest('logout', async function logout (this: FastifyRequest, reply?: FastifyReply) {
    try {
      await endSession(core, this, reply)
    } catch (err) {
      this.log.error({ err }, 'fastify-sso: could not record the logout in the store')
      throw StoreUnavailableError('The session was ended in this browser, but its revocation could not be recorded.')
    }
  })
}

/**
 * The fastify-sso plugin.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import ssoPlugin, { oidcProvider, requireUser } from 'fastify-sso'
 *
 * const app = Fastify()
 * await app.register(ssoPlugin, {
 *   baseUrl: 'https://app.example.com',
 *   provider: oidcProvider({ issuer: 'https://idp.example.com', clientId: 'app', clientSecret: process.env.OIDC_SECRET }),
 *   session: { secret: process.env.SESSION_SECRET },
 * })
 * app.get('/me', { preHandler: requireUser() }, async (request) => request.user)
 * ```
 */
export const fastifySso = fp(ssoPlugin, { name: 'fastify-sso', fastify: '5.x' })
export default fastifySso

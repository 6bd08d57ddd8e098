/**
 * `requireUser()`: the preHandler that protects routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { findCore, type SsoCore } from './core.ts'
import { ForbiddenError, InvalidOptionError, StepUpRequiredError, StoreUnavailableError, UnauthorizedError } from './errors.ts'
import { sendError } from './error-reply.ts'
import { isBrowserNavigation } from './request-kind.ts'
import { safeReturnTo } from './return-to.ts'
import { functionOption, optionError, optionsObject } from './option-checks.ts'
import { stepUpOption, stepUpQuery, unmetStepUp, type StepUp } from './step-up.ts'
import type { SsoUser } from './user.ts'

/**
 * Options of {@link requireUser}. Every check given must pass: `organizationId`, `roles` and
 * `check` failing is a 403; `maxAge` and `acr` failing asks the user to sign in again (step-up).
 */
export interface RequireUserOptions {
  /** The user must belong to this organization (or one of these). */
  organizationId?: string | string[]
  /** The user must have at least one of these roles. */
  roles?: string[]
  /** A custom check; return `false` (or throw) to refuse with 403. */
  check?: (user: SsoUser, request: FastifyRequest) => boolean | Promise<boolean>
  /**
   * Step-up: the user must have signed in at the IdP at most this many seconds ago (its
   * `auth_time`, with 30 s of clock tolerance). Otherwise a browser is sent to log in again with
   * `max_age`; an API call gets 401 `FST_SSO_STEP_UP_REQUIRED`.
   */
  maxAge?: number
  /**
   * Step-up: the sign-in's `acr` (how the user authenticated, as the IdP names it) must be this
   * one, or one of these. Otherwise a browser is sent to log in again with `acr_values`; an API
   * call gets 401 `FST_SSO_STEP_UP_REQUIRED`.
   */
  acr?: string | string[]
}

/**
 * A preHandler that lets signed-in users through and answers everyone else:
 * - signed out, browser navigation (`Accept: text/html`): `302` to `prefix/login?returnTo=<path>`;
 * - signed out, API call: `401` JSON `{ statusCode, code, error, message }`;
 * - signed in but failing `organizationId`, `roles` or `check`: `403`;
 * - signed in, but longer ago than `maxAge` or without the `acr`: a browser goes to
 *   `prefix/login?returnTo=<path>&max_age=…&acr_values=…` (the IdP signs the user in again and the
 *   callback checks the new `auth_time` / `acr`); an API call gets `401 FST_SSO_STEP_UP_REQUIRED`
 *   with an RFC 9470 `WWW-Authenticate` challenge.
 *
 * It also keeps the session fresh: renews expired provider tokens (once per session, even under
 * parallel requests), slides the idle timeout, and re-issues cookies sealed with an older key.
 *
 * @example
 * ```ts
 * app.get('/dashboard', { preHandler: requireUser() }, async (request) => request.user)
 * app.get('/admin', { preHandler: requireUser({ roles: ['admin'] }) }, adminPage)
 * app.get('/acme', { preHandler: requireUser({ organizationId: 'org_acme' }) }, acmePage)
 * // Step-up: signed in within the last 5 minutes, with multi-factor authentication.
 * app.post('/payouts', { preHandler: requireUser({ maxAge: 300, acr: 'mfa' }) }, createPayout)
 * ```
 */
export function requireUser (options: RequireUserOptions = {}): RequireUserHook {
  validate(options)
  const organizations = options.organizationId === undefined
    ? undefined
    : new Set(Array.isArray(options.organizationId) ? options.organizationId : [options.organizationId])
  const roles = options.roles
  const check = options.check
  const stepUp = stepUpOption('requireUser', options)

  /** Why this signed-in user may not pass the organization and role checks, if they may not. */
  function denial (user: SsoUser): Error | undefined {
    if (organizations && (!user.organizationId || !organizations.has(user.organizationId))) {
      return ForbiddenError('This page belongs to another organization.')
    }
    if (roles && !user.roles?.some(role => roles.includes(role))) {
      return ForbiddenError(`This page requires one of the roles: ${roles.join(', ')}.`)
    }
    return undefined
  }

  async function guard (request: FastifyRequest, reply: FastifyReply, core: SsoCore): Promise<unknown> {
    const unreachable = core.revocations.failing || core.sessions.read(request).unavailable === true
    if (core.options.storeFailure === 'closed' && unreachable) {
      // Revocations or the session itself cannot be read: refusing is safer than guessing.
      return refuse(request, reply, core, StoreUnavailableError())
    }
    const user = await currentUser(request, reply, core)
    if (!user) {
      if (isBrowserNavigation(request)) return reply.redirect(loginRedirect(request, core), 302)
      return refuse(request, reply, core, UnauthorizedError())
    }
    const denied = denial(user)
    if (denied) return refuse(request, reply, core, denied)
    const unmet = stepUp && unmetStepUp(stepUp, core.sessions.read(request).record?.p, core.options.now())
    if (unmet) return askForStepUp(request, reply, core, stepUp, unmet, user)
    if (check) {
      let allowed = false
      try {
        allowed = await check(user, request)
      } catch (err) {
        request.log.info({ err }, 'fastify-sso: requireUser check threw; refusing')
      }
      if (allowed !== true) return refuse(request, reply, core, ForbiddenError())
    }
  }

  return function requireUserHandler (request, reply, done) {
    const core = findCore(request.server)
    if (!core) throw InvalidOptionError('fastify-sso: requireUser() is used on a route, but the fastify-sso plugin is not registered on this Fastify instance.')
    reply.header('cache-control', 'no-store')
    // The usual request, answered synchronously: a valid session with nothing to renew or write
    // back, allowed by the synchronous checks. Everything else (signed out, a refresh or re-issue
    // due, the store down, a custom check, a refusal) takes the asynchronous path. The promises
    // and microtask hops of an async hook cost more than the checks themselves.
    const state = core.sessions.read(request)
    const record = state.record
    if (record && !state.reissue && !check && !core.revocations.failing && !core.refresher.due(record) && !denial(record.u) &&
      (!stepUp || !unmetStepUp(stepUp, record.p, core.options.now()))) {
      done?.()
      return undefined
    }
    return guard(request, reply, core)
  }
}

/**
 * What {@link requireUser} returns: a Fastify `preHandler`. Fastify passes `done`; called
 * without it (`await requireUser()(request, reply)` in a hook of your own) it works the same.
 */
export type RequireUserHook = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction) => Promise<unknown> | undefined

/** The signed-in user after renewing expired provider state and bringing the cookie up to date. */
async function currentUser (request: FastifyRequest, reply: FastifyReply, core: SsoCore): Promise<SsoUser | null> {
  const { sessions, refresher } = core
  const record = sessions.read(request).record
  if (record && refresher.due(record)) {
    const refreshed = await refresher.refresh(record, request)
    if (!refreshed) {
      await sessions.clear(request, reply)
      return null
    }
    await sessions.update(request, reply, refreshed)
    return refreshed.u
  }
  await sessions.sync(request, reply)
  return sessions.read(request).record?.u ?? null
}

function refuse (request: FastifyRequest, reply: FastifyReply, core: SsoCore, error: Error): FastifyReply {
  return sendError(request, reply, error, { ...core.links, errorRedirect: undefined })
}

/**
 * `prefix/login?returnTo=<current path>` (GET and HEAD only: other methods cannot be replayed by a
 * redirect), with the step-up parameters when the login is for one.
 */
function loginRedirect (request: FastifyRequest, core: SsoCore, stepUp?: StepUp, connection?: string): string {
  const returnTo = request.method === 'GET' || request.method === 'HEAD' ? safeReturnTo(request.url, core.options.baseUrl, '') : ''
  const query = [...(returnTo ? [['returnTo', returnTo]] : []), ...stepUpQuery(stepUp), ...(connection ? [['connection', connection]] : [])]
  return query.length > 0 ? `${core.loginPath}?${query.map(([name, value]) => `${name}=${encodeURIComponent(value!)}`).join('&')}` : core.loginPath
}

/**
 * A sign-in that is too old or not strong enough: a browser logs in again with the requirement; an
 * API client gets 401 with the login URL in the message and an RFC 9470 challenge naming it.
 */
function askForStepUp (request: FastifyRequest, reply: FastifyReply, core: SsoCore, stepUp: StepUp, unmet: string, user: SsoUser): FastifyReply {
  // The user is known: with connections(), they step up at their own connection, not at a sign-in
  // page that asks for the work email again.
  const login = loginRedirect(request, core, stepUp, core.provider.name === 'connections' ? user.connectionId : undefined)
  if (isBrowserNavigation(request)) return reply.redirect(login, 302)
  const challenge = [`Bearer error="insufficient_user_authentication"`, `error_description="This needs ${unmet}"`]
  for (const [name, value] of stepUpQuery(stepUp)) challenge.push(`${name}="${value}"`)
  reply.header('www-authenticate', challenge.join(', '))
  return refuse(request, reply, core, StepUpRequiredError(`This needs ${unmet}: sign in again at ${login}.`))
}

function validate (options: RequireUserOptions): void {
  optionsObject('requireUser', options, ['organizationId', 'roles', 'check', 'maxAge', 'acr'], '{ organizationId?, roles?, check?, maxAge?, acr? }')
  const org = options.organizationId
  if (org !== undefined && typeof org !== 'string' && !(Array.isArray(org) && org.every(id => typeof id === 'string'))) {
    throw optionError('requireUser.organizationId', 'must be an organization id or an array of them.')
  }
  if (options.roles !== undefined && !(Array.isArray(options.roles) && options.roles.every(role => typeof role === 'string'))) {
    throw optionError('requireUser.roles', 'must be an array of role names.')
  }
  functionOption('requireUser.check', options.check, '(user, request) => boolean')
}

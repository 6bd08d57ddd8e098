/**
 * `POST {prefix}/logout`: ends the session (the cookie is cleared and its id revoked, so a copy
 * of the old cookie is signed out too), then goes to the IdP's end-session page or to
 * `logoutRedirect`. `GET` answers 405: a link or an image must not sign users out.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SsoCore } from '../core.ts'
import { CrossSiteRequestError, MethodNotAllowedError } from '../errors.ts'
import { sendError } from '../error-reply.ts'
import { withTimeout } from '../timeout.ts'
import { auditUser, type RevocationSource } from '../audit.ts'
import { forgetSecrets, revokeKeptTokens, withSecrets } from '../provider-state-store.ts'
import type { ProviderSession } from '../providers/provider.ts'

/**
 * Logout CSRF: refuse when the browser says the request came from another site. Requests with
 * neither `Sec-Fetch-Site` nor `Origin` (curl, server to server) carry no ambient cookie risk.
 */
export function isCrossSite (request: FastifyRequest, origin: string): boolean {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') return true
  const requestOrigin = request.headers.origin
  return requestOrigin !== undefined && requestOrigin !== origin
}

/** How {@link endSession} treats the tokens the session kept. */
export interface EndSessionOptions {
  /** The session's provider state with its secrets, when the caller has already read it. */
  providerSession?: ProviderSession | undefined
  /** Revoke the kept tokens at the IdP (default true; false when the IdP has just refused them). */
  revokeTokens?: boolean
  /** Why the session ends, for the audit trail: a `logout` (the default) also emits a `logout` event. */
  source?: RevocationSource
}

/**
 * Ends the request's session: revokes its id until it would have expired, clears the cookie,
 * deletes its secret state, and revokes its tokens at the IdP (best effort, see revokeKeptTokens).
 * A session that existed is a `logout` audit event (and its revocation a `session.revoked`).
 */
export async function endSession (core: SsoCore, request: FastifyRequest, reply?: FastifyReply, options: EndSessionOptions = {}): Promise<void> {
  const { sessions } = core
  const record = sessions.read(request).record
  // Read before the secrets are deleted below; the revocation runs while the session ends.
  const tokens = record?.ps && core.provider.revokeTokens && options.revokeTokens !== false
    ? options.providerSession ?? await withSecrets(core, request.log, record)
    : undefined
  const revoking = tokens && revokeKeptTokens(core, request.log, tokens)
  if (reply) await sessions.clear(request, reply)
  else sessions.forget(request)
  if (record?.ps) await forgetSecrets(core, request.log, record.id)
  if (record) {
    const source = options.source ?? 'logout'
    if (source === 'logout') core.audit.emit({ type: 'logout', ...auditUser(record.u) }, request)
    await core.revocations.revokeSession(record.id, sessions.expiresAt(record), { source, request, user: record.u })
  }
  await revoking
}

export function logoutHandler (core: SsoCore) {
  return async function logout (request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store')
    if (isCrossSite(request, core.options.baseUrl.origin)) {
      return sendError(request, reply, CrossSiteRequestError('Logout must be requested from this application\'s own pages.'), { ...core.links, errorRedirect: undefined })
    }
    const record = core.sessions.read(request).record
    // Read before the session ends: ending it deletes what the store kept for it (the ID token).
    const providerSession = record ? await withSecrets(core, request.log, record) : undefined
    try {
      await endSession(core, request, reply, { providerSession })
    } catch (err) {
      // The cookie is cleared either way; only the server-side revocation could not be recorded.
      request.log.error({ err }, 'fastify-sso: could not record the logout in the store')
    }
    const localTarget = core.options.logoutRedirect
    let target: string = localTarget
    // The IdP's end-session page only for sessions that IdP started (they carry provider state
    // from the callback): a user the app signed in itself (`app.sso.signIn()`, a password login)
    // has none, and no IdP session to end there.
    const startedAtIdp = !record || record.p !== undefined
    if (core.provider.logoutUrl && startedAtIdp) {
      try {
        const url = await withTimeout(core.provider.logoutUrl(providerSession, new URL(localTarget, core.options.baseUrl).href), 5_000)
        if (url) target = url.href
      } catch (err) {
        request.log.warn({ err }, 'fastify-sso: could not build the IdP end-session URL; logging out locally')
      }
    }
    return reply.redirect(target, 302)
  }
}

export function logoutMethodNotAllowed (core: SsoCore) {
  return async function logoutGet (request: FastifyRequest, reply: FastifyReply) {
    reply.header('allow', 'POST')
    return sendError(request, reply, MethodNotAllowedError(`Logging out needs a POST request, e.g. <form method="post" action="${core.options.prefix}/logout">.`), { ...core.links, errorRedirect: undefined })
  }
}

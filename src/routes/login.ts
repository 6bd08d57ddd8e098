/**
 * `GET {prefix}/login`: starts a login. Creates a transaction (state, nonce, PKCE verifier,
 * returnTo, routing), keeps it in the transaction cookie and sends the browser to the IdP.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SsoCore } from '../core.ts'
import { sendError, toSsoError } from '../error-reply.ts'
import { auditFailure } from '../audit.ts'
import { safeReturnTo } from '../return-to.ts'
import { withTimeout } from '../timeout.ts'
import { stepUpRouting } from '../step-up.ts'
import { singleParams } from './params.ts'

/** Starts an SP-initiated login with this returnTo and routing; answers the redirect to the IdP. */
export async function startLogin (
  core: SsoCore, request: FastifyRequest, reply: FastifyReply,
  returnTo: string, query: Record<string, string>, fixedRouting?: Record<string, string>
): Promise<FastifyReply> {
  const login = { query }
  // Step-up parameters (`max_age`, `acr_values`) ride along in the routing: see step-up.ts.
  const routing = { ...(fixedRouting ?? (await core.provider.loginRouting?.(login))), ...stepUpRouting(query) }
  const transaction = core.transactions.create(returnTo, routing)
  const url = await withTimeout(core.provider.authorizationUrl(transaction, login))
  core.transactions.begin(request, reply, transaction)
  return reply.redirect(url.href, 302)
}

export function loginHandler (core: SsoCore) {
  return async function login (request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store')
    const { values } = singleParams(request.query)
    // A repeated returnTo is dropped by singleParams and falls back to defaultReturnTo.
    const returnTo = safeReturnTo(values.returnTo, core.options.baseUrl, core.options.defaultReturnTo)
    try {
      return await startLogin(core, request, reply, returnTo, values)
    } catch (err) {
      const error = toSsoError(err, request)
      core.audit.emit({ type: 'login.failed', provider: core.provider.name, ...auditFailure(error) }, request)
      return sendError(request, reply, error, returnTo === core.options.defaultReturnTo ? core.links : { ...core.links, returnTo })
    }
  }
}

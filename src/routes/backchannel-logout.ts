/**
 * `POST {prefix}/backchannel-logout`: the OP tells the app that a user logged out (OpenID Connect
 * Back-Channel Logout 1.0). The provider validates the token; each token is accepted once (its
 * `jti` in the store until it expires); the sessions of that IdP session (`sid`) or of that user
 * (`sub`) are revoked on every instance sharing the store.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SsoCore } from '../core.ts'
import { BackchannelLogoutError } from '../errors.ts'
import { firstUse } from '../store/single-use.ts'
import { sendJsonError } from '../error-reply.ts'
import { sha256 } from '../crypto.ts'
import { singleParams } from './params.ts'

export function backchannelLogoutHandler (core: SsoCore) {
  return async function backchannelLogout (request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store')
    try {
      const { values } = singleParams(request.body)
      if (!values.logout_token) throw BackchannelLogoutError('The request has no logout_token form field.')
      const claims = await core.provider.verifyLogoutToken!(values.logout_token, { query: singleParams(request.query).values })
      const ttl = Math.max(60_000, claims.exp * 1000 - core.options.now())
      if (!await firstUse(core.store, `logout-jti:${sha256(claims.jti)}`, ttl, request.log)) throw BackchannelLogoutError('This logout_token was already used.')
      await core.revocations.revokeUser(claims.sid ? { idpSessionId: claims.sid } : { userId: claims.sub }, { source: 'backchannel', request })
      request.log.info({ sid: claims.sid !== undefined, sub: claims.sub !== undefined }, 'fastify-sso: back-channel logout')
      return reply.code(200).send()
    } catch (err) {
      return sendJsonError(request, reply, err)
    }
  }
}

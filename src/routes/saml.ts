/**
 * The SAML service provider's own endpoints, mounted when the provider has them:
 * `GET {prefix}/saml/metadata` (what the IdP's admin imports) and `GET|POST {prefix}/saml/logout`
 * (where the IdP answers a LogoutRequest).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SsoCore } from '../core.ts'
import { sendError } from '../error-reply.ts'
import { withTimeout } from '../timeout.ts'
import { rawQuery, singleParams } from './params.ts'

export function samlMetadataHandler (core: SsoCore) {
  return async function samlMetadata (request: FastifyRequest, reply: FastifyReply) {
    try {
      const xml = await withTimeout(core.provider.samlMetadata!({ query: singleParams(request.query).values }))
      // Public, and the same for every visitor; short-lived so a changed certificate shows soon.
      return reply.header('cache-control', 'public, max-age=300').type('application/samlmetadata+xml; charset=utf-8').send(xml)
    } catch (err) {
      // An IdP fetching metadata gets the error itself, never the app's errorRedirect page.
      return sendError(request, reply, err, { ...core.links, errorRedirect: undefined })
    }
  }
}

export function samlLogoutHandler (core: SsoCore) {
  return async function samlLogout (request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store')
    try {
      const method = request.method === 'POST' ? 'POST' : 'GET'
      const url = new URL(`${core.options.prefix}/saml/logout`, core.options.baseUrl)
      url.search = rawQuery(request.url)
      const params = singleParams(method === 'POST' ? request.body : request.query).values
      await withTimeout(core.provider.samlLogoutResponse!({ method, params, url }))
      return reply.redirect(core.options.logoutRedirect, 302)
    } catch (err) {
      return sendError(request, reply, err, { ...core.links, errorRedirect: undefined })
    }
  }
}

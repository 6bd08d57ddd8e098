/**
 * The POST-back problem: IdPs that answer with a form post (SAML's HTTP-POST binding, JWT IdPs
 * that post their token) make a cross-site POST to the callback, and browsers do not send
 * SameSite=Lax cookies with it, so the transaction cookie that binds the login to this browser is
 * missing. (On https the transaction cookie of such providers is SameSite=None and usually does
 * arrive; on http://localhost it cannot, and some browsers drop None cookies too.)
 *
 * The answer, for any provider: a cross-site POST that arrives without the transaction cookie is
 * parked in the store under a random, single-use key that lives one minute, and the browser is
 * sent (303) to `GET {prefix}/callback/continue?id=<key>`. That request is a top-level GET
 * navigation, which carries the Lax cookie; the parked answer is then finished exactly as if it
 * had arrived with the cookie. Nothing is decided at the park: the answer is only ever used with
 * the transaction of the browser that comes back with the key, and the provider still requires
 * the answer to belong to that transaction (SAML: RelayState and InResponseTo). An attacker who
 * posts their own valid answer into a victim's browser, or sends the victim their own key,
 * reaches a browser whose pending logins do not match: refused, no session (no login CSRF).
 * Works without JavaScript.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SsoCore } from '../core.ts'
import { randomId, sha256 } from '../crypto.ts'
import { InvalidCallbackError, StoreUnavailableError } from '../errors.ts'
import { isBrowserNavigation } from '../request-kind.ts'
import { firstUse } from '../store/single-use.ts'
import { singleParams } from './params.ts'

/** A callback as the IdP sent it: its method, its fields (query or form), its raw query string. */
export interface CallbackAnswer {
  method: 'GET' | 'POST'
  fields: unknown
  query: string
}

/** A parked answer waits this long for the browser to come back (it follows the 303 at once). */
export const parkedLifetimeMs = 60_000

interface Parked { f: unknown, q: string }

/**
 * Whether this callback should be parked: a POST from a browser, from another site (or from a
 * browser that does not say), without a readable transaction cookie, with something in it. A
 * same-site POST without the cookie would come back without it too: it is answered at once.
 */
export function shouldPark (core: SsoCore, request: FastifyRequest, answer: CallbackAnswer): boolean {
  if (answer.method !== 'POST' || !isBrowserNavigation(request)) return false
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'cross-site') return false
  if (Object.keys(singleParams(answer.fields).values).length === 0) return false
  return !core.transactions.has(request)
}

/** Parks the answer and sends the browser to the same-site continuation. */
export async function park (core: SsoCore, reply: FastifyReply, answer: CallbackAnswer): Promise<FastifyReply> {
  const id = randomId(32)
  const parked: Parked = { f: answer.fields, q: answer.query }
  try {
    await core.store.set(parkKey(id), JSON.stringify(parked), parkedLifetimeMs)
  } catch (err) {
    reply.request.log.error({ err }, 'fastify-sso: the store failed while parking a posted callback')
    throw StoreUnavailableError()
  }
  reply.header('referrer-policy', 'no-referrer')
  return reply.redirect(`${core.options.prefix}/callback/continue?id=${id}`, 303)
}

/** Takes a parked answer back, once, or throws why it cannot. */
export async function unpark (core: SsoCore, request: FastifyRequest): Promise<CallbackAnswer> {
  const { values } = singleParams(request.query)
  const id = values.id
  const gone = () => InvalidCallbackError('This sign-in step has expired or was already used. Start the sign-in again.')
  if (!id || !/^[\w-]{16,64}$/.test(id)) throw gone()
  let raw: string | null
  try {
    raw = await core.store.get(parkKey(id))
  } catch (err) {
    request.log.error({ err }, 'fastify-sso: the store failed while reading a parked callback')
    throw StoreUnavailableError()
  }
  if (raw === null) throw gone()
  // Single use across instances: two requests with the same key, only one goes on.
  if (!await firstUse(core.store, `${parkKey(id)}:used`, parkedLifetimeMs, request.log)) throw gone()
  await core.store.delete(parkKey(id)).catch(() => {})
  const parked = JSON.parse(raw) as Parked
  return { method: 'POST', fields: parked.f, query: typeof parked.q === 'string' ? parked.q : '' }
}

function parkKey (id: string): string {
  return `callback:parked:${sha256(id)}`
}

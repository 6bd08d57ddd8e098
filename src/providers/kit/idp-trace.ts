/**
 * Tracing of calls to identity providers: every request to an IdP or to WorkOS (discovery,
 * metadata, JWKS, token, user-info, SDK calls) runs inside the `node:diagnostics_channel` tracing
 * channel `fastify-sso:idp`, so that OpenTelemetry (or any subscriber) can show each one as a span.
 *
 * Subscribers see only the context below: which provider and connection, which operation, the URL
 * without its query, the HTTP status; never a request body, a token or a code. A failure is
 * published as the coded error the user gets (its message is safe to show), not the raw exception,
 * whose text may quote an IdP answer. With no subscriber, tracing costs one property read.
 */
import { tracingChannel } from 'node:diagnostics_channel'

/**
 * The name of the tracing channel (`tracing:fastify-sso:idp:start`, `:end`, `:asyncStart`, `:asyncEnd`, `:error`).
 *
 * @example
 * ```ts
 * import { tracingChannel } from 'node:diagnostics_channel'
 * const idpCalls = tracingChannel(idpTraceChannelName) // 'fastify-sso:idp'
 * ```
 */
export const idpTraceChannelName = 'fastify-sso:idp'

/**
 * Who is being called: the provider instance (its `name`) and, with connections, the connection.
 *
 * @example
 * ```ts
 * const target: IdpTarget = { provider: 'saml', connection: 'acme' }
 * ```
 */
export interface IdpTarget {
  /** The provider's name, as in `user.provider` (`oidc`, `workos-sso`, `saml`…). */
  provider: string
  /** The connection this provider instance serves, when the app has many. */
  connection?: string
}

/**
 * What a subscriber of `fastify-sso:idp` receives for one IdP call (the same object in every event
 * of the call; Node adds `error` when it fails).
 *
 * @example
 * ```ts
 * import { tracingChannel } from 'node:diagnostics_channel'
 * tracingChannel('fastify-sso:idp').subscribe({
 *   start (call) { console.log('→', call.provider, call.operation, call.url) },
 *   asyncEnd (call) { console.log('←', call.provider, call.operation, call.status) },
 *   error (call) { console.log('✗', call.provider, call.operation, call.error.code) },
 *   end () {}, asyncStart () {}
 * })
 * ```
 */
export interface IdpCallContext extends IdpTarget {
  /** `discovery`, `jwks`, `token`, `userinfo`, `metadata`, or a WorkOS step (`code exchange`, `organization lookup`…). */
  operation: string
  /** For HTTP calls made by fastify-sso itself: the URL without query or fragment. */
  url?: string
  /** For HTTP calls made by fastify-sso itself: the answer's status. */
  status?: number
  /** Set by Node when the call fails: the coded error (`FST_SSO_*`) or the network error. */
  error?: unknown
}

const channel = tracingChannel<unknown, IdpCallContext>(idpTraceChannelName)

/**
 * The target of a provider instance: its name and the connection it serves, if any.
 *
 * @example
 * ```ts
 * this.#idp = idpTarget(this.name, context.connectionId)
 * ```
 */
export function idpTarget (provider: string, connection?: string): IdpTarget {
  return connection === undefined ? { provider } : { provider, connection }
}

/**
 * Runs one call to an identity provider inside the `fastify-sso:idp` tracing channel.
 *
 * @example
 * ```ts
 * const metadata = await traceIdp({ provider: 'saml', connection: 'acme', operation: 'metadata' }, () => fetchMetadata(url))
 * ```
 */
export function traceIdp<T> (context: IdpCallContext, call: () => Promise<T> | T): Promise<T> {
  if (!channel.hasSubscribers) {
    try {
      return Promise.resolve(call())
    } catch (err) {
      return Promise.reject(err)
    }
  }
  // The result stays out of the context: subscribers would otherwise receive token responses.
  let result: T
  return channel.tracePromise(async () => { result = await call() }, context).then(() => result)
}

/** `fetch` as openid-client and jose call it (each with its own type for the options). */
type FetchLike<Init> = (input: string | URL | Request, init?: Init) => Promise<Response>

/**
 * A `fetch` whose every request is traced as an IdP call; `operation` names it from its URL (for
 * openid-client's `customFetch`, which carries discovery, token, user-info and JWKS requests, and
 * jose's remote key set).
 *
 * @example
 * ```ts
 * config[client.customFetch] = tracedFetch(idpTarget('oidc'), (url) => url.pathname.endsWith('/token') ? 'token' : 'jwks')
 * ```
 */
export function tracedFetch<Init = RequestInit> (target: IdpTarget, operation: string | ((url: URL) => string), fetchImpl?: FetchLike<Init>): FetchLike<Init> {
  const send = fetchImpl ?? ((input, init) => fetch(input, init as RequestInit))
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const context: IdpCallContext = {
      ...target,
      operation: typeof operation === 'string' ? operation : operation(url),
      url: url.origin + url.pathname
    }
    return traceIdp(context, async () => {
      const response = await send(input, init)
      context.status = response.status
      return response
    })
  }
}

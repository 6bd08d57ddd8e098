/**
 * What the auth routes' log lines may show of a request. Fastify logs every request's URL
 * ("incoming request"), and the callback's URL carries the authorization code and state (a JWT
 * IdP's carries the token itself): in a log they are credentials anyone with log access could
 * replay. So on the auth routes the request is serialised with its query values redacted (except
 * a few harmless routing parameters) and without its body, through the app's own `req`
 * serializer when it has one, so its log format stays the same.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'

/** Query parameters whose values are kept in logs: where to land and how the login was routed. */
const keptParams = new Set(['returnTo', 'organization', 'connection', 'domain', 'provider', 'screen_hint', 'error'])
/** A parameter name that looks like one (anything else, e.g. a token sent as a key, is hidden too). */
const paramName = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/
const redacted = '[redacted]'

/** A request serializer as pino calls it. */
type RequestSerializer = (request: FastifyRequest) => unknown

/**
 * `/auth/callback?code=[redacted]&state=[redacted]&iss=[redacted]`: the path and parameter names
 * stay (they help debugging), the values go, except routing parameters.
 *
 * @example
 * ```ts
 * redactUrl('/auth/callback?code=abc&state=xyz') // '/auth/callback?code=[redacted]&state=[redacted]'
 * ```
 */
export function redactUrl (url: string): string {
  const index = url.indexOf('?')
  if (index < 0) return url
  const hash = url.indexOf('#', index)
  const query = url.slice(index + 1, hash < 0 ? undefined : hash)
  const pairs = query.split('&').filter(Boolean).map(pair => {
    const equals = pair.indexOf('=')
    // A key without a value is no parameter of ours: it may be a token sent bare.
    if (equals < 0) return redacted
    const name = pair.slice(0, equals)
    if (!paramName.test(name)) return redacted
    if (keptParams.has(name)) return pair
    return `${name}=${redacted}`
  })
  return `${url.slice(0, index)}?${pairs.join('&')}`
}

/** Fastify's own request serializer, for loggers that have none of their own. */
function fastifyRequest (request: FastifyRequest): unknown {
  return {
    method: request.method,
    url: request.url,
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}

/**
 * The request as a serializer may see it: URL and query redacted, no body. Works for Fastify's
 * request and for a raw `IncomingMessage` logged under `req`.
 */
function redactedView<T extends object> (request: T & { url: string, raw?: unknown }): T {
  const url = redactUrl(request.url)
  const raw = typeof request.raw === 'object' && request.raw !== null && typeof (request.raw as { url?: unknown }).url === 'string'
    ? redactedView(request.raw as { url: string })
    : request.raw
  return new Proxy(request, {
    get (target, property) {
      switch (property) {
        case 'url':
        case 'originalUrl': return url
        case 'raw': return raw
        case 'query':
        case 'body':
        case 'params': return undefined
        default: return Reflect.get(target, property, target)
      }
    }
  })
}

/**
 * The `logSerializers` of the auth routes: the app's `req` serializer (pino's, on `log`), or
 * Fastify's, fed a redacted view of the request.
 *
 * @example
 * ```ts
 * await fastify.register(authRoutes, { prefix, logSerializers: authLogSerializers(fastify.log) })
 * ```
 */
export function authLogSerializers (log: FastifyBaseLogger): { req: RequestSerializer } {
  const serializers = (log as unknown as Record<symbol, Record<string, unknown> | undefined>)[Symbol.for('pino.serializers')]
  const appSerializer = typeof serializers?.req === 'function' ? serializers.req as RequestSerializer : fastifyRequest
  return { req: (request) => appSerializer(hasUrl(request) ? redactedView(request) : request) }
}

function hasUrl (value: unknown): value is FastifyRequest {
  return typeof value === 'object' && value !== null && typeof (value as { url?: unknown }).url === 'string'
}

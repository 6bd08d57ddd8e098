/**
 * `scim`: SCIM 2.0 provisioning endpoints (RFC 7643/7644) for Okta, Microsoft Entra ID and other
 * provisioning clients, one bearer token per tenant.
 *
 * Like `directorySync`, a plugin registered beside fastify-sso that finds its sessions through the
 * app (`findCore`), with its own encapsulated context: its own body parsers (`application/scim+json`
 * and `application/json`, prototype-poisoning refused), body limit, authentication hook, error and
 * not-found handlers, so that nothing of it touches the app's other routes and every answer,
 * errors included, is SCIM.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { findCore } from '../core.ts'
import { functionOption, optionError, optionsObject, parseHttpUrl, positiveInteger, routePath } from '../option-checks.ts'
import { invalidSyntax, invalidValue, notFound, ScimError, scimContentType, sendScimError, toScimError } from './errors.ts'
import type { ScimEvent } from './events.ts'
import { listResponse, resourceType, schemas, serviceProviderConfig } from './discovery.ts'
import { Provisioning, type Caller } from './provisioning.ts'
import { repositoryMethods, type ScimRecord, type ScimRepository } from './repository.ts'
import { etagOf, project } from './resources.ts'
import type { ResourceType } from './schema.ts'
import type { ScimTenant } from './tokens.ts'

/** Options of {@link scim}. */
export interface ScimOptions {
  /** Where the endpoints live (default `/scim/v2`): the "base URL" / "tenant URL" given to Okta or Entra ID is `baseUrl + prefix`. */
  prefix?: string
  /**
   * The tenant a bearer token belongs to, or null for an unknown token. Store hashes, compare in
   * constant time: `scimTokenVerifier()` does both for a fixed set; with a database, look up
   * `hashScimToken(token)`.
   */
  authenticate: (token: string, request: FastifyRequest) => ScimTenant | null | undefined | Promise<ScimTenant | null | undefined>
  /** Where users and groups are stored (`memoryScimRepository()`, or the app's own). */
  repository: ScimRepository
  /** Called with each change as a `dsync.*` event, the same shape `directorySync` delivers. */
  onEvent?: (event: ScimEvent, request: FastifyRequest) => unknown
  /** The app's public origin, for `meta.location` (default: fastify-sso's `baseUrl`; without either, locations are paths). */
  baseUrl?: string
  /** Largest body accepted, in bytes (default 1 MiB). */
  bodyLimit?: number
  /** Clock in epoch milliseconds (tests). */
  now?: () => number
}

const knownOptions = ['prefix', 'authenticate', 'repository', 'onEvent', 'baseUrl', 'bodyLimit', 'now']
const maxTokenLength = 4096
const maxIdLength = 255
const kCaller = Symbol('fastify-sso.scim-caller')

interface Settings {
  prefix: string
  authenticate: ScimOptions['authenticate']
  repository: ScimRepository
  onEvent: NonNullable<ScimOptions['onEvent']>
  origin: string | undefined
  bodyLimit: number
  now: () => number
}

function validate (options: ScimOptions): Settings {
  optionsObject('scim', options, knownOptions, '{ authenticate, repository }')
  const authenticate = functionOption<ScimOptions['authenticate']>('scim.authenticate', options.authenticate, '(bearerToken, request) => ({ organizationId }) | null')
  if (!authenticate) throw optionError('scim.authenticate', 'is required: (bearerToken) => ({ organizationId }) | null, e.g. scimTokenVerifier({ [hashScimToken(token)]: \'org_acme\' }).')
  const repository = options.repository as ScimRepository | undefined
  if (typeof repository !== 'object' || repository === null || repositoryMethods.some(method => typeof repository[method] !== 'function')) {
    throw optionError('scim.repository', `is required: memoryScimRepository(), or an object with ${repositoryMethods.join(', ')} (see docs/scim.md).`)
  }
  return {
    prefix: routePath('scim.prefix', options.prefix, '/scim/v2'),
    authenticate,
    repository,
    onEvent: functionOption<NonNullable<ScimOptions['onEvent']>>('scim.onEvent', options.onEvent, 'async (event, request) => { … }') ?? (() => {}),
    origin: options.baseUrl === undefined ? undefined : parseHttpUrl('scim.baseUrl', options.baseUrl).origin,
    bodyLimit: positiveInteger('scim.bodyLimit', options.bodyLimit, 1024 * 1024, 'bytes'),
    now: functionOption<() => number>('scim.now', options.now, 'returning epoch milliseconds') ?? Date.now
  }
}

/** The caller set by the authentication hook. */
function callerOf (request: FastifyRequest): Caller {
  return (request as FastifyRequest & { [kCaller]: Caller })[kCaller]
}

/** The bearer token of the Authorization header, or null. */
function bearerToken (header: unknown): string | null {
  if (typeof header !== 'string' || header.length > maxTokenLength + 16) return null
  const space = header.indexOf(' ')
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return null
  const token = header.slice(space + 1).trim()
  return token.length > 0 && token.length <= maxTokenLength && !/\s/.test(token) ? token : null
}

function tenantOf (value: unknown): Caller['directory'] | null {
  if (value === null || value === undefined || value === false) return null
  const tenant = value as ScimTenant
  if (typeof tenant !== 'object' || typeof tenant.organizationId !== 'string' || tenant.organizationId.length === 0 || tenant.organizationId.length > 255) {
    throw new Error('scim authenticate() must return { organizationId } (a non-empty string) or null')
  }
  const directoryId = typeof tenant.directoryId === 'string' && tenant.directoryId ? tenant.directoryId : tenant.organizationId
  return { organizationId: tenant.organizationId, directoryId }
}

/** A query parameter given once, or undefined; twice is ambiguous. */
function single (query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw invalidValue(`${name} must be given once.`)
  return value
}

function send (reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', scimContentType).header('cache-control', 'no-store').send(body)
}

async function scimPlugin (fastify: FastifyInstance, rawOptions: ScimOptions): Promise<void> {
  const settings = validate(rawOptions)
  let origin = settings.origin
  fastify.addHook('onReady', async () => {
    origin ??= findCore(fastify)?.options.baseUrl.origin
  })
  const base = () => `${origin ?? ''}${settings.prefix}`
  const endpoint: Record<ResourceType, string> = { User: 'Users', Group: 'Groups' }
  const location = (type: ResourceType, id: string) => `${base()}/${endpoint[type]}/${encodeURIComponent(id)}`
  const provisioning = new Provisioning({ repository: settings.repository, onEvent: settings.onEvent, now: settings.now, location })

  const sendResource = (request: FastifyRequest, reply: FastifyReply, status: number, record: ScimRecord) => {
    reply.header('etag', etagOf(record.version))
    if (status === 201) reply.header('location', location(record.type, record.id))
    return send(reply, status, project(record.type, provisioning.render(record), single(request.query, 'attributes'), single(request.query, 'excludedAttributes')))
  }

  await fastify.register(async function scimRoutes (routes) {
    const parseJson = routes.getDefaultJsonParser('error', 'error')
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string', bodyLimit: settings.bodyLimit }, parseJson)
    routes.setErrorHandler((err, request, reply) => sendScimError(request, reply, toScimError(err, request)))
    routes.setNotFoundHandler((request, reply) => sendScimError(request, reply, notFound(`${request.method} ${request.url.split('?')[0]!.slice(0, 200)} is not a SCIM endpoint of this service provider.`)))

    routes.decorateRequest(kCaller, null)
    routes.addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization)
      const directory = token === null ? null : tenantOf(await settings.authenticate(token, request))
      if (!directory) {
        throw new ScimError(401, 'A valid bearer token is required (Authorization: Bearer <token>).')
      }
      (request as FastifyRequest & { [kCaller]: Caller })[kCaller] = { request, directory }
    })
    routes.addHook('onSend', async (request, reply) => {
      if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="SCIM"')
    })

    routes.get('/ServiceProviderConfig', async (_request, reply) => send(reply, 200, serviceProviderConfig(base())))
    routes.get('/ResourceTypes', async (_request, reply) => send(reply, 200, listResponse((['User', 'Group'] as const).map(type => resourceType(type, base())))))
    routes.get<{ Params: { id: string } }>('/ResourceTypes/:id', async (request, reply) => {
      const type = (['User', 'Group'] as const).find(candidate => candidate === request.params.id)
      if (!type) throw notFound(`No resource type "${request.params.id.slice(0, 100)}".`)
      return send(reply, 200, resourceType(type, base()))
    })
    routes.get('/Schemas', async (_request, reply) => send(reply, 200, listResponse(schemas(base()))))
    routes.get<{ Params: { id: string } }>('/Schemas/:id', async (request, reply) => {
      const schema = schemas(base()).find(candidate => candidate.id === request.params.id)
      if (!schema) throw notFound(`No schema "${request.params.id.slice(0, 200)}".`)
      return send(reply, 200, schema)
    })
    for (const unsupported of ['/Bulk', '/Me']) {
      routes.all(unsupported, async () => { throw new ScimError(501, `${unsupported} is not supported by this service provider.`) })
    }

    const writeOptions = { bodyLimit: settings.bodyLimit }
    for (const type of ['User', 'Group'] as const) {
      const path = `/${endpoint[type]}`
      type WithId = { Params: { id: string } }
      const idOf = (request: FastifyRequest<WithId>) => {
        const id = request.params.id
        if (id.length === 0 || id.length > maxIdLength) throw notFound(`No ${type} with this id exists.`)
        return id
      }
      const bodyOf = (request: FastifyRequest) => {
        if (request.body === undefined || request.body === null) throw invalidSyntax('A JSON body is required.')
        return request.body
      }
      const ifMatch = (request: FastifyRequest) => {
        const header = request.headers['if-match']
        return typeof header === 'string' ? header : undefined
      }

      routes.post(path, writeOptions, async (request, reply) => {
        const record = await provisioning.create(callerOf(request), type, bodyOf(request))
        return sendResource(request, reply, 201, record)
      })
      routes.get(path, async (request, reply) => {
        const query = request.query
        const page = await provisioning.list(callerOf(request), type, {
          filter: single(query, 'filter'), startIndex: single(query, 'startIndex'), count: single(query, 'count')
        })
        // sortBy / sortOrder are ignored (ServiceProviderConfig says sort is unsupported): oldest first.
        const attributes = single(query, 'attributes')
        const excluded = single(query, 'excludedAttributes')
        return send(reply, 200, {
          ...listResponse(page.resources.map(record => project(type, provisioning.render(record), attributes, excluded))),
          totalResults: page.totalResults,
          startIndex: page.startIndex
        })
      })
      routes.get<WithId>(`${path}/:id`, async (request, reply) => {
        return sendResource(request, reply, 200, await provisioning.get(callerOf(request), type, idOf(request)))
      })
      routes.put<WithId>(`${path}/:id`, writeOptions, async (request, reply) => {
        const record = await provisioning.replace(callerOf(request), type, idOf(request), bodyOf(request), ifMatch(request))
        return sendResource(request, reply, 200, record)
      })
      routes.patch<WithId>(`${path}/:id`, writeOptions, async (request, reply) => {
        const record = await provisioning.patch(callerOf(request), type, idOf(request), bodyOf(request), ifMatch(request))
        return sendResource(request, reply, 200, record)
      })
      routes.delete<WithId>(`${path}/:id`, async (request, reply) => {
        await provisioning.delete(callerOf(request), type, idOf(request), ifMatch(request))
        return reply.code(204).header('cache-control', 'no-store').send()
      })
    }
  }, { prefix: settings.prefix })
}

/**
 * SCIM 2.0 provisioning endpoints: Okta and Microsoft Entra ID create, update, deactivate and
 * delete the users and groups of one organization per bearer token. A deactivated or deleted user
 * loses every session at once (on every instance sharing fastify-sso's store), and every change
 * reaches `onEvent` as the `dsync.*` event `directorySync` would deliver.
 *
 * @example
 * ```ts
 * import ssoPlugin, { scim, memoryScimRepository, scimTokenVerifier } from 'fastify-sso'
 *
 * await app.register(ssoPlugin, { ... })
 * await app.register(scim, {
 *   prefix: '/scim/v2',
 *   authenticate: scimTokenVerifier({ [process.env.ACME_SCIM_TOKEN_HASH]: 'org_acme' }),
 *   repository: memoryScimRepository(),
 *   onEvent: async (event) => {
 *     if (event.event === 'dsync.user.created') await db.users.upsert(event.data)
 *   },
 * })
 * ```
 */
export const scim = fp(scimPlugin, { name: 'fastify-sso-scim', fastify: '5.x' })

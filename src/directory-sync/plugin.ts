/**
 * `directorySync`: the WorkOS Directory Sync webhook route.
 *
 * Exactness is the point: a forged event never gets in (signature over the raw body, both-way
 * timestamp window), a real one is never lost (2xx only after `onEvent` resolved; anything else
 * makes WorkOS retry) and never applied twice (each event id delivered at most once, across
 * instances when the store is shared).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { findCore } from '../core.ts'
import {
  StoreUnavailableError, WebhookHandlerError, WebhookInProgressError, WebhookTooLargeError, isSsoError
} from '../errors.ts'
import { sendJsonError } from '../error-reply.ts'
import { sha256 } from '../crypto.ts'
import { functionOption, optionError, optionsObject, positiveInteger, routePath } from '../option-checks.ts'
import { validateStore, type SsoStore } from '../store/store.ts'
import { memoryStore } from '../store/memory.ts'
import { deprovisionedUser, parseEvent, type DirectorySyncEvent } from './events.ts'
import { verifySignature } from './signature.ts'

/** Options of {@link directorySync}. */
export interface DirectorySyncOptions {
  /** Route path (default `/webhooks/workos-directory-sync`). */
  path?: string
  /** The webhook secret from the WorkOS dashboard. */
  secret?: string
  /** Several secrets during a rotation: a signature by any of them is accepted. */
  secrets?: string[]
  /** Accepted clock difference in seconds, in both directions (default 180). */
  tolerance?: number
  /** Called once per event id; the delivery is acknowledged only after it resolves. */
  onEvent: (event: DirectorySyncEvent, request: FastifyRequest) => unknown | Promise<unknown>
  /** Where delivered event ids are remembered (default: the fastify-sso plugin's store, else in memory). */
  store?: SsoStore
  /** Largest body accepted, in bytes (default 1 MiB). */
  bodyLimit?: number
  /** Clock in epoch milliseconds (tests). */
  now?: () => number
}

const knownOptions = ['path', 'secret', 'secrets', 'tolerance', 'onEvent', 'store', 'bodyLimit', 'now']
/** An event whose first delivery is being handled; longer than any handler should take. */
const processingMs = 5 * 60_000
/** WorkOS retries for 3 days: remember delivered ids a little longer. */
const deliveredMs = 4 * 24 * 3600_000

interface Settings {
  path: string
  secrets: string[]
  toleranceMs: number
  onEvent: DirectorySyncOptions['onEvent']
  store: SsoStore | undefined
  bodyLimit: number
  now: () => number
}

function validate (options: DirectorySyncOptions): Settings {
  optionsObject('directorySync', options, knownOptions, '{ secret, onEvent }')
  const path = routePath('directorySync.path', options.path, '/webhooks/workos-directory-sync')
  if (options.secret !== undefined && options.secrets !== undefined) throw optionError('directorySync.secrets', 'cannot be combined with secret: give one or the other.')
  const secrets = options.secrets ?? (options.secret === undefined ? [] : [options.secret])
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some(secret => typeof secret !== 'string' || secret.length === 0)) {
    throw optionError('directorySync.secret', 'is required: the webhook secret from the WorkOS dashboard (or secrets: [new, old] during a rotation).')
  }
  const tolerance = positiveInteger('directorySync.tolerance', options.tolerance, 180, 'seconds')
  const onEvent = functionOption<DirectorySyncOptions['onEvent']>('directorySync.onEvent', options.onEvent, 'async (event, request) => { … }')
  if (!onEvent) throw optionError('directorySync.onEvent', 'is required: async (event, request) => { … }.')
  const bodyLimit = positiveInteger('directorySync.bodyLimit', options.bodyLimit, 1024 * 1024, 'bytes')
  const now = functionOption<() => number>('directorySync.now', options.now, 'returning epoch milliseconds') ?? Date.now
  return {
    path,
    secrets,
    toleranceMs: tolerance * 1000,
    onEvent,
    store: validateStore('directorySync.store', options.store),
    bodyLimit,
    now
  }
}

/** How a delivery of an already-known event id is answered. */
type Claim = 'first' | 'done' | 'in-progress'

async function claim (store: SsoStore, key: string): Promise<Claim> {
  if (await store.add(key, 'processing', processingMs)) return 'first'
  return await store.get(key) === 'done' ? 'done' : 'in-progress'
}

async function directorySyncPlugin (fastify: FastifyInstance, rawOptions: DirectorySyncOptions): Promise<void> {
  const settings = validate(rawOptions)
  let store = settings.store
  // Resolved once everything is registered, so the order of the two plugins does not matter.
  fastify.addHook('onReady', async () => {
    store ??= findCore(fastify)?.store ?? memoryStore()
  })

  async function handle (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const verified = verifySignature(request.headers['workos-signature'], rawBody, settings.secrets, settings.toleranceMs, settings.now())
    const { event, raw } = await parseEvent(rawBody, verified)

    const key = `dsync:event:${sha256(event.id)}`
    let claimed: Claim
    try {
      claimed = await claim(store!, key)
    } catch (err) {
      request.log.error({ err }, 'fastify-sso: the store failed while recording a webhook delivery')
      throw StoreUnavailableError('The event store is unavailable; WorkOS will deliver the event again.')
    }
    if (claimed === 'done') return reply.code(200).send({ received: true, duplicate: true })
    if (claimed === 'in-progress') throw WebhookInProgressError('This event is being processed by another delivery; WorkOS will retry it.')

    try {
      await revokeIfDeprovisioned(request, raw)
      await settings.onEvent(event, request)
    } catch (err) {
      await store!.delete(key).catch(() => {}) // let the retry run the handler again
      if (isSsoError(err)) throw err
      request.log.error({ err, eventId: event.id, event: event.event }, 'fastify-sso: directory-sync onEvent failed')
      throw WebhookHandlerError()
    }
    await store!.set(key, 'done', deliveredMs).catch((err: unknown) => {
      request.log.warn({ err, eventId: event.id }, 'fastify-sso: could not record a delivered event; a duplicate may be handled again')
    })
    return reply.code(200).send({ received: true })
  }

  await fastify.register(async function webhookRoute (route) {
    // The raw bytes are what WorkOS signed: this context reads every body as a Buffer, and the
    // app's JSON parsing elsewhere is untouched.
    route.removeAllContentTypeParsers()
    route.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.bodyLimit }, (_request, body, done) => done(null, body))
    route.setErrorHandler((err, request, reply) => {
      const status = (err as { statusCode?: number }).statusCode
      return sendJsonError(request, reply, status === 413 ? WebhookTooLargeError(`The webhook body is larger than ${settings.bodyLimit} bytes.`) : err)
    })
    route.post(settings.path, { bodyLimit: settings.bodyLimit }, async (request, reply) => {
      try {
        return await handle(request, reply)
      } catch (err) {
        return sendJsonError(request, reply, err)
      }
    })
  })
}

/**
 * A deleted or deactivated user loses every session, on every instance sharing the store: only
 * sessions of the directory's organization, since another tenant's directory could otherwise
 * name (by email or IdP id) a user who is not theirs. A directory without an organization (an
 * old WorkOS setup) revokes across the app, as the only tenant there is.
 */
async function revokeIfDeprovisioned (request: FastifyRequest, raw: Record<string, unknown>): Promise<void> {
  const user = deprovisionedUser(raw)
  const core = findCore(request.server)
  if (!user || !core) return
  const scope = user.organizationId ? { organizationId: user.organizationId } : {}
  try {
    for (const email of user.emails) await core.revocations.revokeUser({ email, ...scope })
    if (user.idpId) await core.revocations.revokeUser({ idpId: user.idpId, ...scope })
  } catch (err) {
    request.log.error({ err }, 'fastify-sso: could not revoke a deprovisioned user\'s sessions')
    throw StoreUnavailableError('The sessions of the deprovisioned user could not be revoked; WorkOS will deliver the event again.')
  }
  request.log.info({ emails: user.emails.length, idpId: user.idpId !== undefined, organizationId: user.organizationId }, 'fastify-sso: revoked the sessions of a deprovisioned user')
}

/**
 * The WorkOS Directory Sync webhook: verified, typed, delivered at most once.
 *
 * @example
 * ```ts
 * import ssoPlugin, { directorySync } from 'fastify-sso'
 *
 * await app.register(ssoPlugin, { ... })
 * await app.register(directorySync, {
 *   secret: process.env.WORKOS_WEBHOOK_SECRET,
 *   onEvent: async (event) => {
 *     if (event.event === 'dsync.user.created') await db.users.upsert(event.data)
 *   },
 * })
 * // dsync.user.deleted and deactivations also end the user's sessions.
 * ```
 */
export const directorySync = fp(directorySyncPlugin, { name: 'fastify-sso-directory-sync', fastify: '5.x' })

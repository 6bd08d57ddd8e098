/**
 * Audit events: every login, failed login, logout, revocation, refresh and failed refresh, as one
 * small object given to the `onAuditEvent` option, published on `node:diagnostics_channel`
 * (`fastify-sso:<type>`) and logged at info level.
 *
 * Events are built field by field from what is safe to keep (ids, email, organization, provider,
 * an error code and its user-facing message): never a token, a code, an assertion, a cookie or a
 * secret. `onAuditEvent` runs after the reply is on its way (setImmediate), is never awaited, and
 * whatever it throws or rejects is logged: a slow or broken audit sink never delays or breaks a
 * login. Events exist for the auth routes and refreshes only; a protected request emits none.
 */
import { channel, type Channel } from 'node:diagnostics_channel'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { definedFields } from './defined-fields.ts'
import { isSsoError } from './errors.ts'
import type { SsoUser } from './user.ts'

/**
 * Every audit event type, each published on the channel `fastify-sso:<type>`.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * import { auditEventTypes } from 'fastify-sso'
 * for (const type of auditEventTypes) subscribe(`fastify-sso:${type}`, (event) => siem.send(event))
 * ```
 */
export const auditEventTypes = ['login', 'login.failed', 'logout', 'session.revoked', 'session.refreshed', 'session.refresh_failed'] as const

/**
 * What happened: see {@link AuditEvent}.
 *
 * @example
 * ```ts
 * const alerting: AuditEventType[] = ['login.failed', 'session.revoked']
 * ```
 */
export type AuditEventType = typeof auditEventTypes[number]

/**
 * Who revoked sessions: a user's `logout`, a new `login` replacing the browser's previous session,
 * a directory-sync `webhook`, `scim` provisioning, the application (`api`: `app.sso.revoke()`), or
 * the IdP's `backchannel` logout, or a `refresh` the IdP refused (tokens on request).
 *
 * @example
 * ```ts
 * onAuditEvent: (event) => { if (event.type === 'session.revoked' && event.source === 'webhook') notifyAdmins(event) }
 * ```
 */
export type RevocationSource = 'logout' | 'login' | 'webhook' | 'scim' | 'api' | 'backchannel' | 'refresh'

/**
 * One audit event. Fields that do not apply are absent.
 *
 * - `login`: a session was created (SSO callback or `app.sso.signIn()`).
 * - `login.failed`: `/login` or the callback refused a sign-in; `code` is the `FST_SSO_*` code and
 *   `reason` its message (what the user was shown).
 * - `logout`: a user ended their session (`POST {prefix}/logout` or `request.logout()`).
 * - `session.revoked`: sessions were revoked; `source` says by whom.
 * - `session.refreshed` / `session.refresh_failed`: the provider state (access token) of a session was
 *   renewed, or could not be (the user is signed out; `code`, `reason`).
 *
 * @example
 * ```ts
 * await app.register(ssoPlugin, {
 *   ...options,
 *   onAuditEvent: (event) => auditLog.insert(event), // not awaited: a slow store never delays a login
 * })
 * // { type: 'login.failed', at: '2026-05-01T09:12:44.120Z', requestId: 'req-7', ip: '203.0.113.9',
 * //   userAgent: 'Mozilla/5.0 …', provider: 'oidc', code: 'FST_SSO_STATE_MISMATCH', reason: 'The state …' }
 * ```
 */
export interface AuditEvent {
  type: AuditEventType
  /** When, as an ISO 8601 timestamp (the plugin's clock). */
  at: string
  /** The Fastify request id; absent for events outside a request (`app.sso.revoke()` from a job). */
  requestId?: string
  /** The client's address (`request.ip`, so behind a proxy set Fastify's `trustProxy`). */
  ip?: string
  /** The client's User-Agent header (at most 256 characters). */
  userAgent?: string
  userId?: string
  email?: string
  organizationId?: string
  connectionId?: string
  /** The provider's name (`oidc`, `workos-sso`, `local`…). */
  provider?: string
  /** Failures: the `FST_SSO_*` code. */
  code?: string
  /** Failures: a short reason, the coded error's message (at most 200 characters). */
  reason?: string
  /** `session.revoked`: who revoked. */
  source?: RevocationSource
}

/** What a caller gives {@link AuditTrail.emit}: the event without the parts the trail fills in. */
export type AuditInput = Omit<AuditEvent, 'at' | 'requestId' | 'ip' | 'userAgent'>

/**
 * Receives every audit event (the `onAuditEvent` option).
 *
 * @example
 * ```ts
 * const onAuditEvent: AuditListener = async (event) => { await db.auditEvents.insert(event) }
 * ```
 */
export type AuditListener = (event: AuditEvent) => unknown

const maxUserAgent = 256
const maxReason = 200

/** The channel of each event type, created once. */
const channels = new Map<AuditEventType, Channel>(auditEventTypes.map(type => [type, channel(`fastify-sso:${type}`)]))

/** The user fields an event carries (never claims, tokens or provider state). */
export function auditUser (user: SsoUser | null | undefined): Pick<AuditEvent, 'userId' | 'email' | 'organizationId' | 'connectionId' | 'provider'> {
  if (!user) return {}
  return definedFields({ userId: user.id, email: user.email || undefined, organizationId: user.organizationId, connectionId: user.connectionId, provider: user.provider })
}

/** The code and short reason of a failure (coded errors only: other messages may describe internals). */
export function auditFailure (err: unknown): Pick<AuditEvent, 'code' | 'reason'> {
  if (!isSsoError(err)) return { code: 'FST_SSO_INTERNAL', reason: 'An unexpected error occurred.' }
  return { code: err.code, reason: err.message.slice(0, maxReason) }
}

/**
 * One registration's audit trail (`core.audit`).
 *
 * @example
 * ```ts
 * core.audit.emit({ type: 'session.revoked', source: 'scim', userId }, request)
 * ```
 */
export class AuditTrail {
  readonly #listener: AuditListener | undefined
  readonly #log: FastifyBaseLogger
  readonly #now: () => number

  constructor (options: { listener: AuditListener | undefined, log: FastifyBaseLogger, now: () => number }) {
    this.#listener = options.listener
    this.#log = options.log
    this.#now = options.now
  }

  /**
   * Records one event: the request's id, address and user agent are added, then the event is
   * published, logged at info level and handed to `onAuditEvent`. Never throws, never waits.
   */
  emit (input: AuditInput, request?: FastifyRequest): void {
    const log = request?.log ?? this.#log
    let event: AuditEvent
    try {
      event = Object.freeze(definedFields({
        ...input,
        at: new Date(this.#now()).toISOString(),
        requestId: request ? String(request.id) : undefined,
        ip: request?.ip,
        userAgent: request ? userAgent(request) : undefined
      }))
    } catch (err) {
      log.error({ err }, 'fastify-sso: could not build an audit event')
      return
    }
    const published = channels.get(event.type)
    if (published?.hasSubscribers) published.publish(event)
    log.info({ audit: event }, `fastify-sso: audit ${event.type}`)
    const listener = this.#listener
    if (listener) setImmediate(deliver, listener, event, log)
  }
}

/** Calls `onAuditEvent` outside the request's path; its failures are logged, never thrown. */
function deliver (listener: AuditListener, event: AuditEvent, log: FastifyBaseLogger): void {
  try {
    const result = listener(event)
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
      (result as Promise<unknown>).then(undefined, (err: unknown) => log.error({ err, auditEvent: event.type }, 'fastify-sso: onAuditEvent failed'))
    }
  } catch (err) {
    log.error({ err, auditEvent: event.type }, 'fastify-sso: onAuditEvent failed')
  }
}

function userAgent (request: FastifyRequest): string | undefined {
  const value = request.headers['user-agent']
  return typeof value === 'string' ? value.slice(0, maxUserAgent) : undefined
}

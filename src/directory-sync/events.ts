/**
 * Directory-sync events as the WorkOS SDK deserialises them (`id`, `event`, `data`, `createdAt`,
 * camelCase fields), typed with the SDK's own event types.
 */
import {
  WorkOS,
  type DsyncActivatedEvent, type DsyncDeletedEvent, type DsyncGroupCreatedEvent, type DsyncGroupDeletedEvent,
  type DsyncGroupUpdatedEvent, type DsyncGroupUserAddedEvent, type DsyncGroupUserRemovedEvent,
  type DsyncUserCreatedEvent, type DsyncUserDeletedEvent, type DsyncUserUpdatedEvent
} from '@workos-inc/node'
import { WebhookBodyError } from '../errors.ts'
import type { VerifiedSignature } from './signature.ts'

/** An event type this version does not know (a new WorkOS event): passed through untouched. */
export interface UnknownDirectoryEvent {
  id: string
  event: string
  createdAt: string
  data: unknown
}

/**
 * What `onEvent` receives. Narrow it on `event.event`:
 *
 * @example
 * ```ts
 * onEvent: async (event) => {
 *   if (event.event === 'dsync.user.deleted') await users.deactivate(event.data.idpId)
 * }
 * ```
 */
export type DirectorySyncEvent =
  | DsyncActivatedEvent | DsyncDeletedEvent
  | DsyncUserCreatedEvent | DsyncUserUpdatedEvent | DsyncUserDeletedEvent
  | DsyncGroupCreatedEvent | DsyncGroupUpdatedEvent | DsyncGroupDeletedEvent
  | DsyncGroupUserAddedEvent | DsyncGroupUserRemovedEvent
  | UnknownDirectoryEvent

/** Longest event id accepted (it becomes a store key). */
const maxIdLength = 255

// The SDK's deserialiser is reached only through `webhooks.constructEvent`, which first checks the
// signature again, with WebCrypto (an HMAC key import, a sign, then a generateKey + sign + verify
// to compare): about 300 µs of CPU per event, more than all the rest of the route. The body has
// already passed our own, stricter check (signature.ts: both-way window, every v1, every secret,
// constant time), so the parser's `verifyHeader` is a no-op: an own property shadowing the SDK's
// getter. Were a future SDK to verify some other way, it would only re-check a valid header.
// No API key is needed (no request is ever made), only a client id to construct the SDK.
const sdkWebhooks = new WorkOS({ clientId: 'client_fastify_sso_webhook_parser' }).webhooks
const parser: Pick<typeof sdkWebhooks, 'constructEvent'> = Object.create(sdkWebhooks, {
  verifyHeader: { value: async (): Promise<void> => {} }
})

/**
 * Parses a verified body into an event.
 * @throws FST_SSO_WEBHOOK_BODY_INVALID for anything that is not a WorkOS event
 */
export async function parseEvent (rawBody: Buffer, verified: VerifiedSignature): Promise<{ event: DirectorySyncEvent, raw: Record<string, unknown> }> {
  let raw: unknown
  try {
    raw = JSON.parse(rawBody.toString('utf8'))
  } catch {
    throw WebhookBodyError('The webhook body is not JSON.')
  }
  const candidate = raw as Record<string, unknown>
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate) ||
      typeof candidate.id !== 'string' || candidate.id.length === 0 || candidate.id.length > maxIdLength ||
      typeof candidate.event !== 'string' || typeof candidate.data !== 'object' || candidate.data === null) {
    throw WebhookBodyError('The webhook body is not a WorkOS event (id, event and data are required).')
  }
  try {
    // Already parsed: the SDK takes the object as it is (no second JSON.parse) and builds the
    // camelCase event from it without changing it.
    const event = await parser.constructEvent({ payload: candidate, sigHeader: `t=${verified.timestamp}, v1=${verified.signature}`, secret: verified.secret })
    return { event: event as DirectorySyncEvent, raw: candidate }
  } catch {
    throw WebhookBodyError(`The ${String(candidate.event).slice(0, 64)} event has an unexpected shape.`)
  }
}

/**
 * Whether this event means the user must lose access: deleted, or updated to a non-active state.
 * `organizationId` is the directory's organization: revocation stays within it.
 */
export function deprovisionedUser (raw: Record<string, unknown>): { emails: string[], idpId?: string, organizationId?: string } | null {
  const data = (raw.event === 'dsync.user.deleted' || raw.event === 'dsync.user.updated') ? raw.data as Record<string, unknown> : undefined
  if (!data) return null
  if (raw.event === 'dsync.user.updated' && data.state === 'active') return null
  const emails = new Set<string>()
  if (typeof data.email === 'string' && data.email) emails.add(data.email.toLowerCase())
  // Older payloads list every address in `emails`.
  if (Array.isArray(data.emails)) {
    for (const entry of data.emails) {
      const value = (entry as { value?: unknown })?.value
      if (typeof value === 'string' && value) emails.add(value.toLowerCase())
    }
  }
  const idpId = typeof data.idp_id === 'string' && data.idp_id ? data.idp_id : undefined
  const organizationId = typeof data.organization_id === 'string' && data.organization_id ? data.organization_id : undefined
  return emails.size > 0 || idpId ? { emails: [...emails], idpId, organizationId } : null
}

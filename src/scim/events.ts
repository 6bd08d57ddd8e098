/**
 * SCIM changes as the `dsync.*` events `directorySync` delivers (the WorkOS SDK's camelCase
 * shape), so that one `onEvent` handler serves WorkOS webhooks and SCIM alike. `rawAttributes`
 * carries the SCIM resource; `context.source` is `'scim'`.
 */
import type {
  DirectoryGroup, DirectoryUser, DsyncGroupCreatedEvent, DsyncGroupDeletedEvent, DsyncGroupUpdatedEvent,
  DsyncGroupUserAddedEvent, DsyncGroupUserRemovedEvent, DsyncUserCreatedEvent, DsyncUserDeletedEvent, DsyncUserUpdatedEvent
} from '@workos-inc/node'
import { isDeepStrictEqual } from 'node:util'
import { randomId } from '../crypto.ts'
import type { ScimRecord } from './repository.ts'
import { isObject } from './resources.ts'

/** The events the `scim` plugin emits (a subset of `DirectorySyncEvent`). */
export type ScimEvent =
  | DsyncUserCreatedEvent | DsyncUserUpdatedEvent | DsyncUserDeletedEvent
  | DsyncGroupCreatedEvent | DsyncGroupUpdatedEvent | DsyncGroupDeletedEvent
  | DsyncGroupUserAddedEvent | DsyncGroupUserRemovedEvent

/** Which tenant's directory: the organization, and the directory id events carry. */
export interface ScimDirectory {
  organizationId: string
  directoryId: string
}

const stringOrNull = (value: unknown): string | null => typeof value === 'string' && value.length > 0 ? value : null

/** Every email address of a User record, the primary one first. */
export function emailsOf (record: Pick<ScimRecord, 'attributes' | 'userName'>): string[] {
  const emails = Array.isArray(record.attributes.emails) ? record.attributes.emails as Array<{ value?: unknown, primary?: unknown }> : []
  const values = [...emails].sort((a, b) => Number(b.primary === true) - Number(a.primary === true))
    .map(email => email.value).filter((value): value is string => typeof value === 'string' && value.length > 0)
  // Okta and Entra ID put the sign-in address in userName; it is an email more often than not.
  if (values.length === 0 && record.userName?.includes('@')) values.push(record.userName)
  return values
}

/** A User record as the SDK's `DirectoryUser`. */
export function directoryUser (record: ScimRecord, directory: ScimDirectory, rawAttributes: Record<string, unknown>): DirectoryUser {
  const name = isObject(record.attributes.name) ? record.attributes.name : {}
  return {
    object: 'directory_user',
    id: record.id,
    directoryId: directory.directoryId,
    organizationId: directory.organizationId,
    idpId: record.externalId ?? '',
    firstName: stringOrNull(name.givenName),
    lastName: stringOrNull(name.familyName),
    email: emailsOf(record)[0] ?? null,
    state: record.active ? 'active' : 'inactive',
    rawAttributes,
    customAttributes: {},
    createdAt: record.created,
    updatedAt: record.lastModified
  }
}

/** A Group record as the SDK's `DirectoryGroup` (without its member list, as WorkOS sends it). */
export function directoryGroup (record: ScimRecord, directory: ScimDirectory, rawAttributes: Record<string, unknown>): DirectoryGroup {
  const { members: _members, ...raw } = rawAttributes
  return {
    id: record.id,
    idpId: record.externalId ?? '',
    directoryId: directory.directoryId,
    organizationId: directory.organizationId,
    name: record.displayName ?? '',
    createdAt: record.created,
    updatedAt: record.lastModified,
    rawAttributes: raw
  }
}

/** The previous values of the fields that changed between two mapped users or groups (WorkOS's `previousAttributes`). */
export function previousAttributes<T extends object> (before: T, after: T): Record<string, unknown> {
  const previous: Record<string, unknown> = {}
  for (const key of Object.keys(before) as Array<keyof T & string>) {
    if (key === 'updatedAt' || key === 'rawAttributes') continue
    if (!isDeepStrictEqual(before[key], after[key])) previous[key] = before[key]
  }
  return previous
}

/** An event envelope, as the SDK deserialises webhook events. */
export function envelope<K extends ScimEvent['event']> (event: K, data: Extract<ScimEvent, { event: K }>['data'], at: string): Extract<ScimEvent, { event: K }> {
  return { id: `event_scim_${randomId(12)}`, event, data, createdAt: at, context: { source: 'scim' } } as unknown as Extract<ScimEvent, { event: K }>
}

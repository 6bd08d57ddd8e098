/**
 * What the SCIM routes do, apart from HTTP: create, read, list, replace, patch and delete Users and
 * Groups of one organization in the app's repository; end a deprovisioned user's sessions; and
 * tell the app through `dsync.*` events.
 *
 * Rules that matter:
 * - Every repository call names the caller's organization: another tenant's record is absent (404).
 * - A change to one record is serialised in this process and guarded by its version in the
 *   repository (two instances, two concurrent PATCHes: the second re-reads and re-applies), so
 *   concurrent PATCHes never lose an update.
 * - A deactivation or a deletion revokes the user's sessions *before* it is stored: if revoking
 *   fails the request fails (503) and the client retries with nothing stored; the reverse order
 *   would store "inactive" and leave the sessions alive, with no retry to fix it.
 * - Revocation is limited to the caller's organization, so a tenant naming another tenant's
 *   user's email signs out nobody but its own users.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyRequest } from 'fastify'
import { isDeepStrictEqual } from 'node:util'
import { findCore } from '../core.ts'
import { invalidValue, notFound, ScimError, uniqueness } from './errors.ts'
import {
  directoryGroup, directoryUser, emailsOf, envelope, previousAttributes,
  type ScimDirectory, type ScimEvent
} from './events.ts'
import { parseScimFilter } from './filter.ts'
import { applyPatch } from './patch.ts'
import type { ScimRecord, ScimRepository } from './repository.ts'
import { etagOf, memberIds, readResource, renderResource, resourceFields } from './resources.ts'
import type { ResourceType } from './schema.ts'
import { maxResults } from './discovery.ts'

/** Who is calling: the request (for its log and the sessions to revoke) and the token's tenant. */
export interface Caller {
  request: FastifyRequest
  directory: ScimDirectory
}

/** The query parameters of a list request. */
export interface ListParameters {
  filter?: string | undefined
  startIndex?: string | undefined
  count?: string | undefined
}

const defaultCount = 100
/** Attempts at a change whose record another instance changed meanwhile, with a random pause between them. */
const maxAttempts = 8
const retryPauseMs = 10

/** Runs tasks one at a time per key (one record), in arrival order. */
class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>()

  run<T> (key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const result = previous.then(task, task)
    const tail = result.catch(() => {})
    this.#tails.set(key, tail)
    void tail.then(() => { if (this.#tails.get(key) === tail) this.#tails.delete(key) })
    return result
  }
}

/** An `If-Match` header (RFC 7232 §3.1): `*`, or a list of ETags; weak comparison. */
function checkIfMatch (header: string | undefined, record: ScimRecord): void {
  if (header === undefined) return
  const wanted = header.split(',').map(tag => tag.trim().replace(/^W\//, ''))
  const current = etagOf(record.version).replace(/^W\//, '')
  if (!wanted.includes('*') && !wanted.includes(current)) {
    throw new ScimError(412, `The resource is at version ${etagOf(record.version)}, not the one in If-Match: read it again.`)
  }
}

function wholeNumber (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  if (!/^-?\d{1,9}$/.test(value)) throw invalidValue(`${name} must be a whole number.`)
  return Number(value)
}

export interface ProvisioningSettings {
  repository: ScimRepository
  onEvent: (event: ScimEvent, request: FastifyRequest) => unknown
  now: () => number
  /** The URL of a resource, for `meta.location` and `Location`. */
  location: (type: ResourceType, id: string) => string
}

export class Provisioning {
  readonly #repository: ScimRepository
  readonly #settings: ProvisioningSettings
  readonly #queue = new KeyedQueue()

  constructor (settings: ProvisioningSettings) {
    this.#repository = settings.repository
    this.#settings = settings
  }

  /** A record as the SCIM resource clients read. */
  render (record: ScimRecord): Record<string, unknown> {
    return renderResource(record, this.#settings.location(record.type, record.id))
  }

  async get (caller: Caller, type: ResourceType, id: string): Promise<ScimRecord> {
    const record = await this.#repository.get(caller.directory.organizationId, type, id)
    if (!record) throw notFound(`No ${type} with id "${id.slice(0, 100)}" exists.`)
    return record
  }

  async list (caller: Caller, type: ResourceType, parameters: ListParameters): Promise<{ totalResults: number, startIndex: number, resources: ScimRecord[] }> {
    const filter = parameters.filter === undefined ? undefined : parseScimFilter(parameters.filter, type)
    // RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a negative count is 0.
    const startIndex = Math.max(1, wholeNumber('startIndex', parameters.startIndex, 1))
    const count = Math.min(maxResults, Math.max(0, wholeNumber('count', parameters.count, defaultCount)))
    const page = await this.#repository.list(caller.directory.organizationId, type, { filter, startIndex, count })
    return { totalResults: page.totalResults, startIndex, resources: page.resources.slice(0, count) }
  }

  async create (caller: Caller, type: ResourceType, body: unknown): Promise<ScimRecord> {
    const attributes = readResource(type, body)
    const at = new Date(this.#settings.now()).toISOString()
    const record = this.#record(caller, type, randomUUID(), attributes, 1, at, at)
    const members = type === 'Group' ? await this.#members(caller, memberIds(attributes)) : new Map<string, ScimRecord>()
    if (!record.active) await this.#revoke(caller, [record]) // provisioned inactive: any earlier session ends
    if (await this.#repository.create(record) === 'duplicate') throw this.#duplicate(record)
    if (type === 'User') await this.#emit(caller, envelope('dsync.user.created', this.#user(caller, record), at))
    else {
      await this.#emit(caller, envelope('dsync.group.created', this.#group(caller, record), at))
      await this.#emitMembership(caller, record, [...members.values()], 'dsync.group.user_added', at)
    }
    return record
  }

  /**
   * PUT: the body replaces every attribute, except that a body without `active` keeps the
   * current state: a PUT that merely omits it must not reactivate a deprovisioned user.
   */
  replace (caller: Caller, type: ResourceType, id: string, body: unknown, ifMatch: string | undefined): Promise<ScimRecord> {
    return this.#change(caller, type, id, ifMatch, current => {
      const attributes = readResource(type, body, id)
      if (type === 'User' && attributes.active === undefined && current.attributes.active !== undefined) attributes.active = current.attributes.active
      return attributes
    })
  }

  /** PATCH: the operations apply to the current attributes. */
  patch (caller: Caller, type: ResourceType, id: string, body: unknown, ifMatch: string | undefined): Promise<ScimRecord> {
    return this.#change(caller, type, id, ifMatch, current => applyPatch(type, current.attributes, body, id))
  }

  delete (caller: Caller, type: ResourceType, id: string, ifMatch: string | undefined): Promise<void> {
    return this.#queue.run(this.#key(caller, type, id), async () => {
      const current = await this.get(caller, type, id)
      checkIfMatch(ifMatch, current)
      if (type === 'User') await this.#revoke(caller, [current])
      if (!await this.#repository.delete(caller.directory.organizationId, type, id)) throw notFound(`No ${type} with id "${id.slice(0, 100)}" exists.`)
      const at = new Date(this.#settings.now()).toISOString()
      if (type === 'Group') {
        await this.#emit(caller, envelope('dsync.group.deleted', this.#group(caller, current), at))
        return
      }
      await this.#leaveGroups(caller, current)
      await this.#emit(caller, envelope('dsync.user.deleted', { ...this.#user(caller, current), state: 'inactive' as const }, at))
    })
  }

  /** Read, compute the new attributes, write if the version is unchanged; again if it changed. */
  #change (caller: Caller, type: ResourceType, id: string, ifMatch: string | undefined, compute: (current: ScimRecord) => Record<string, unknown>, leaving?: ScimRecord): Promise<ScimRecord> {
    return this.#queue.run(this.#key(caller, type, id), async () => {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const current = await this.get(caller, type, id)
        checkIfMatch(ifMatch, current)
        const attributes = compute(current)
        if (isDeepStrictEqual(attributes, current.attributes)) return current // nothing to store, nothing to tell
        const at = new Date(this.#settings.now()).toISOString()
        const next = this.#record(caller, type, id, attributes, current.version + 1, current.created, at)
        const before = new Set(memberIds(current.attributes))
        const added = type === 'Group' ? await this.#members(caller, memberIds(attributes).filter(member => !before.has(member))) : new Map<string, ScimRecord>()
        if (type === 'User' && !next.active) await this.#revoke(caller, [current, next])
        const result = await this.#repository.update(next, current.version)
        if (result === 'duplicate') throw this.#duplicate(next)
        if (result === 'stale') {
          // Another instance wrote first: pause a random while so the two do not keep colliding.
          await sleep(Math.random() * retryPauseMs * attempt)
          continue
        }
        await this.#emitChange(caller, current, next, added, at, leaving)
        return next
      }
      throw new ScimError(409, `The ${type} kept changing while this request was applied; send it again.`)
    })
  }

  /** `leaving`: a deleted user being removed from the group (no longer in the repository to look up). */
  async #emitChange (caller: Caller, current: ScimRecord, next: ScimRecord, added: Map<string, ScimRecord>, at: string, leaving?: ScimRecord): Promise<void> {
    if (next.type === 'User') {
      const before = this.#user(caller, current)
      const after = this.#user(caller, next)
      await this.#emit(caller, envelope('dsync.user.updated', { ...after, previousAttributes: previousAttributes(before, after) }, at))
      return
    }
    const { members: _before, ...restBefore } = current.attributes
    const { members: _after, ...restAfter } = next.attributes
    if (!isDeepStrictEqual(restBefore, restAfter)) {
      const before = this.#group(caller, current)
      const after = this.#group(caller, next)
      await this.#emit(caller, envelope('dsync.group.updated', { ...after, previousAttributes: previousAttributes(before, after) }, at))
    }
    const remaining = new Set(memberIds(next.attributes))
    const removedIds = memberIds(current.attributes).filter(member => !remaining.has(member))
    const removed = await Promise.all(removedIds.map(member => member === leaving?.id ? leaving : this.#repository.get(caller.directory.organizationId, 'User', member)))
    await this.#emitMembership(caller, next, [...added.values()], 'dsync.group.user_added', at)
    await this.#emitMembership(caller, next, removed.filter((user): user is ScimRecord => user !== null), 'dsync.group.user_removed', at)
  }

  async #emitMembership (caller: Caller, group: ScimRecord, users: ScimRecord[], event: 'dsync.group.user_added' | 'dsync.group.user_removed', at: string): Promise<void> {
    const mappedGroup = this.#group(caller, group)
    for (const user of users) {
      await this.#emit(caller, envelope(event, { directoryId: caller.directory.directoryId, user: this.#user(caller, user), group: mappedGroup }, at))
    }
  }

  /** A deleted user leaves every group of the organization that lists them. */
  async #leaveGroups (caller: Caller, user: ScimRecord): Promise<void> {
    const filter = `members.value eq ${JSON.stringify(user.id)}`
    const done = new Set<string>() // a repository whose filter misbehaves must not loop forever
    for (;;) {
      const { resources } = await this.list(caller, 'Group', { filter, count: String(maxResults) })
      const pending = resources.filter(group => !done.has(group.id))
      if (pending.length === 0) return
      for (const group of pending) {
        done.add(group.id)
        await this.#change(caller, 'Group', group.id, undefined, current => {
          const members = (current.attributes.members as Array<{ value: string }> | undefined ?? []).filter(member => member.value !== user.id)
          const { members: _members, ...rest } = current.attributes
          return members.length > 0 ? { ...rest, members } : rest
        }, user)
      }
    }
  }

  /** The Users a group is to list, each of the caller's organization; any other id is absent (404). */
  async #members (caller: Caller, ids: string[]): Promise<Map<string, ScimRecord>> {
    const found = new Map<string, ScimRecord>()
    for (const id of ids) {
      const user = await this.#repository.get(caller.directory.organizationId, 'User', id)
      if (!user) throw notFound(`No User with id "${id.slice(0, 100)}" exists to be a member.`)
      found.set(id, user)
    }
    return found
  }

  /** Ends the sessions of the users these records describe (old and new addresses), within the caller's organization. */
  async #revoke (caller: Caller, records: ScimRecord[]): Promise<void> {
    const core = findCore(caller.request.server)
    if (!core) return // registered without fastify-sso: there are no sessions to end
    const organizationId = caller.directory.organizationId
    const emails = new Set<string>()
    const idpIds = new Set<string>()
    for (const record of records) {
      for (const email of emailsOf(record)) emails.add(email.toLowerCase())
      if (record.userName?.includes('@')) emails.add(record.userName.toLowerCase())
      if (record.externalId) idpIds.add(record.externalId)
    }
    try {
      for (const email of emails) await core.revocations.revokeUser({ email, organizationId })
      for (const idpId of idpIds) await core.revocations.revokeUser({ idpId, organizationId })
    } catch (err) {
      caller.request.log.error({ err }, 'fastify-sso: could not revoke a deprovisioned user\'s sessions')
      throw new ScimError(503, 'The user\'s sessions could not be ended (the session store is unavailable); nothing was changed. Retry the request.')
    }
    caller.request.log.info({ organizationId, emails: emails.size, idpIds: idpIds.size }, 'fastify-sso: revoked the sessions of a user deprovisioned through SCIM')
  }

  async #emit (caller: Caller, event: ScimEvent): Promise<void> {
    try {
      await this.#settings.onEvent(event, caller.request)
    } catch (err) {
      caller.request.log.error({ err, event: event.event }, 'fastify-sso: SCIM onEvent failed; the change is stored and the client will retry')
      throw new ScimError(500, 'The change was stored, but the application failed to handle it; the request may be retried.')
    }
  }

  #record (caller: Caller, type: ResourceType, id: string, attributes: Record<string, unknown>, version: number, created: string, lastModified: string): ScimRecord {
    return { type, id, organizationId: caller.directory.organizationId, ...resourceFields(type, attributes), version, created, lastModified, attributes }
  }

  #duplicate (record: ScimRecord): ScimError {
    return uniqueness(`A User with userName "${record.userName?.slice(0, 320)}" already exists in this organization.`)
  }

  #user (caller: Caller, record: ScimRecord) {
    return directoryUser(record, caller.directory, this.render(record))
  }

  #group (caller: Caller, record: ScimRecord) {
    return directoryGroup(record, caller.directory, this.render(record))
  }

  #key (caller: Caller, type: ResourceType, id: string): string {
    return `${caller.directory.organizationId.length}:${caller.directory.organizationId}|${type}|${id}`
  }
}

/**
 * Where provisioned users and groups live: the app's own storage, behind five methods. The
 * plugin stores nothing of its own; `memoryScimRepository()` serves tests and the example.
 */
import { matchesScimFilter, type ScimFilter } from './filter.ts'
import type { ResourceType } from './schema.ts'

/**
 * One provisioned User or Group of one organization, as the repository stores it.
 *
 * `attributes` is the SCIM resource as clients wrote it (normalised: `userName`, `name`, `emails`,
 * `active`, `members`, the enterprise extension…), without `id`, `meta` and `schemas`. The other
 * fields are derived from it for indexing: store them in columns, `attributes` as JSON.
 */
export interface ScimRecord {
  type: ResourceType
  /** Assigned by the plugin (a UUID); unique. */
  id: string
  /** The tenant the record belongs to: every method is scoped to one. */
  organizationId: string
  /** Users only: unique within the organization, compared case-insensitively. */
  userName?: string | undefined
  displayName?: string | undefined
  externalId?: string | undefined
  /** Users: false once deprovisioned. Groups: always true. */
  active: boolean
  /** 1 at creation, +1 on every change: the ETag, and the guard against lost updates. */
  version: number
  /** ISO 8601 timestamps. */
  created: string
  lastModified: string
  attributes: Readonly<Record<string, unknown>>
}

/** A page of a listing: `startIndex` is 1-based (SCIM's), `count` at most the page size. */
export interface ScimListQuery {
  filter?: ScimFilter | undefined
  startIndex: number
  count: number
}

/** What `create` and `update` report. */
export type ScimWriteResult = 'ok' | 'duplicate' | 'stale'

/**
 * The storage the `scim` plugin needs. Every method is scoped to one organization: a record of
 * another organization must be as absent as one that never existed.
 *
 * @example
 * ```ts
 * // PostgreSQL, one table (docs/scim.md has the whole example):
 * // CREATE TABLE scim_resources (organization_id text, type text, id uuid PRIMARY KEY, user_name text,
 * //   display_name text, external_id text, active boolean, version int, created timestamptz,
 * //   last_modified timestamptz, attributes jsonb);
 * // CREATE UNIQUE INDEX ON scim_resources (organization_id, lower(user_name)) WHERE type = 'User';
 * const repository: ScimRepository = {
 *   async get (organizationId, type, id) { … SELECT … WHERE organization_id = $1 AND type = $2 AND id = $3 },
 *   async list (organizationId, type, query) { … WHERE … AND ${filterToSql(query.filter)} ORDER BY created, id OFFSET … LIMIT … },
 *   async create (record) { … INSERT; a unique violation (23505) → 'duplicate' },
 *   async update (record, expectedVersion) { … UPDATE … WHERE id = $1 AND version = $2; no row → 'stale' },
 *   async delete (organizationId, type, id) { … DELETE …; return rowCount > 0 },
 * }
 * ```
 */
export interface ScimRepository {
  /** The record, or null when the organization has none with this id. */
  get(organizationId: string, type: ResourceType, id: string): Promise<ScimRecord | null>
  /** The organization's records matching the filter, oldest first, one page; `totalResults` counts every match. */
  list(organizationId: string, type: ResourceType, query: ScimListQuery): Promise<{ totalResults: number, resources: ScimRecord[] }>
  /** Stores a new record; 'duplicate' when a User of the organization already has this userName (case-insensitively). */
  create(record: ScimRecord): Promise<Exclude<ScimWriteResult, 'stale'>>
  /**
   * Replaces a record if its stored version is still `expectedVersion` (`record.version` is the
   * next one): 'stale' when it changed or is gone (the plugin reads it again and retries),
   * 'duplicate' when the new userName is taken.
   */
  update(record: ScimRecord, expectedVersion: number): Promise<ScimWriteResult>
  /** Deletes a record; false when there was none. */
  delete(organizationId: string, type: ResourceType, id: string): Promise<boolean>
}

/** The methods an object must have to be a repository (checked at register). */
export const repositoryMethods = ['get', 'list', 'create', 'update', 'delete'] as const

interface Tenant {
  records: Map<string, ScimRecord>
  /** Users by lowercased userName: the uniqueness rule and the clients' probe before a create. */
  userNames: Map<string, string>
  /** Ids by exact externalId and by lowercased displayName, per type. */
  externalIds: Map<string, Set<string>>
  displayNames: Map<string, Set<string>>
}

const indexKey = (type: ResourceType, value: string) => `${type}:${value}`

function addTo (index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key)
  if (!ids) index.set(key, ids = new Set())
  ids.add(id)
}

function removeFrom (index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key)
  if (!ids) return
  ids.delete(id)
  if (ids.size === 0) index.delete(key)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

/** Candidate ids for a filter from the indexes, or undefined when the whole organization must be scanned. */
function candidates (tenant: Tenant, type: ResourceType, filter: ScimFilter | undefined): Iterable<string> | undefined {
  if (!filter) return undefined
  if (filter.op === 'and') {
    for (const part of filter.filters) {
      const found = candidates(tenant, type, part)
      if (found) return found
    }
    return undefined
  }
  if (filter.op !== 'eq' || typeof filter.value !== 'string') return undefined
  switch (filter.attribute) {
    case 'id': return [filter.value]
    case 'userName': {
      const id = tenant.userNames.get(filter.value.toLowerCase())
      return id === undefined ? [] : [id]
    }
    case 'externalId': return tenant.externalIds.get(indexKey(type, filter.value)) ?? []
    case 'displayName': return tenant.displayNames.get(indexKey(type, filter.value.toLowerCase())) ?? []
    default: return undefined
  }
}

/**
 * An in-process repository: for tests, the example and trying things out. Records are kept per
 * organization, frozen, with indexes for the lookups clients make before every change
 * (`userName eq`, `externalId eq`, `displayName eq`, `id eq`). Lost at restart.
 *
 * @example
 * ```ts
 * import { scim, memoryScimRepository } from 'fastify-sso'
 * const repository = memoryScimRepository()
 * await app.register(scim, { authenticate, repository })
 * const page = await repository.list('org_acme', 'User', { startIndex: 1, count: 100 })
 * ```
 */
export function memoryScimRepository (): ScimRepository {
  const tenants = new Map<string, Tenant>()
  const tenantOf = (organizationId: string): Tenant => {
    let tenant = tenants.get(organizationId)
    if (!tenant) tenants.set(organizationId, tenant = { records: new Map(), userNames: new Map(), externalIds: new Map(), displayNames: new Map() })
    return tenant
  }
  const index = (tenant: Tenant, record: ScimRecord) => {
    if (record.type === 'User' && record.userName !== undefined) tenant.userNames.set(record.userName.toLowerCase(), record.id)
    if (record.externalId !== undefined) addTo(tenant.externalIds, indexKey(record.type, record.externalId), record.id)
    if (record.displayName !== undefined) addTo(tenant.displayNames, indexKey(record.type, record.displayName.toLowerCase()), record.id)
  }
  const unindex = (tenant: Tenant, record: ScimRecord) => {
    if (record.type === 'User' && record.userName !== undefined) tenant.userNames.delete(record.userName.toLowerCase())
    if (record.externalId !== undefined) removeFrom(tenant.externalIds, indexKey(record.type, record.externalId), record.id)
    if (record.displayName !== undefined) removeFrom(tenant.displayNames, indexKey(record.type, record.displayName.toLowerCase()), record.id)
  }
  const takenBy = (tenant: Tenant, record: ScimRecord): string | undefined =>
    record.type === 'User' && record.userName !== undefined ? tenant.userNames.get(record.userName.toLowerCase()) : undefined

  // Every method finishes synchronously: a read-check-write never interleaves with another.
  return {
    async get (organizationId, type, id) {
      const record = tenants.get(organizationId)?.records.get(id)
      return record?.type === type ? record : null
    },
    async list (organizationId, type, query) {
      const tenant = tenants.get(organizationId)
      if (!tenant) return { totalResults: 0, resources: [] }
      const ids = candidates(tenant, type, query.filter)
      const pool = ids ? [...ids].map(id => tenant.records.get(id)).filter((record): record is ScimRecord => record !== undefined) : tenant.records.values()
      const matches: ScimRecord[] = []
      for (const record of pool) {
        if (record.type === type && (!query.filter || matchesScimFilter(query.filter, record))) matches.push(record)
      }
      // Oldest first, as the records were created (the Map's order; index hits come in any order).
      if (ids) matches.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id))
      return { totalResults: matches.length, resources: matches.slice(query.startIndex - 1, query.startIndex - 1 + query.count) }
    },
    async create (record) {
      const tenant = tenantOf(record.organizationId)
      if (takenBy(tenant, record) !== undefined) return 'duplicate'
      const stored = deepFreeze(structuredClone(record))
      tenant.records.set(stored.id, stored)
      index(tenant, stored)
      return 'ok'
    },
    async update (record, expectedVersion) {
      const tenant = tenants.get(record.organizationId)
      const current = tenant?.records.get(record.id)
      if (!tenant || !current || current.type !== record.type || current.version !== expectedVersion) return 'stale'
      const owner = takenBy(tenant, record)
      if (owner !== undefined && owner !== record.id) return 'duplicate'
      const stored = deepFreeze(structuredClone(record))
      unindex(tenant, current)
      tenant.records.set(stored.id, stored)
      index(tenant, stored)
      return 'ok'
    },
    async delete (organizationId, type, id) {
      const tenant = tenants.get(organizationId)
      const current = tenant?.records.get(id)
      if (!tenant || !current || current.type !== type) return false
      tenant.records.delete(id)
      unindex(tenant, current)
      return true
    }
  }
}

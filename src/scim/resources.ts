/**
 * Users and Groups as SCIM resources: the body of a POST or PUT (and the result of a PATCH)
 * checked against the schema and normalised, and a stored record rendered back with `meta`.
 *
 * Normalising is where the clients' dialects meet: Entra ID's `"active": "False"` and
 * `"primary": "true"` become booleans, a bare string `manager` becomes `{ value }`, a single object
 * where a list belongs becomes a list. Read-only attributes (`id`, `meta`, `groups`) and
 * `password` (Okta sends one when password sync is on; this provider never stores it) are
 * dropped, as are attributes no schema defines. Values of the wrong type are a 400 `invalidValue`.
 */
import { invalidValue, mutability } from './errors.ts'
import {
  coreSchemaOf, extensionsOf, findAttribute, findExtension, isCustomExtension, readOnlyAttributes,
  type AttributeDefinition, type ResourceType
} from './schema.ts'

/** Longest string attribute value accepted. */
const maxStringLength = 2048
/** Longest `userName` (an email address at most, as in the session user). */
const maxUserNameLength = 320
/** Most values in a multi-valued attribute; groups may have many more members. */
const maxValues = 1000
const maxMembers = 100_000
/** Deepest nesting accepted inside an app-defined extension (kept opaque). */
const maxExtensionDepth = 8

/** A JSON object (not an array, not null). */
export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The record fields derived from a resource's attributes. */
export interface ResourceFields {
  userName?: string
  displayName?: string
  externalId?: string
  active: boolean
}

/**
 * Checks and normalises a resource body (POST, PUT, or a PATCH result).
 * @throws a SCIM 400 `invalidValue` (wrong type, missing `userName`/`displayName`)
 */
export function readResource (type: ResourceType, body: unknown, resourceId?: string): Record<string, unknown> {
  if (!isObject(body)) throw invalidValue(`The ${type} must be a JSON object.`)
  const core = coreSchemaOf[type]
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    if (key === 'id' && resourceId !== undefined && value !== undefined && value !== resourceId) {
      throw mutability('id is assigned by the service provider and cannot be changed.')
    }
    if (readOnlyAttributes.has(key) || key.toLowerCase() === 'password') continue
    if (key.toLowerCase().startsWith('urn:')) {
      readExtension(type, key, value, out)
      continue
    }
    const definition = findAttribute(core.attributes, key)
    if (!definition) continue // unknown attributes are ignored (RFC 7643 §3.1 clients send extras)
    const normalised = readValue(definition, value, definition.name)
    if (normalised !== undefined) out[definition.name] = normalised
  }
  requireCoreFields(type, out)
  return out
}

function readExtension (type: ResourceType, key: string, value: unknown, out: Record<string, unknown>): void {
  // The core schema URN as a key (a fully qualified core attribute container) is not a thing
  // clients send; extensions are objects of their attributes.
  const extension = findExtension(type, key)
  if (extension) {
    if (value === null) return
    if (!isObject(value)) throw invalidValue(`${extension.urn} must be an object of its attributes.`)
    const attributes: Record<string, unknown> = {}
    for (const [name, inner] of Object.entries(value)) {
      const definition = findAttribute(extension.attributes, name)
      if (!definition) continue
      const normalised = readValue(definition, inner, `${extension.urn}:${definition.name}`)
      if (normalised !== undefined) attributes[definition.name] = normalised
    }
    if (Object.keys(attributes).length > 0) out[extension.urn] = attributes
    return
  }
  if (isCustomExtension(key) && isObject(value)) {
    checkDepth(value, key, 0)
    out[key] = value
  }
}

function checkDepth (value: unknown, where: string, depth: number): void {
  if (depth > maxExtensionDepth) throw invalidValue(`${where} is nested deeper than ${maxExtensionDepth} levels.`)
  if (Array.isArray(value)) for (const item of value) checkDepth(item, where, depth + 1)
  else if (isObject(value)) for (const item of Object.values(value)) checkDepth(item, where, depth + 1)
}

function requireCoreFields (type: ResourceType, out: Record<string, unknown>): void {
  if (type === 'User') {
    const userName = out.userName
    if (typeof userName !== 'string' || userName.length === 0) throw invalidValue('userName is required.')
    if (userName.length > maxUserNameLength) throw invalidValue(`userName is longer than ${maxUserNameLength} characters.`)
  } else if (typeof out.displayName !== 'string' || out.displayName.length === 0) {
    throw invalidValue('displayName is required.')
  }
}

/** One attribute value, normalised; `undefined` for null or an empty value (unassigned, RFC 7644 §3.5.1). */
function readValue (definition: AttributeDefinition, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined
  if (definition.multiValued) {
    const items = Array.isArray(value) ? value : [value] // a lone object where a list belongs
    const limit = path === 'members' ? maxMembers : maxValues
    if (items.length > limit) throw invalidValue(`${path} has more than ${limit} values.`)
    const list: unknown[] = []
    for (const item of items) {
      const normalised = readSingle(definition, item, path)
      if (normalised !== undefined) list.push(normalised)
    }
    if (path === 'members') return list.length > 0 ? uniqueMembers(list as Array<{ value: string }>) : undefined
    return list.length > 0 ? list : undefined
  }
  if (Array.isArray(value)) throw invalidValue(`${path} takes a single value, not a list.`)
  return readSingle(definition, value, path)
}

function readSingle (definition: AttributeDefinition, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return undefined
  switch (definition.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value
      // Entra ID sends booleans as the strings "True" and "False".
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
      throw invalidValue(`${path} must be true or false.`)
    case 'complex': {
      // Entra ID sends the enterprise manager as the manager's id alone.
      if (typeof value === 'string' && definition.name === 'manager') return value ? { value } : undefined
      if (!isObject(value)) throw invalidValue(`${path} must be an object.`)
      const out: Record<string, unknown> = {}
      for (const [name, inner] of Object.entries(value)) {
        const sub = findAttribute(definition.subAttributes ?? [], name)
        if (!sub) continue
        const normalised = readSingle(sub, inner, `${path}.${sub.name}`)
        if (normalised !== undefined) out[sub.name] = normalised
      }
      if (definition.name === 'members' && (typeof out.value !== 'string' || out.value.length === 0)) {
        throw invalidValue('Every member needs a value: the id of a User.')
      }
      return Object.keys(out).length > 0 ? out : undefined
    }
    default:
      if (typeof value !== 'string') throw invalidValue(`${path} must be a string.`)
      if (value.length > maxStringLength) throw invalidValue(`${path} is longer than ${maxStringLength} characters.`)
      return value
  }
}

/** Members by id, once each (the first entry wins). */
function uniqueMembers (members: Array<{ value: string }>): Array<{ value: string }> {
  const seen = new Set<string>()
  return members.filter(member => !seen.has(member.value) && seen.add(member.value))
}

/** The fields a repository indexes, from a resource's attributes. */
export function resourceFields (type: ResourceType, attributes: Readonly<Record<string, unknown>>): ResourceFields {
  const fields: ResourceFields = { active: type === 'Group' || attributes.active !== false }
  if (type === 'User') fields.userName = attributes.userName as string
  if (typeof attributes.displayName === 'string') fields.displayName = attributes.displayName
  if (typeof attributes.externalId === 'string') fields.externalId = attributes.externalId
  return fields
}

/** The member ids of a group's attributes. */
export function memberIds (attributes: Readonly<Record<string, unknown>>): string[] {
  const members = attributes.members
  return Array.isArray(members) ? members.map(member => (member as { value: string }).value) : []
}

/** What `meta` and `schemas` are rendered from. */
export interface RenderableRecord {
  type: ResourceType
  id: string
  version: number
  created: string
  lastModified: string
  attributes: Readonly<Record<string, unknown>>
}

/** The weak ETag of a record version (RFC 7644 §3.14). */
export const etagOf = (version: number) => `W/"${version}"`

/** A stored record as the SCIM resource clients read. `location` is the resource's URL. */
export function renderResource (record: RenderableRecord, location: string): Record<string, unknown> {
  const schemas = [coreSchemaOf[record.type].urn]
  for (const key of Object.keys(record.attributes)) if (key.startsWith('urn:')) schemas.push(key)
  const { externalId, ...rest } = record.attributes
  return {
    schemas,
    id: record.id,
    ...(externalId === undefined ? {} : { externalId }),
    ...rest,
    meta: { resourceType: record.type, created: record.created, lastModified: record.lastModified, location, version: etagOf(record.version) }
  }
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes to return. `schemas`
 * and `id` are always returned. Names are case-insensitive; `name.givenName` selects a sub-attribute.
 */
export function project (type: ResourceType, resource: Record<string, unknown>, attributes: string | undefined, excluded: string | undefined): Record<string, unknown> {
  if (attributes === undefined && excluded === undefined) return resource
  const canonical = (name: string) => canonicalPath(type, name.trim())
  if (attributes !== undefined) {
    const wanted = attributes.split(',').map(canonical).filter((path): path is string[] => path !== undefined)
    const out: Record<string, unknown> = { schemas: resource.schemas, id: resource.id }
    for (const [top, sub] of wanted) {
      const value = resource[top!]
      if (value === undefined) continue
      if (sub === undefined || !isObject(value)) out[top!] = value
      else if (value[sub] !== undefined) out[top!] = { ...(isObject(out[top!]) ? out[top!] as object : {}), [sub]: value[sub] }
    }
    return out
  }
  const out = { ...resource }
  for (const path of excluded!.split(',').map(canonical)) {
    if (!path) continue
    const [top, sub] = path
    if (top === 'id' || top === 'schemas') continue
    if (sub === undefined) delete out[top!]
    else if (isObject(out[top!])) {
      const { [sub]: _dropped, ...kept } = out[top!] as Record<string, unknown>
      out[top!] = kept
    }
  }
  return out
}

/** `[attribute, sub-attribute?]` in canonical spelling, or undefined for a name no schema defines. */
function canonicalPath (type: ResourceType, name: string): string[] | undefined {
  const lower = name.toLowerCase()
  const coreUrn = `${coreSchemaOf[type].urn.toLowerCase()}:`
  const plain = lower.startsWith(coreUrn) ? name.slice(coreUrn.length) : name
  if (plain.toLowerCase() === 'id' || plain.toLowerCase() === 'schemas' || plain.toLowerCase() === 'meta') return [plain.toLowerCase() === 'id' ? 'id' : plain.toLowerCase()]
  for (const extension of extensionsOf[type]) {
    if (plain.toLowerCase() === extension.urn.toLowerCase()) return [extension.urn]
  }
  const [top = '', sub] = plain.split('.')
  const definition = findAttribute(coreSchemaOf[type].attributes, top)
  if (!definition) return undefined
  if (sub === undefined) return [definition.name]
  const subDefinition = findAttribute(definition.subAttributes ?? [], sub)
  return subDefinition ? [definition.name, subDefinition.name] : undefined
}

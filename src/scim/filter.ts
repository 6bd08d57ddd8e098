/**
 * SCIM filters (RFC 7644 §3.4.2.2): `userName eq "alice@acme.test"`, `externalId eq "…"`,
 * `id eq "…" and members.value eq "…"`. Parsed by scim2-parse-filter (a parser for the RFC's
 * grammar; never a regular expression), then checked against the attributes this service
 * provider filters on and put in a canonical form the app's repository can translate (to SQL, say)
 * without knowing SCIM's case rules: attribute names spelled canonically, booleans as booleans.
 */
import { parse as parseFilterText, type Filter as ParsedFilter } from 'scim2-parse-filter'
import { invalidFilter } from './errors.ts'
import { coreSchemaOf, type ResourceType } from './schema.ts'

/**
 * The attributes a filter may name, by resource type (what a repository's query translation must cover).
 *
 * @example
 * ```ts
 * filterableAttributes.Group // ['id', 'displayName', 'externalId', 'members.value']
 * ```
 */
export const filterableAttributes = {
  User: ['id', 'userName', 'externalId', 'displayName', 'active', 'emails.value', 'name.givenName', 'name.familyName'],
  Group: ['id', 'displayName', 'externalId', 'members.value']
} as const

/** An attribute a filter may name (see `filterableAttributes`). */
export type ScimFilterAttribute = typeof filterableAttributes[ResourceType][number]

/**
 * A parsed filter, as the repository receives it. String comparisons are case-insensitive except
 * on `id`, `externalId` and `members.value` (`caseExactAttributes`); `active` compares booleans.
 *
 * @example
 * ```ts
 * // filter=userName eq "Alice@Acme.test" and active eq true
 * const filter: ScimFilter = { op: 'and', filters: [
 *   { op: 'eq', attribute: 'userName', value: 'Alice@Acme.test' },
 *   { op: 'eq', attribute: 'active', value: true },
 * ] }
 * ```
 */
export type ScimFilter =
  | { op: 'eq' | 'ne' | 'co' | 'sw' | 'ew', attribute: ScimFilterAttribute, value: string | boolean }
  | { op: 'pr', attribute: ScimFilterAttribute }
  | { op: 'and' | 'or', filters: ScimFilter[] }
  | { op: 'not', filter: ScimFilter }

/**
 * Attributes compared case-sensitively (RFC 7643: `caseExact: true`); every other string compares
 * case-insensitively.
 *
 * @example
 * ```ts
 * const sql = caseExactAttributes.has(filter.attribute) ? 'external_id = $1' : 'lower(user_name) = lower($1)'
 * ```
 */
export const caseExactAttributes: ReadonlySet<string> = new Set(['id', 'externalId', 'members.value'])

/** Longest filter accepted: the clients' filters are one or two comparisons. */
const maxFilterLength = 2048
/** Most comparisons in one filter. */
const maxTerms = 32

/**
 * Parses a `filter` query parameter for a resource type.
 * @throws a SCIM 400 `invalidFilter` for a malformed filter or one this provider cannot answer
 *
 * @example
 * ```ts
 * parseScimFilter('USERNAME eq "Alice@Acme.test"', 'User')
 * // { op: 'eq', attribute: 'userName', value: 'Alice@Acme.test' }
 * ```
 */
export function parseScimFilter (text: string, type: ResourceType): ScimFilter {
  if (text.length > maxFilterLength) throw invalidFilter(`The filter is longer than ${maxFilterLength} characters.`)
  let parsed: ParsedFilter
  try {
    parsed = parseFilterText(text)
  } catch (err) {
    // The parser's messages quote the offending token; bounded so a hostile filter is not echoed whole.
    throw invalidFilter(`The filter is not valid SCIM filter syntax (${String((err as Error)?.message ?? err).slice(0, 120)}).`)
  }
  const terms = { count: 0 }
  return normalise(parsed, type, terms)
}

const comparisons = new Set(['eq', 'ne', 'co', 'sw', 'ew'])

function normalise (node: ParsedFilter, type: ResourceType, terms: { count: number }, within?: string): ScimFilter {
  if (++terms.count > maxTerms) throw invalidFilter(`The filter has more than ${maxTerms} terms.`)
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, filters: node.filters.map(child => normalise(child, type, terms, within)) }
    case 'not':
      return { op: 'not', filter: normalise(node.filter, type, terms, within) }
    case '[]': {
      // emails[value eq "x"] is emails.value eq "x": the only sub-attributes filtered on are `value`.
      if (within) throw invalidFilter('Nested value filters are not supported.')
      return normalise(node.valFilter, type, terms, node.attrPath)
    }
    case 'pr':
      return { op: 'pr', attribute: filterAttribute(node.attrPath, type, within) }
    default: {
      const attribute = filterAttribute(node.attrPath, type, within)
      if (!comparisons.has(node.op)) throw invalidFilter(`The operator "${node.op}" is not supported; use eq, ne, co, sw, ew or pr.`)
      const value = comparisonValue(attribute, (node as { compValue: unknown }).compValue)
      if (typeof value === 'boolean' && node.op !== 'eq' && node.op !== 'ne') throw invalidFilter(`${attribute} is compared with eq or ne only.`)
      return { op: node.op as 'eq', attribute, value }
    }
  }
}

const coreUrnPrefix = (type: ResourceType) => `${coreSchemaOf[type].urn.toLowerCase()}:`

/** The canonical spelling of a filtered attribute, or a 400 naming what can be filtered. */
function filterAttribute (path: string, type: ResourceType, within: string | undefined): ScimFilterAttribute {
  let full = within ? `${within}.${path}` : path
  if (full.toLowerCase().startsWith(coreUrnPrefix(type))) full = full.slice(coreUrnPrefix(type).length)
  const lower = full.toLowerCase()
  const known = filterableAttributes[type].find(candidate => candidate.toLowerCase() === lower)
  if (!known) throw invalidFilter(`Filtering ${type}s on "${full.slice(0, 100)}" is not supported; filter on ${filterableAttributes[type].join(', ')}.`)
  return known
}

function comparisonValue (attribute: ScimFilterAttribute, value: unknown): string | boolean {
  if (attribute === 'active') {
    // Entra ID sends booleans as strings elsewhere ("False"); accept both here too.
    if (typeof value === 'boolean') return value
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
    throw invalidFilter('active is compared with true or false.')
  }
  if (typeof value !== 'string') throw invalidFilter(`${attribute} is compared with a quoted string.`)
  return value
}

/** A record as filters see it: its id, its active flag, and its SCIM attributes. */
export interface FilterableRecord {
  id: string
  active: boolean
  attributes: Readonly<Record<string, unknown>>
}

/** The values an attribute has on a record (several for `emails.value`, `members.value`). */
export function attributeValues (record: FilterableRecord, attribute: ScimFilterAttribute): unknown[] {
  if (attribute === 'id') return [record.id]
  if (attribute === 'active') return [record.active]
  const dot = attribute.indexOf('.')
  const top = record.attributes[dot < 0 ? attribute : attribute.slice(0, dot)]
  if (dot < 0) return top === undefined || top === null ? [] : [top]
  const sub = attribute.slice(dot + 1)
  const items = Array.isArray(top) ? top : top !== null && typeof top === 'object' ? [top] : []
  const values: unknown[] = []
  for (const item of items) {
    const value = (item as Record<string, unknown> | null)?.[sub]
    if (value !== undefined && value !== null) values.push(value)
  }
  return values
}

function compare (op: 'eq' | 'ne' | 'co' | 'sw' | 'ew', actual: unknown, expected: string | boolean, caseExact: boolean): boolean {
  if (typeof expected === 'boolean') return actual === expected
  if (typeof actual !== 'string') return false
  const a = caseExact ? actual : actual.toLowerCase()
  const e = caseExact ? expected : expected.toLowerCase()
  switch (op) {
    case 'eq': case 'ne': return a === e
    case 'co': return a.includes(e)
    case 'sw': return a.startsWith(e)
    case 'ew': return a.endsWith(e)
  }
}

/**
 * Whether a record matches a filter, with SCIM's rules (case-insensitive strings except on
 * case-exact attributes; a multi-valued attribute matches when any value does). The memory
 * repository filters with it; an app's repository may too, or translate the filter to its query
 * language.
 *
 * @example
 * ```ts
 * const filter = parseScimFilter('emails.value co "@acme.test"', 'User')
 * const acme = records.filter(record => matchesScimFilter(filter, record))
 * ```
 */
export function matchesScimFilter (filter: ScimFilter, record: FilterableRecord): boolean {
  switch (filter.op) {
    case 'and': return filter.filters.every(child => matchesScimFilter(child, record))
    case 'or': return filter.filters.some(child => matchesScimFilter(child, record))
    case 'not': return !matchesScimFilter(filter.filter, record)
    case 'pr': return attributeValues(record, filter.attribute).some(value => value !== '' && !(Array.isArray(value) && value.length === 0))
    default: {
      const caseExact = caseExactAttributes.has(filter.attribute)
      const any = attributeValues(record, filter.attribute).some(value => compare(filter.op, value, filter.value, caseExact))
      return filter.op === 'ne' ? !any : any
    }
  }
}

/**
 * PATCH (RFC 7644 §3.5.2) in both clients' dialects, applied by scim-patch.
 *
 * The dialects are normalised before the library sees them: operation names are
 * case-insensitive (Entra ID sends `Replace`), an operation without a path becomes one operation
 * per attribute of its value (Okta sends `{ "op": "replace", "value": { "active": false } }`),
 * and every path is checked against the schema and rewritten in canonical spelling (attribute
 * names are case-insensitive; the library is not). Entra ID's string booleans (`"False"`) are
 * turned into booleans when the result is read back through the schema (resources.ts).
 *
 * Checking every path is also what keeps the library safe: scim-patch 0.8.3 walks paths and
 * dotted keys onto the object's prototype chain (advisories GHSA-9m6g-wc8r-q59c and
 * GHSA-2mhw-wcx5-v3xj, fixed upstream after the version published here), so no name reaches it
 * that is not a schema attribute, and no name at all that an object inherits (`constructor`,
 * `__proto__`, `toString`…).
 */
import { scimPatch, type ScimPatchOperation } from 'scim-patch'
import { parse as parseFilterText, stringify as stringifyFilter, type Filter as ParsedFilter } from 'scim2-parse-filter'
import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget, ScimError } from './errors.ts'
import { isObject, readResource } from './resources.ts'
import {
  coreSchemaOf, findAttribute, findExtension, isCustomExtension, readOnlyAttributes,
  type AttributeDefinition, type ResourceType
} from './schema.ts'

export const patchOpSchema = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** Most operations in one PATCH (Entra ID batches up to a few dozen). */
const maxOperations = 1000
const maxPathLength = 1024

type Op = 'add' | 'replace' | 'remove'
interface Operation { op: Op, path: string, value?: unknown }


/**
 * Applies a PATCH body to a resource's attributes and returns the new attributes, normalised.
 * @throws a SCIM 400 (`invalidSyntax`, `invalidPath`, `invalidValue`, `noTarget`, `mutability`)
 */
export function applyPatch (type: ResourceType, attributes: Readonly<Record<string, unknown>>, body: unknown, resourceId: string): Record<string, unknown> {
  const operations = readOperations(type, body, resourceId, attributes)
  const document = { schemas: [coreSchemaOf[type].urn], meta: { created: new Date(0), lastModified: new Date(0) }, ...structuredClone(attributes) }
  let patched: Record<string, unknown>
  try {
    patched = scimPatch(document, operations as ScimPatchOperation[], { mutateDocument: true, treatMissingAsAdd: true }) as unknown as Record<string, unknown>
  } catch (err) {
    throw libraryError(err)
  }
  const { schemas: _schemas, meta: _meta, ...result } = patched
  return readResource(type, result, resourceId)
}

function libraryError (err: unknown): ScimError {
  const code = (err as { scimCode?: unknown })?.scimCode
  const message = String((err as Error)?.message ?? 'The PATCH could not be applied.').replace(/^Invalid SCIM Patch: /, '').slice(0, 300)
  if (code === 'noTarget') return noTarget(message)
  if (code === 'invalidPath') return invalidPath(message)
  if (code === 'invalidSyntax') return invalidSyntax(message)
  return invalidValue(message)
}

function readOperations (type: ResourceType, body: unknown, resourceId: string, attributes: Readonly<Record<string, unknown>>): Operation[] {
  if (!isObject(body)) throw invalidSyntax('The PATCH body must be a JSON object with Operations.')
  if (body.schemas !== undefined && !(Array.isArray(body.schemas) && body.schemas.includes(patchOpSchema))) {
    throw invalidSyntax(`A PATCH body's schemas must include ${patchOpSchema}.`)
  }
  const list = body.Operations ?? body.operations
  if (!Array.isArray(list) || list.length === 0) throw invalidSyntax('The PATCH body needs a non-empty Operations list.')
  if (list.length > maxOperations) throw invalidSyntax(`A PATCH carries at most ${maxOperations} operations.`)
  const operations: Operation[] = []
  for (const raw of list) {
    if (!isObject(raw)) throw invalidSyntax('Every operation must be an object with op, and path or value.')
    const op = typeof raw.op === 'string' ? raw.op.toLowerCase() : ''
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw invalidSyntax(`The operation "${String(raw.op).slice(0, 20)}" is not add, replace or remove.`)
    if (raw.path === undefined || raw.path === null) {
      if (op === 'remove') throw noTarget('A remove operation needs a path.')
      if (!isObject(raw.value)) throw invalidValue(`An ${op} operation without a path needs an object of attributes as its value.`)
      for (const [key, value] of Object.entries(raw.value)) operations.push(...expand(type, op, key, value, resourceId, attributes))
      continue
    }
    if (typeof raw.path !== 'string') throw invalidPath('path must be a string.')
    if (op !== 'remove' && !('value' in raw)) throw invalidValue(`The ${op} operation on ${raw.path.slice(0, 100)} has no value.`)
    operations.push(...expand(type, op, raw.path, raw.value, resourceId, attributes))
  }
  return operations
}

/** One operation on one path, checked; several for a whole extension; none for what is ignored. */
function expand (type: ResourceType, op: Op, rawPath: string, value: unknown, resourceId: string, attributes: Readonly<Record<string, unknown>>): Operation[] {
  const target = resolvePath(type, rawPath)
  switch (target.kind) {
    case 'ignored':
      return []
    case 'readOnly':
      // Okta's group PATCH repeats the group's own id in its replace value: harmless when unchanged.
      if (target.name === 'id' && op !== 'remove' && value === resourceId) return []
      if (target.name === 'schemas') return []
      throw mutability(`${target.name} is read-only.`)
    case 'extension': {
      // The whole extension object: one operation per attribute of it.
      if (op === 'remove') return Object.keys((attributes[target.urn] as object | undefined) ?? {}).map(name => ({ op, path: `${target.urn}:${name}` }))
      if (!isObject(value)) throw invalidValue(`${target.urn} must be an object of its attributes.`)
      return Object.entries(value).flatMap(([name, inner]) => expand(type, op, `${target.urn}:${name}`, inner, resourceId, attributes))
    }
    case 'attribute':
      return op === 'remove' && value === undefined ? [{ op, path: target.path }] : [{ op, path: target.path, value }]
  }
}

type Target =
  | { kind: 'attribute', path: string }
  | { kind: 'extension', urn: string }
  | { kind: 'readOnly', name: string }
  | { kind: 'ignored' }

/**
 * A PATCH path (RFC 7644 §3.5.2: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each
 * optionally after a schema URN) resolved against the schema, in canonical spelling.
 */
export function resolvePath (type: ResourceType, raw: string): Target {
  if (raw.length === 0 || raw.length > maxPathLength) throw invalidPath(`A path must be 1 to ${maxPathLength} characters.`)
  const bracket = raw.indexOf('[')
  const head = bracket < 0 ? raw : raw.slice(0, bracket)
  let definitions: readonly AttributeDefinition[] | undefined = coreSchemaOf[type].attributes
  let urn = ''
  let rest = raw
  if (head.toLowerCase().startsWith('urn:')) {
    const whole = findExtension(type, head)
    if (whole && bracket < 0) return { kind: 'extension', urn: whole.urn }
    const colon = head.lastIndexOf(':')
    const prefix = head.slice(0, colon)
    rest = raw.slice(colon + 1)
    const extension = findExtension(type, prefix)
    if (prefix.toLowerCase() === coreSchemaOf[type].urn.toLowerCase()) urn = ''
    else if (extension) { urn = extension.urn; definitions = extension.attributes }
    else if (isCustomExtension(prefix)) { urn = prefix; definitions = undefined } // the app's own: names only, values kept as sent
    else throw invalidPath(`The schema ${prefix.slice(0, 100)} is not one this service provider knows.`)
  }
  const scan = new PathScanner(rest, raw)
  const name = scan.name()
  if (!urn && readOnlyAttributes.has(name)) return { kind: 'readOnly', name }
  if (!urn && name.toLowerCase() === 'password') return { kind: 'ignored' } // never stored
  const definition = definitions ? findAttribute(definitions, name) : undefined
  if (definitions && !definition) throw invalidPath(`"${raw.slice(0, 100)}" names no attribute of the ${type} schema.`)
  let path = (urn ? `${urn}:` : '') + (definition?.name ?? name)
  if (scan.peek() === '[') {
    if (!definition?.multiValued || !definition.subAttributes) throw invalidPath(`${definition?.name ?? name} is not a multi-valued attribute that can be filtered.`)
    path += `[${valueFilter(definition, scan.bracketed())}]`
  }
  if (scan.peek() === '.') {
    scan.skip()
    const subName = scan.name()
    const sub = definition ? findAttribute(definition.subAttributes ?? [], subName) : undefined
    if (definition && !sub) throw invalidPath(`${definition.name} has no sub-attribute "${subName.slice(0, 50)}".`)
    path += `.${sub?.name ?? subName}`
  }
  if (!scan.done()) throw invalidPath(`"${raw.slice(0, 100)}" is not a valid attribute path.`)
  return { kind: 'attribute', path }
}

/** The filter inside `emails[...]`, its attribute names checked against the sub-attributes and re-spelt. */
function valueFilter (definition: AttributeDefinition, text: string): string {
  let parsed: ParsedFilter
  try {
    parsed = parseFilterText(text)
  } catch {
    throw invalidPath(`The filter in ${definition.name}[${text.slice(0, 100)}] is not valid.`)
  }
  const visit = (node: ParsedFilter): ParsedFilter => {
    switch (node.op) {
      case 'and': case 'or': return { ...node, filters: node.filters.map(visit) }
      case 'not': return { ...node, filter: visit(node.filter) }
      case '[]': throw invalidPath('Nested value filters are not supported.')
      default: {
        const sub = findAttribute(definition.subAttributes ?? [], node.attrPath)
        if (!sub) throw invalidPath(`${definition.name} has no sub-attribute "${node.attrPath.slice(0, 50)}".`)
        return { ...node, attrPath: sub.name }
      }
    }
  }
  return stringifyFilter(visit(parsed))
}

/** Reads a path left to right: names, one bracketed filter, dots. */
class PathScanner {
  #at = 0
  readonly #text: string
  readonly #raw: string

  constructor (text: string, raw: string) {
    this.#text = text
    this.#raw = raw
  }

  peek (): string | undefined { return this.#text[this.#at] }
  skip (): void { this.#at++ }
  done (): boolean { return this.#at === this.#text.length }

  /** ATTRNAME = ALPHA *("-" / "_" / DIGIT / ALPHA), or `$ref`; never a name objects inherit. */
  name (): string {
    const start = this.#at
    if (this.#text.startsWith('$ref', start)) this.#at += 4
    else {
      while (this.#at < this.#text.length && /[A-Za-z0-9_-]/.test(this.#text[this.#at]!)) this.#at++
    }
    const name = this.#text.slice(start, this.#at)
    if (!/^(?:[A-Za-z]|\$ref)/.test(name)) throw invalidPath(`"${this.#raw.slice(0, 100)}" is not a valid attribute path.`)
    if (name in Object.prototype || name === 'prototype') throw invalidPath(`"${name}" is not an attribute name.`)
    return name
  }

  /** The text between `[` and its `]`, skipping brackets inside quoted strings. */
  bracketed (): string {
    const start = ++this.#at
    let quoted = false
    for (; this.#at < this.#text.length; this.#at++) {
      const char = this.#text[this.#at]
      if (quoted && char === '\\') this.#at++
      else if (char === '"') quoted = !quoted
      else if (char === ']' && !quoted) return this.#text.slice(start, this.#at++)
    }
    throw invalidPath(`"${this.#raw.slice(0, 100)}" has an unclosed [.`)
  }
}

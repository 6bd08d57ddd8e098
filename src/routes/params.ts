/**
 * Query and form parameters as single strings. A repeated parameter is ambiguous (which one
 * did the IdP mean? which one did the proxy check?), so it is dropped and reported.
 */

/** Parameters present exactly once, and the names that appeared more than once. */
export interface Params {
  values: Record<string, string>
  repeated: string[]
}

/** Splits a parsed query or form body into single values and repeated names. */
export function singleParams (input: unknown): Params {
  const values: Record<string, string> = Object.create(null)
  const repeated: string[] = []
  if (typeof input !== 'object' || input === null) return { values, repeated }
  for (const [name, value] of Object.entries(input)) {
    if (typeof value === 'string') values[name] = value
    else if (Array.isArray(value)) repeated.push(name)
  }
  return { values, repeated }
}

/** The query string of a request URL, without the `?` (empty when none). */
export function rawQuery (url: string): string {
  const index = url.indexOf('?')
  return index < 0 ? '' : url.slice(index + 1)
}

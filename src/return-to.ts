/**
 * The same-origin `returnTo` rule, in one place. Every value that decides where a browser goes
 * after a login (the `returnTo` query, a JWT IdP's `redirect` parameter, the guard's current
 * path) goes through `safeReturnTo` before it reaches a `Location` header.
 */

/** Longest `returnTo` accepted, in characters. */
export const maxReturnToLength = 2048

// C0 controls, DEL and C1 controls: browsers strip or reinterpret them inside URLs.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/
// Percent-encoded forms of the characters above, of `/` and of `\`: a path that needs them
// encoded is not one a legitimate link produces, and decoding layers (proxies, frameworks)
// disagree about them.
const encodedDangerous = /%(?:[01][0-9a-f]|7f|[89][0-9a-f]|2f|5c)/i

/**
 * Returns `value` when it is a safe same-origin absolute path, otherwise `fallback`.
 *
 * Accepted: `/` followed by anything but `/` or `\`, at most 2,048 characters, no control
 * characters, no backslash and no percent-encoded slash, backslash or control character, and
 * resolving against `origin` to that same origin. The result is the normalised path, query and
 * fragment, so what reaches `Location` is exactly what was checked.
 *
 * @example
 * ```ts
 * safeReturnTo('/invoices?page=2', origin, '/')  // '/invoices?page=2'
 * safeReturnTo('//evil.example', origin, '/')    // '/'
 * safeReturnTo('/\\evil.example', origin, '/')   // '/'
 * ```
 */
export function safeReturnTo (value: unknown, origin: URL, fallback: string): string {
  if (typeof value !== 'string') return fallback
  if (value.length === 0 || value.length > maxReturnToLength) return fallback
  if (value[0] !== '/' || value[1] === '/' || value[1] === '\\') return fallback
  if (value.includes('\\') || controlCharacters.test(value) || encodedDangerous.test(value)) return fallback
  let url: URL
  try {
    url = new URL(value, origin)
  } catch {
    return fallback
  }
  if (url.origin !== origin.origin) return fallback
  const normalised = url.pathname + url.search + url.hash
  // The URL parser may turn `/.//x` into `//x`: check the output by the same rule.
  if (normalised[1] === '/' || normalised[1] === '\\') return fallback
  return normalised
}

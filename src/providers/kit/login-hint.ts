/**
 * The `login_hint` a user typed on the app's own sign-in form, shared by every provider.
 */

/** Longest hint passed on (the longest valid email address). */
const maxHintLength = 320

/**
 * `?login_hint=` or `?email=` from `/login`, when it is a plausible identifier: at most 320
 * characters, no whitespace or control characters. Anything else is dropped, not forwarded.
 *
 * @example
 * ```ts
 * loginHint({ email: 'alice@acme.test' })  // 'alice@acme.test'
 * loginHint({ login_hint: 'a\nb' })        // undefined
 * ```
 */
export function loginHint (query: Readonly<Record<string, string>>): string | undefined {
  const hint = query.login_hint ?? query.email
  if (typeof hint !== 'string' || hint.length === 0 || hint.length > maxHintLength) return undefined
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(hint)) return undefined
  return hint
}

/** The domain of an email-like hint (`alice@acme.test` → `acme.test`), lower-cased. */
export function emailDomain (hint: string | undefined): string | undefined {
  if (!hint) return undefined
  const at = hint.lastIndexOf('@')
  const domain = at >= 0 ? hint.slice(at + 1) : ''
  return /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(domain) ? domain.toLowerCase() : undefined
}

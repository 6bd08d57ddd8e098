/**
 * The `login_hint` a user typed on the app's own sign-in form, and the email domain a login is
 * routed by: shared by every provider (and by connections' routing).
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

/** `?domain_hint=` (or `?domain=`): a bare domain the login names, validated and lower-cased. */
export function hintedDomain (query: Readonly<Record<string, string>>): string | undefined {
  const bare = query.domain_hint ?? query.domain
  return bare === undefined ? undefined : emailDomain(`@${bare}`)
}

/**
 * The email domain a login is routed by: {@link hintedDomain}, otherwise the domain of
 * `?login_hint=` / `?email=`. Undefined when there is none.
 *
 * @example
 * ```ts
 * loginDomain({ email: 'alice@Acme.test' })   // 'acme.test'
 * loginDomain({ domain_hint: 'globex.test' }) // 'globex.test'
 * ```
 */
export function loginDomain (query: Readonly<Record<string, string>>): string | undefined {
  return hintedDomain(query) ?? emailDomain(loginHint(query))
}

/**
 * The signed-in user, and the one place where a profile from an identity provider is turned
 * into the bounded object we keep in the session cookie.
 */
import { ProfileTooLargeError, TokenRejectedError } from './errors.ts'

/**
 * The user on `request.user` (or your `decorator` name).
 *
 * Extend it with declaration merging when `onLogin` adds fields of your own:
 * @example
 * ```ts
 * declare module 'fastify-sso' {
 *   interface SsoUser { plan?: 'free' | 'pro' }
 * }
 * ```
 */
export interface SsoUser {
  /** Stable per provider: the OIDC `sub`, the WorkOS profile or user id, the JWT `sub`. */
  id: string
  /** Email address as the IdP sent it; an empty string when the IdP sent none. */
  email: string
  /** Whether the IdP asserts that it verified the email address. */
  emailVerified?: boolean
  firstName?: string
  lastName?: string
  /** Display name (the IdP's `name`, or first and last name joined). */
  name?: string
  /** The tenant: the WorkOS organization id, the OIDC `org_id`/`organization` claim, the JWT `org` claim. */
  organizationId?: string
  /** WorkOS connection id (which SAML/OIDC connection the user came through). */
  connectionId?: string
  /** WorkOS connection type (`OktaSAML`, `GoogleOAuth`…). */
  connectionType?: string
  /** The user's id at the customer's own IdP (WorkOS `idp_id`); directory sync matches on it. */
  idpId?: string
  /** Which provider signed the user in: `oidc`, `workos-sso`, `workos-authkit`, `jwt`, or a custom name. */
  provider: string
  /** Roles (OIDC `roles`, WorkOS role slug, AuthKit role). */
  roles?: string[]
  /** Groups the IdP lists for the user. */
  groups?: string[]
  /** AuthKit permissions from the access token. */
  permissions?: string[]
  /** A bounded subset of the raw claims or profile attributes (dropped when they would not fit in the cookie). */
  claims?: Record<string, unknown>
}

/** Limits that keep one user, whatever the IdP sends, well inside a 4 KB cookie. */
export const userLimits = {
  idLength: 255,
  emailLength: 320,
  textLength: 256,
  listEntries: 100,
  /** The user without `claims`, as UTF-8 JSON bytes. */
  profileBytes: 2048,
  /** The user with `claims`, as UTF-8 JSON bytes; above this the claims are left out. */
  withClaimsBytes: 2560
} as const

const identifierFields = ['organizationId', 'connectionId', 'connectionType', 'idpId'] as const
const textFields = ['firstName', 'lastName', 'name'] as const
const listFields = ['roles', 'groups', 'permissions'] as const

/** A profile as a provider maps it, before bounds are applied. */
export type RawUser = Omit<SsoUser, 'roles' | 'groups' | 'permissions'> & {
  roles?: unknown
  groups?: unknown
  permissions?: unknown
}

/**
 * Validates and bounds a provider's profile.
 *
 * Identifiers are never truncated (two users sharing a prefix must never merge): an empty or
 * oversized id is a rejected identity. Display names are truncated. Lists keep short strings only.
 * Raw claims are kept only while the whole user stays small.
 */
export function boundUser (raw: RawUser): { user: SsoUser, droppedClaims: boolean } {
  if (typeof raw.id !== 'string' || raw.id.length === 0 || raw.id.length > userLimits.idLength) {
    throw TokenRejectedError(`The identity provider sent a user id that is empty or longer than ${userLimits.idLength} characters.`)
  }
  const user: SsoUser = { id: raw.id, email: '', provider: raw.provider }
  if (typeof raw.email === 'string' && raw.email.length > 0) {
    if (raw.email.length > userLimits.emailLength) throw TokenRejectedError('The identity provider sent an email address longer than 320 characters.')
    user.email = raw.email
  }
  if (typeof raw.emailVerified === 'boolean') user.emailVerified = raw.emailVerified
  for (const field of textFields) {
    const value = raw[field]
    if (typeof value === 'string' && value.length > 0) user[field] = value.slice(0, userLimits.textLength)
  }
  for (const field of identifierFields) {
    const value = raw[field]
    if (typeof value === 'string' && value.length > 0) {
      if (value.length > userLimits.idLength) throw TokenRejectedError(`The identity provider sent a ${field} longer than ${userLimits.idLength} characters.`)
      user[field] = value
    }
  }
  for (const field of listFields) {
    const list = toStringList(raw[field])
    if (list) user[field] = list
  }
  if (jsonBytes(user) > userLimits.profileBytes) {
    throw ProfileTooLargeError(`The identity provider sent a profile larger than ${userLimits.profileBytes} bytes (long role or group lists?). It cannot be kept in a session cookie.`)
  }
  let droppedClaims = false
  if (raw.claims && typeof raw.claims === 'object') {
    const withClaims = { ...user, claims: raw.claims }
    if (jsonBytes(withClaims) <= userLimits.withClaimsBytes) user.claims = raw.claims
    else droppedClaims = true
  }
  return { user, droppedClaims }
}

/** Size of a value as UTF-8 JSON: what it costs in the cookie (non-ASCII names count 2-4 bytes a character). */
export function jsonBytes (value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value))
}

/** A single string or an array of strings, bounded; anything else is ignored. */
function toStringList (value: unknown): string[] | undefined {
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (!items) return undefined
  const list = items
    // Over-long entries are dropped, not truncated: a cut role name could name another role.
    .filter((item): item is string => typeof item === 'string' && item.length > 0 && item.length <= userLimits.textLength)
    .slice(0, userLimits.listEntries)
  return list.length > 0 ? list : undefined
}

/** Claims that describe the token rather than the user; never copied into `user.claims`. */
const protocolClaims = new Set([
  'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'azp', 'at_hash', 'c_hash', 's_hash',
  'auth_time', 'sid', 'sub', 'typ', 'events'
])

/**
 * The raw claims worth showing an application: without protocol noise, and without the claims
 * already mapped onto the user's own fields (`mapped`), which would only double their bytes in
 * the cookie.
 */
export function userClaims (claims: Record<string, unknown>, mapped: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(claims)) {
    if (!protocolClaims.has(key) && !mapped.has(key)) out[key] = value
  }
  return out
}

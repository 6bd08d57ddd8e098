/**
 * From an IdP's claims or attributes to a user: which claim feeds which field, the display-name
 * fallback, and what stays in `user.claims`. Shared by the OpenID Connect, JWT and SAML providers
 * (WorkOS profiles arrive already mapped, and use {@link displayName} only).
 */
import { userClaims, type RawUser } from '../../user.ts'

/**
 * Which claims feed each user field: names tried in order, the first present one wins.
 *
 * @example
 * ```ts
 * const names: ClaimNames = { ...standardClaimNames, organizationId: ['tenant'] }
 * ```
 */
export interface ClaimNames {
  id: readonly string[]
  email: readonly string[]
  emailVerified: readonly string[]
  name: readonly string[]
  firstName: readonly string[]
  lastName: readonly string[]
  groups: readonly string[]
  roles: readonly string[]
  organizationId: readonly string[]
}

/** OpenID Connect's standard claims, plus the common vendor claims for organization and roles. */
export const standardClaimNames: ClaimNames = {
  id: ['sub'],
  email: ['email'],
  emailVerified: ['email_verified'],
  name: ['name'],
  firstName: ['given_name'],
  lastName: ['family_name'],
  groups: ['groups'],
  roles: ['roles'],
  organizationId: ['org_id', 'organization_id', 'organization']
}

/**
 * The display name: the IdP's own, or first and last name joined.
 *
 * @example
 * ```ts
 * displayName(undefined, 'Alice', 'Anders') // 'Alice Anders'
 * ```
 */
export function displayName (name: string | null | undefined, firstName: string | null | undefined, lastName: string | null | undefined): string | undefined {
  if (typeof name === 'string' && name.length > 0) return name
  return [firstName, lastName].filter(Boolean).join(' ') || undefined
}

/** A boolean claim that some IdPs send as a string (`"true"`, `"False"`). */
export function booleanClaim (value: unknown): boolean | undefined {
  if (value === true || value === false) return value
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  return undefined
}

/**
 * Maps claims onto a user. Text fields take strings (and numbers, as some IdPs send numeric ids);
 * an organization claim that is an object takes its `id` and stays readable in `claims`. Every
 * claim that was mapped leaves `user.claims` (no second copy in the cookie), and so do protocol
 * claims (`iss`, `aud`, `nonce`…).
 *
 * @example
 * ```ts
 * mapClaims({ sub: 'u1', email: 'a@acme.test', given_name: 'A', locale: 'de' }, standardClaimNames, 'oidc')
 * // { id: 'u1', email: 'a@acme.test', firstName: 'A', name: 'A', provider: 'oidc', claims: { locale: 'de' }, … }
 * ```
 */
export function mapClaims (claims: Record<string, unknown>, names: ClaimNames, provider: string): RawUser {
  const mapped = new Set<string>()
  const pick = (field: keyof ClaimNames): unknown => {
    for (const claim of names[field]) {
      const value = claims[claim]
      if (value !== undefined && value !== null && value !== '') {
        mapped.add(claim)
        return value
      }
    }
    return undefined
  }
  const text = (field: keyof ClaimNames): string | undefined => {
    const value = pick(field)
    return typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
  }
  const firstName = text('firstName')
  const lastName = text('lastName')
  return {
    id: text('id') ?? '',
    email: text('email') ?? '',
    emailVerified: booleanClaim(pick('emailVerified')),
    firstName,
    lastName,
    name: displayName(text('name'), firstName, lastName),
    organizationId: organization(claims, names.organizationId, mapped),
    provider,
    roles: pick('roles'),
    groups: pick('groups'),
    claims: userClaims(claims, mapped)
  }
}

/** The first organization claim that is a string (or number), or an object with a string `id` (which stays in `claims`). */
function organization (claims: Record<string, unknown>, names: readonly string[], mapped: Set<string>): string | undefined {
  for (const name of names) {
    const value = claims[name]
    if ((typeof value === 'string' && value.length > 0) || (typeof value === 'number' && Number.isFinite(value))) {
      mapped.add(name)
      return String(value)
    }
    const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined
    if (typeof id === 'string' && id.length > 0) return id
  }
  return undefined
}

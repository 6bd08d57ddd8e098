/**
 * What `connections()` accepts: the routing parameters of `/login` as a lookup, and the
 * connection objects the app's `resolve` returns, checked field by field every time one is
 * resolved (they come from the app's database, so a bad row must not crash a login, and must
 * never widen what the connection may sign in).
 */
import { ConnectionInvalidError, InvalidLoginRequestError, RoutingRequiredError, type SsoError } from '../errors.ts'
import { emailDomain, loginDomain, loginHint } from './kit/login-hint.ts'
import type { SsoProvider } from './provider.ts'

/**
 * What `resolve` is asked for: the connection of an email domain, of an organization, or one
 * connection by its id.
 *
 * @example
 * ```ts
 * const by: ConnectionLookup = { domain: 'acme.test' }
 * ```
 */
export type ConnectionLookup = { domain: string } | { organization: string } | { connection: string }

/**
 * One customer's single sign-on connection, as `resolve` returns it.
 *
 * @example
 * ```ts
 * const acme: SsoConnection = {
 *   id: 'acme',
 *   organizationId: 'org_acme',
 *   domains: ['acme.com'],
 *   provider: oidcProvider({ issuer: 'https://acme.okta.com', clientId: '…', clientSecret: '…' }),
 * }
 * ```
 */
export interface SsoConnection {
  /** Stable, URL-safe (letters, digits, `-`, `_`, `.`, `~`), at most 64 characters. */
  id: string
  /** The tenant: becomes `user.organizationId`, whatever the IdP claims. */
  organizationId: string
  /** The email domains routed to this connection, verified by the app (see docs/multi-tenant.md). */
  domains: string[]
  /** Any provider factory: `oidcProvider(…)`, `workosSso(…)`, `samlProvider(…)`… (not `connections()`). */
  provider: SsoProvider
  /**
   * Sign in users whose email is outside `domains` (contractors, acquired companies), with
   * `emailVerified: false` and `claims.guest: true`. Default `false`: such a login is refused (403).
   */
  allowGuestDomains?: boolean
  /** `false` refuses every login through this connection (403). Default `true`. */
  enabled?: boolean
}

/** A connection after its checks: defaults applied, domains lower-cased. */
export interface ValidConnection {
  readonly id: string
  readonly organizationId: string
  readonly domains: readonly string[]
  readonly provider: SsoProvider
  readonly allowGuestDomains: boolean
  readonly enabled: boolean
}

const connectionFields = ['id', 'organizationId', 'domains', 'provider', 'allowGuestDomains', 'enabled']
const connectionId = /^[A-Za-z0-9._~-]{1,64}$/
/** The longest organization id (the bound on every identifier of a user). */
const maxOrganizationId = 255

/** Whether a value can be a connection id (also how `?connection=` is checked). */
export function isConnectionId (value: unknown): value is string {
  return typeof value === 'string' && connectionId.test(value)
}

/** The lookup as text, for messages: `{ domain: 'acme.test' }`. */
export function describeLookup (lookup: ConnectionLookup): string {
  const [key, value] = Object.entries(lookup)[0] as [string, string]
  return `{ ${key}: ${JSON.stringify(value)} }`
}

/**
 * Which connection a login asks for: `?connection=` first, then `?organization=`, then the domain
 * of `?domain=` / `?domain_hint=`, then of `?email=` / `?login_hint=`.
 *
 * @example
 * ```ts
 * lookupOf({ email: 'alice@acme.test' })   // { domain: 'acme.test' }
 * lookupOf({ organization: 'org_acme' })   // { organization: 'org_acme' }
 * ```
 */
export function lookupOf (query: Readonly<Record<string, string>>): ConnectionLookup {
  if (query.connection !== undefined) {
    if (!isConnectionId(query.connection)) throw InvalidLoginRequestError('The connection in the sign-in link is not a connection id (letters, digits, - _ . ~, at most 64).')
    return { connection: query.connection }
  }
  if (query.organization !== undefined) {
    // eslint-disable-next-line no-control-regex
    if (query.organization.length === 0 || query.organization.length > maxOrganizationId || /[\u0000-\u001f\u007f]/.test(query.organization)) {
      throw InvalidLoginRequestError('The organization in the sign-in link is not an organization id.')
    }
    return { organization: query.organization }
  }
  const domain = loginDomain(query)
  if (domain !== undefined) return { domain }
  if (loginHint(query) !== undefined || query.domain !== undefined || query.domain_hint !== undefined) {
    throw RoutingRequiredError('Enter your full work email address (name@company.com) to sign in with your organization\'s single sign-on.')
  }
  throw RoutingRequiredError('Enter your work email address to sign in with your organization\'s single sign-on.')
}

/**
 * Checks what `resolve(lookup)` returned: every field, no unknown field (a typo such as
 * `enable: false` must not leave a connection switched on), and that it is the connection asked
 * for (a `resolve` that answers another tenant's row must not route a login there).
 */
export function validateConnection (value: unknown, lookup: ConnectionLookup): ValidConnection {
  const asked = describeLookup(lookup)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ConnectionInvalidError(`The single sign-on settings are misconfigured: resolve(${asked}) returned ${Array.isArray(value) ? 'an array' : typeof value}; it must return a connection { id, organizationId, domains, provider } or null.`)
  }
  const raw = value as Record<string, unknown>
  const id = raw.id
  if (!isConnectionId(id)) throw invalid(asked, undefined, 'id', `must be 1-64 letters, digits, - _ . ~ (got ${JSON.stringify(id)?.slice(0, 80)}).`)
  for (const key of Object.keys(raw)) {
    if (!connectionFields.includes(key)) throw invalid(asked, id, key, `is not a connection field (${connectionFields.join(', ')}).`)
  }
  const organizationId = raw.organizationId
  if (typeof organizationId !== 'string' || organizationId.length === 0 || organizationId.length > maxOrganizationId) {
    throw invalid(asked, id, 'organizationId', `must be a non-empty string of at most ${maxOrganizationId} characters.`)
  }
  const domains = validDomains(raw.domains)
  if (typeof domains === 'string') throw invalid(asked, id, 'domains', domains)
  const provider = raw.provider as SsoProvider | undefined
  if (typeof provider !== 'object' || provider === null || typeof provider.name !== 'string' || typeof provider.setup !== 'function') {
    throw invalid(asked, id, 'provider', 'must be a provider such as oidcProvider({ issuer, clientId, clientSecret }).')
  }
  if (provider.name === 'connections') throw invalid(asked, id, 'provider', 'cannot be connections() itself: give the connection\'s own provider (oidcProvider, samlProvider, workosSso…).')
  for (const flag of ['allowGuestDomains', 'enabled'] as const) {
    if (raw[flag] !== undefined && typeof raw[flag] !== 'boolean') throw invalid(asked, id, flag, `must be true, false or absent (got ${JSON.stringify(raw[flag])}).`)
  }
  const connection: ValidConnection = {
    id,
    organizationId,
    domains,
    provider,
    allowGuestDomains: raw.allowGuestDomains === true,
    enabled: raw.enabled !== false
  }
  if ('connection' in lookup && connection.id !== lookup.connection) throw invalid(asked, id, 'id', 'is not the connection asked for.')
  if ('organization' in lookup && connection.organizationId !== lookup.organization) throw invalid(asked, id, 'organizationId', 'is not the organization asked for.')
  if ('domain' in lookup && !connection.domains.includes(lookup.domain)) throw invalid(asked, id, 'domains', `does not include ${lookup.domain}, the domain asked for.`)
  return connection
}

/** Lower-cased domain names, or what is wrong with them. */
function validDomains (value: unknown): string[] | string {
  if (!Array.isArray(value)) return 'must be an array of email domains such as ["acme.com"] (empty for none).'
  const domains: string[] = []
  for (const entry of value) {
    const domain = typeof entry === 'string' ? emailDomain(`@${entry}`) : undefined
    if (domain === undefined || domain !== entry.toLowerCase()) return `must hold domain names such as "acme.com" (got ${JSON.stringify(entry)?.slice(0, 80)}).`
    domains.push(domain)
  }
  return domains
}

function invalid (asked: string, id: string | undefined, field: string, problem: string): SsoError {
  const which = id === undefined ? '' : ` "${id}"`
  return ConnectionInvalidError(`The single sign-on connection${which} is misconfigured: resolve(${asked}) returned a connection whose \`${field}\` ${problem}`)
}

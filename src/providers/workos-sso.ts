/**
 * WorkOS SSO (a customer's SAML or OIDC connection, chosen by organization, connection, social
 * provider or email domain) through `@workos-inc/node`.
 *
 * Security choices, each deliberate:
 * - Every login carries the plugin's `state` and a PKCE S256 challenge (WorkOS accepts PKCE next to
 *   the client secret), and the routing chosen at `/login` travels in the encrypted transaction.
 * - Tenant binding: the profile must come from the organization (or connection, or social
 *   provider) the login asked for, or the fixed one. Otherwise a user who edits the organization in
 *   the WorkOS URL could sign in through an IdP they control, asserting any email address.
 * - Domain routing only follows verified organization domains.
 * - Guest email domains (outside the organization's verified domains, which an organization may
 *   allow) are reported, never trusted silently: `user.emailVerified` is `false` for them.
 * - IdP-initiated logins never create a session: with `allowIdpInitiated`, the code is exchanged
 *   only to learn the organization, then an SP-initiated login with our own state restarts.
 */
import type { Profile, SSOAuthorizationURLOptions, WorkOS } from '@workos-inc/node'
import {
  IdpUnavailableError, InvalidCallbackError, InvalidLoginRequestError, InvalidOptionError, OrganizationMismatchError,
  RoutingRequiredError, TransactionMissingError, UnknownDomainError
} from '../errors.ts'
import { pkceChallenge } from '../crypto.ts'
import { booleanOption, optionError, optionsObject } from '../option-checks.ts'
import { jsonBytes, type RawUser } from '../user.ts'
import { cachedLookup } from './kit/cached-lookup.ts'
import { emailDomain, loginDomain, loginHint } from './kit/login-hint.ts'
import { displayName } from './kit/profile.ts'
import { idpTarget, type IdpTarget } from './kit/idp-trace.ts'
import type { AdminPortalRequest, CallbackRequest, LoginRequest, LoginTransaction, ProviderContext, ProviderInstance, RestartLogin, SignIn, SsoProvider } from './provider.ts'
import { callWorkOS, isWorkOSId, workosAdminPortalLink, workosCacheMs, workosClient, workosUrl, type WorkOSCredentials } from './workos-shared.ts'

/**
 * Where a domain's users sign in: an organization (its active connection) or one connection.
 *
 * @example
 * ```ts
 * const route: WorkOSDomainRoute = { organizationId: 'org_01HACME' }
 * ```
 */
export type WorkOSDomainRoute = { organizationId: string } | { connectionId: string }

/**
 * Decides where an email domain signs in; `null` when the domain has no single sign-on.
 *
 * @example
 * ```ts
 * const domainRouting: WorkOSDomainRouter = async (domain) => {
 *   const tenant = await db.tenants.findByDomain(domain)
 *   return tenant ? { organizationId: tenant.workosOrganizationId } : null
 * }
 * ```
 */
export type WorkOSDomainRouter = (domain: string) => WorkOSDomainRoute | null | undefined | Promise<WorkOSDomainRoute | null | undefined>

/**
 * Options of {@link workosSso}.
 *
 * @example
 * ```ts
 * const options: WorkOSSsoOptions = {
 *   apiKey: process.env.WORKOS_API_KEY!,
 *   clientId: process.env.WORKOS_CLIENT_ID!,
 *   organizationId: process.env.CUSTOMER_ORGANIZATION_ID, // one customer; or domainRouting: true
 * }
 * ```
 */
export interface WorkOSSsoOptions extends WorkOSCredentials {
  /** Every login goes to this organization (`org_…`); a login naming another one is refused (400). */
  organizationId?: string
  /** Every login goes to this connection (`conn_…`); a login naming another one is refused (400). */
  connectionId?: string
  /**
   * Route `?email=` / `?login_hint=` / `?domain_hint=` by the email's domain: `true` looks the
   * domain up in WorkOS (organizations with that verified domain); a function decides itself.
   */
  domainRouting?: boolean | WorkOSDomainRouter
  /**
   * Accept logins started at the customer's IdP (no state): no session is created from them;
   * the code is exchanged to learn the organization, then an SP-initiated login restarts.
   */
  allowIdpInitiated?: boolean
}

/** Social logins WorkOS offers through `?provider=` (each must be enabled in the dashboard). */
const workosSocialProviders = ['GoogleOAuth', 'MicrosoftOAuth', 'GitHubOAuth', 'AppleOAuth'] as const

/** `user.provider` of every user this provider signs in. */
const providerName = 'workos-sso'
const knownOptions = ['apiKey', 'client', 'clientId', 'organizationId', 'connectionId', 'domainRouting', 'allowIdpInitiated']
/** Raw and custom profile attributes kept in `user.claims`, at most (UTF-8 JSON bytes). */
const maxClaimsBytes = 1024
/** Attribute names never copied into `user.claims` (some IdPs pass tokens through). */
const secretAttribute = /token|secret|password|assertion/i

interface Settings {
  client: WorkOS
  clientId: string
  organizationId: string | undefined
  connectionId: string | undefined
  domainRouting: false | true | WorkOSDomainRouter
  allowIdpInitiated: boolean
}

/** What the transaction's `routing` holds: exactly one of these keys. */
type Routing = { organization: string } | { connection: string } | { provider: string }

function validate (options: WorkOSSsoOptions): Settings {
  optionsObject('workosSso', options, knownOptions, '{ apiKey | client, clientId }')
  const { client, clientId } = workosClient('workosSso', options, 'sso')
  const { organizationId, connectionId, domainRouting, allowIdpInitiated } = options
  if (organizationId !== undefined && !isWorkOSId(organizationId, 'org')) {
    throw optionError('workosSso.organizationId', `must be a WorkOS organization id such as org_01H… (got ${JSON.stringify(organizationId)}).`)
  }
  if (connectionId !== undefined && !isWorkOSId(connectionId, 'conn')) {
    throw optionError('workosSso.connectionId', `must be a WorkOS connection id such as conn_01H… (got ${JSON.stringify(connectionId)}).`)
  }
  if (organizationId !== undefined && connectionId !== undefined) {
    throw optionError('workosSso', 'takes organizationId or connectionId, not both (the connection already belongs to one organization).')
  }
  if (domainRouting !== undefined && typeof domainRouting !== 'boolean' && typeof domainRouting !== 'function') {
    throw optionError('workosSso.domainRouting', 'must be true, false or a function (domain) => ({ organizationId } | { connectionId } | null).')
  }
  if (domainRouting && (organizationId !== undefined || connectionId !== undefined)) {
    throw optionError('workosSso.domainRouting', 'cannot be combined with a fixed organizationId or connectionId: every login already goes there.')
  }
  return { client, clientId, organizationId, connectionId, domainRouting: domainRouting ?? false, allowIdpInitiated: booleanOption('workosSso.allowIdpInitiated', allowIdpInitiated) }
}

/**
 * WorkOS SSO: sign users in through their organization's SAML or OIDC connection.
 *
 * `GET /auth/login?organization=org_…` (or `connection=conn_…`, `provider=GoogleOAuth`, or
 * `email=alice@acme.com` with `domainRouting`) picks the connection. Register
 * `https://app.example.com/auth/callback` as a redirect URI in the WorkOS dashboard.
 *
 * @example
 * ```ts
 * import ssoPlugin, { workosSso, requireUser } from 'fastify-sso'
 *
 * await app.register(ssoPlugin, {
 *   baseUrl: 'https://app.example.com',
 *   provider: workosSso({
 *     apiKey: process.env.WORKOS_API_KEY,
 *     clientId: process.env.WORKOS_CLIENT_ID,
 *     domainRouting: true, // /auth/login?email=alice@acme.com finds Acme's connection
 *   }),
 *   session: { secret: process.env.SESSION_SECRET },
 * })
 * app.get('/me', { preHandler: requireUser() }, async (request) => request.user)
 * ```
 */
export function workosSso (options: WorkOSSsoOptions): SsoProvider {
  return {
    name: providerName,
    setup: (context) => new WorkOSSsoProvider(validate(options), context)
  }
}

class WorkOSSsoProvider implements ProviderInstance {
  readonly name = providerName
  readonly acceptsUnsolicited: boolean
  readonly #settings: Settings
  readonly #context: ProviderContext
  /** Who its WorkOS calls are traced as. */
  readonly #idp: IdpTarget

  constructor (settings: Settings, context: ProviderContext) {
    this.#settings = settings
    this.#context = context
    this.#idp = idpTarget(providerName, context.connectionId)
    this.acceptsUnsolicited = settings.allowIdpInitiated
  }

  async loginRouting ({ query }: LoginRequest): Promise<Record<string, string>> {
    const { organizationId, connectionId, domainRouting } = this.#settings
    const named = (['organization', 'connection', 'provider'] as const).filter(key => query[key] !== undefined)
    const fixedValue = organizationId ?? connectionId
    if (fixedValue !== undefined) {
      const fixedKey = organizationId !== undefined ? 'organization' : 'connection'
      if (named.some(name => name !== fixedKey || query[name] !== fixedValue)) {
        throw InvalidLoginRequestError(`This application signs in through its own ${fixedKey} only; the sign-in link names another ${named.join(' / ')}.`)
      }
      return { [fixedKey]: fixedValue }
    }
    if (named.length > 1) throw InvalidLoginRequestError(`A sign-in names one of organization, connection or provider, not several (got ${named.join(', ')}).`)
    if (query.organization !== undefined) {
      if (!isWorkOSId(query.organization, 'org')) throw InvalidLoginRequestError('The organization in the sign-in link is not a WorkOS organization id (org_…).')
      return { organization: query.organization }
    }
    if (query.connection !== undefined) {
      if (!isWorkOSId(query.connection, 'conn')) throw InvalidLoginRequestError('The connection in the sign-in link is not a WorkOS connection id (conn_…).')
      return { connection: query.connection }
    }
    if (query.provider !== undefined) {
      if (!(workosSocialProviders as readonly string[]).includes(query.provider)) {
        throw InvalidLoginRequestError(`The provider in the sign-in link must be one of ${workosSocialProviders.join(', ')}.`)
      }
      return { provider: query.provider }
    }
    if (domainRouting) {
      const domain = loginDomain(query)
      if (!domain) throw RoutingRequiredError('Enter your work email address to sign in with your organization\'s single sign-on.')
      const route = await this.#routeDomain(domain)
      if (!route) throw UnknownDomainError(`Single sign-on is not set up for ${domain}. Check the email address, or ask your administrator to set up single sign-on for this domain.`)
      return route
    }
    throw RoutingRequiredError('Enter your work email or organization to sign in: this sign-in link names no organization (?organization=org_…) and the application does not route by email domain.')
  }

  /** The organization or connection for an email domain, or `null` when it has none. */
  async #routeDomain (domain: string): Promise<Routing | null> {
    const { domainRouting, client } = this.#settings
    if (typeof domainRouting === 'function') {
      const route = await domainRouting(domain)
      if (route === null || route === undefined) return null
      const { organizationId, connectionId } = route as { organizationId?: unknown, connectionId?: unknown }
      if (isWorkOSId(organizationId, 'org')) return { organization: organizationId }
      if (isWorkOSId(connectionId, 'conn')) return { connection: connectionId }
      throw InvalidOptionError(`fastify-sso: workosSso.domainRouting returned ${JSON.stringify(route)} for ${domain}; it must return { organizationId: 'org_…' }, { connectionId: 'conn_…' } or null.`)
    }
    const organization = await cachedLookup(this.#context.store, `workos:domain:${domain}`, workosCacheMs, async () => {
      const list = await callWorkOS(this.#idp, 'organization lookup', () => client.organizations.listOrganizations({ domains: [domain], limit: 10 }))
      // Only verified domains route: anyone can add a pending domain to an organization they own.
      const owners = list.data.filter(org => org.domains.some(entry => entry.domain.toLowerCase() === domain && isVerified(entry)))
      if (owners.length > 1) this.#context.log.warn({ domain }, 'fastify-sso: several WorkOS organizations have this verified domain; domain routing refuses it')
      return owners.length === 1 ? owners[0]!.id : null
    })
    return organization === null ? null : { organization }
  }

  async authorizationUrl (transaction: LoginTransaction, { query }: LoginRequest): Promise<URL> {
    const routing = transaction.routing
    const target = routing.organization !== undefined ? { organization: routing.organization }
      : routing.connection !== undefined ? { connection: routing.connection }
        : routing.provider !== undefined ? { provider: routing.provider }
          : undefined
    if (!target) throw RoutingRequiredError()
    const options = {
      clientId: this.#settings.clientId,
      redirectUri: this.#context.redirectUri,
      state: transaction.state,
      codeChallenge: pkceChallenge(transaction.codeVerifier),
      codeChallengeMethod: 'S256',
      loginHint: loginHint(query),
      domainHint: loginDomain(query),
      ...target
    } as SSOAuthorizationURLOptions
    return workosUrl('authorization URL', () => this.#settings.client.sso.getAuthorizationUrl(options))
  }

  async callback (request: CallbackRequest): Promise<SignIn | RestartLogin> {
    const { transaction, params } = request
    if (!transaction && !this.acceptsUnsolicited) throw TransactionMissingError()
    const code = params.code
    if (!code || code.length > 1024) throw InvalidCallbackError('WorkOS\'s answer has no usable authorization code.')
    const { client, clientId } = this.#settings
    // An IdP-initiated code was issued without a PKCE challenge: it is exchanged with the API key alone.
    const { profile } = await callWorkOS(this.#idp, 'code exchange', () => client.sso.getProfileAndToken({ code, clientId, codeVerifier: transaction?.codeVerifier }))
    if (typeof profile?.id !== 'string' || typeof profile.connectionId !== 'string') {
      throw IdpUnavailableError('WorkOS returned a profile without an id or connection.')
    }
    if (!transaction) return this.#restart(profile)
    this.#bindTenant(profile, transaction.routing)
    return { user: mapProfile(profile, await this.#emailDomainStatus(profile)) }
  }

  adminPortalLink (request: AdminPortalRequest): Promise<string> {
    return workosAdminPortalLink(this.#settings.client, this.#idp, request)
  }

  /**
   * An IdP-initiated login: the profile is only used to learn where the user signs in. A SAML
   * response that reaches us without our state cannot be tied to this browser (login CSRF,
   * replayed responses), so the session comes from a fresh SP-initiated login instead, which
   * completes without a prompt while the user's IdP session is alive.
   */
  #restart (profile: Profile<Record<string, unknown>>): RestartLogin {
    const { organizationId, connectionId } = this.#settings
    if (organizationId !== undefined) {
      if (profile.organizationId !== organizationId) throw OrganizationMismatchError('This sign-in came from another organization\'s identity provider than the one this application uses.')
      return { restart: { organization: organizationId } }
    }
    if (connectionId !== undefined) {
      if (profile.connectionId !== connectionId) throw OrganizationMismatchError('This sign-in came from another connection than the one this application uses.')
      return { restart: { connection: connectionId } }
    }
    if (isWorkOSId(profile.organizationId, 'org')) return { restart: { organization: profile.organizationId } }
    if (isWorkOSId(profile.connectionId, 'conn')) return { restart: { connection: profile.connectionId } }
    throw InvalidCallbackError('WorkOS did not say which organization this sign-in came from.')
  }

  /** The profile must come from where the login was sent (or the fixed organization/connection). */
  #bindTenant (profile: Profile<Record<string, unknown>>, routing: Record<string, string>): void {
    const organization = this.#settings.organizationId ?? routing.organization
    if (organization !== undefined && profile.organizationId !== organization) {
      throw OrganizationMismatchError('You signed in through another organization than the one this sign-in was started for. Please sign in again with your organization\'s account.')
    }
    const connection = this.#settings.connectionId ?? routing.connection
    if (connection !== undefined && profile.connectionId !== connection) {
      throw OrganizationMismatchError('You signed in through another connection than the one this sign-in was started for. Please sign in again.')
    }
    if (routing.provider !== undefined && profile.connectionType !== routing.provider) {
      throw OrganizationMismatchError(`You signed in through another provider than ${routing.provider}. Please sign in again.`)
    }
  }

  /**
   * Whether the email's domain is one of the organization's verified domains. WorkOS refuses
   * other domains unless the organization allows them ("guests"); when it does, the email is
   * only what the customer's IdP asserts, so it is reported as unverified.
   */
  async #emailDomainStatus (profile: Profile<Record<string, unknown>>): Promise<EmailDomainStatus | undefined> {
    const organizationId = profile.organizationId
    if (!isWorkOSId(organizationId, 'org')) return undefined // social logins have no organization
    const domains = await cachedLookup(this.#context.store, `workos:org-domains:${organizationId}`, workosCacheMs, async () => {
      const organization = await callWorkOS(this.#idp, 'organization lookup', () => this.#settings.client.organizations.getOrganization(organizationId))
      return organization.domains.filter(isVerified).map(entry => entry.domain.toLowerCase())
    })
    const domain = emailDomain(profile.email)
    return { domain, guest: domain === undefined || !(domains ?? []).includes(domain) }
  }
}

interface EmailDomainStatus { domain: string | undefined, guest: boolean }

/** Organization domains added before WorkOS tracked their state were verified in the dashboard. */
function isVerified (entry: { state?: string }): boolean {
  return entry.state === undefined || entry.state === 'verified'
}

/** A WorkOS profile → user. */
function mapProfile (profile: Profile<Record<string, unknown>>, status: EmailDomainStatus | undefined): RawUser {
  const roles = profile.roles?.map(role => role?.slug) ?? (profile.role ? [profile.role.slug] : undefined)
  return {
    id: profile.id,
    email: typeof profile.email === 'string' ? profile.email : '',
    emailVerified: status ? !status.guest : undefined,
    firstName: profile.firstName,
    lastName: profile.lastName,
    name: displayName(profile.name, profile.firstName, profile.lastName),
    organizationId: profile.organizationId,
    connectionId: profile.connectionId,
    connectionType: profile.connectionType,
    idpId: profile.idpId,
    provider: providerName,
    roles,
    groups: profile.groups,
    claims: profileClaims(profile, status)
  }
}

/**
 * `user.claims`: the guest marker first, then short custom and raw attributes while they fit in
 * {@link maxClaimsBytes} (raw SAML attribute names are long URIs; the whole set would not fit).
 */
function profileClaims (profile: Profile<Record<string, unknown>>, status: EmailDomainStatus | undefined): Record<string, unknown> {
  const claims: Record<string, unknown> = {}
  if (status) {
    claims.guest = status.guest
    if (status.domain) claims.emailDomain = status.domain
  }
  for (const source of [profile.customAttributes, profile.rawAttributes]) {
    if (typeof source !== 'object' || source === null) continue
    for (const [key, value] of Object.entries(source)) {
      if (key in claims || key.length > 128 || secretAttribute.test(key)) continue
      const kept = typeof value === 'boolean' || typeof value === 'number' || (typeof value === 'string' && value.length <= 256)
      if (!kept) continue
      claims[key] = value
      if (jsonBytes(claims) > maxClaimsBytes) delete claims[key]
    }
  }
  return claims
}

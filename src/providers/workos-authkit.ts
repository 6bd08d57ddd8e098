/**
 * WorkOS AuthKit (User Management) through `@workos-inc/node`: WorkOS's hosted sign-in page,
 * organizations with roles and permissions, short-lived access tokens renewed with a refresh
 * token, and sign-out through WorkOS's logout URL.
 *
 * Security and size choices:
 * - Every login carries the plugin's `state` and a PKCE S256 challenge; the verifier is sent with
 *   the code exchange (next to the API key).
 * - The session keeps only what refresh and logout need: the refresh token, the WorkOS session id
 *   and the access token's expiry (about 100 bytes). The access token itself (about 1 KB) is not
 *   kept: its claims are copied onto the user.
 * - Tenant binding: a login asked for organization X (or the fixed one) must come back in X, and a
 *   refresh must stay in the organization the session was created in.
 */
import { decodeJwt, type JWTPayload } from 'jose'
import type { AuthenticationResponse, UserManagementAuthorizationURLOptions, WorkOS } from '@workos-inc/node'
import {
  IdpUnavailableError, InvalidCallbackError, InvalidLoginRequestError, OrganizationMismatchError, TokenRejectedError, TransactionMissingError
} from '../errors.ts'
import { pkceChallenge } from '../crypto.ts'
import { oneOf, optionError, optionsObject } from '../option-checks.ts'
import type { RawUser, SsoUser } from '../user.ts'
import { hintedDomain, loginHint } from './kit/login-hint.ts'
import { displayName } from './kit/profile.ts'
import { idpTarget, type IdpTarget } from './kit/idp-trace.ts'
import type { AdminPortalRequest, CallbackRequest, LoginRequest, LoginTransaction, ProviderContext, ProviderInstance, ProviderSession, Refreshed, SignIn, SsoProvider } from './provider.ts'
import { callWorkOS, isWorkOSId, workosAdminPortalLink, workosClient, workosUrl, type WorkOSCredentials } from './workos-shared.ts'

/**
 * Options of {@link workosAuthKit}.
 *
 * @example
 * ```ts
 * const options: WorkOSAuthKitOptions = {
 *   apiKey: process.env.WORKOS_API_KEY!,
 *   clientId: process.env.WORKOS_CLIENT_ID!,
 *   screenHint: 'sign-up',
 * }
 * ```
 */
export interface WorkOSAuthKitOptions extends WorkOSCredentials {
  /** Every login is for this organization (`org_…`); a login naming another one is refused (400). */
  organizationId?: string
  /** Which screen the hosted page opens on (default: WorkOS's, sign-in); `?screen_hint=` overrides it per login. */
  screenHint?: 'sign-in' | 'sign-up'
}

/** `user.provider` of every user this provider signs in. */
const providerName = 'workos-authkit'
const knownOptions = ['apiKey', 'client', 'clientId', 'organizationId', 'screenHint']
const screenHints = ['sign-in', 'sign-up'] as const
/** Longest refresh token or session id kept in the session cookie. */
const maxTokenLength = 512

interface Settings {
  client: WorkOS
  clientId: string
  organizationId: string | undefined
  screenHint: 'sign-in' | 'sign-up' | undefined
}

/** The access token claims we use (WorkOS's session JWT). */
interface AccessTokenClaims extends JWTPayload {
  sid?: unknown
  org_id?: unknown
  role?: unknown
  roles?: unknown
  permissions?: unknown
}

function validate (options: WorkOSAuthKitOptions): Settings {
  optionsObject('workosAuthKit', options, knownOptions, '{ apiKey | client, clientId }')
  const { client, clientId } = workosClient('workosAuthKit', options, 'userManagement')
  if (options.organizationId !== undefined && !isWorkOSId(options.organizationId, 'org')) {
    throw optionError('workosAuthKit.organizationId', `must be a WorkOS organization id such as org_01H… (got ${JSON.stringify(options.organizationId)}).`)
  }
  const screenHint = options.screenHint === undefined ? undefined : oneOf('workosAuthKit.screenHint', options.screenHint, screenHints, 'sign-in')
  return { client, clientId, organizationId: options.organizationId, screenHint }
}

/**
 * WorkOS AuthKit: WorkOS's hosted sign-in (passwords, social, magic links, enterprise SSO),
 * organizations, roles and permissions, with access tokens renewed automatically by the guard.
 *
 * In the WorkOS dashboard: add `https://app.example.com/auth/callback` as a redirect URI, set
 * the sign-out redirect to `https://app.example.com/` (the plugin's `logoutRedirect`), and the
 * "initiate login URL" to `https://app.example.com/auth/login`.
 *
 * @example
 * ```ts
 * import ssoPlugin, { workosAuthKit, requireUser } from 'fastify-sso'
 *
 * await app.register(ssoPlugin, {
 *   baseUrl: 'https://app.example.com',
 *   provider: workosAuthKit({
 *     apiKey: process.env.WORKOS_API_KEY,
 *     clientId: process.env.WORKOS_CLIENT_ID,
 *   }),
 *   session: { secret: process.env.SESSION_SECRET },
 * })
 * app.get('/reports', { preHandler: requireUser({ check: (user) => user.permissions?.includes('reports:read') ?? false }) }, reports)
 * ```
 */
export function workosAuthKit (options: WorkOSAuthKitOptions): SsoProvider {
  return {
    name: providerName,
    setup: (context) => new WorkOSAuthKitProvider(validate(options), context)
  }
}

class WorkOSAuthKitProvider implements ProviderInstance {
  readonly name = providerName
  readonly #settings: Settings
  readonly #context: ProviderContext
  /** Who its WorkOS calls are traced as. */
  readonly #idp: IdpTarget

  constructor (settings: Settings, context: ProviderContext) {
    this.#settings = settings
    this.#context = context
    this.#idp = idpTarget(providerName, context.connectionId)
  }

  loginRouting ({ query }: LoginRequest): Record<string, string> {
    const fixed = this.#settings.organizationId
    const requested = query.organization
    if (fixed !== undefined) {
      if (requested !== undefined && requested !== fixed) {
        throw InvalidLoginRequestError('This application signs in through its own organization only; the sign-in link names another organization.')
      }
      return { organization: fixed }
    }
    if (requested === undefined) return {}
    if (!isWorkOSId(requested, 'org')) throw InvalidLoginRequestError('The organization in the sign-in link is not a WorkOS organization id (org_…).')
    return { organization: requested }
  }

  async authorizationUrl (transaction: LoginTransaction, { query }: LoginRequest): Promise<URL> {
    const screenHint = (screenHints as readonly string[]).includes(query.screen_hint ?? '') ? query.screen_hint as Settings['screenHint'] : this.#settings.screenHint
    const options: UserManagementAuthorizationURLOptions = {
      provider: 'authkit',
      clientId: this.#settings.clientId,
      redirectUri: this.#context.redirectUri,
      state: transaction.state,
      codeChallenge: pkceChallenge(transaction.codeVerifier),
      codeChallengeMethod: 'S256',
      loginHint: loginHint(query),
      domainHint: hintedDomain(query),
      organizationId: transaction.routing.organization,
      screenHint
    }
    return workosUrl('authorization URL', () => this.#settings.client.userManagement.getAuthorizationUrl(options))
  }

  async callback ({ transaction, params }: CallbackRequest): Promise<SignIn> {
    // AuthKit always echoes our state; logins started elsewhere come through the "initiate login URL".
    if (!transaction) throw TransactionMissingError()
    const code = params.code
    if (!code || code.length > 1024) throw InvalidCallbackError('WorkOS\'s answer has no usable authorization code.')
    const { client, clientId } = this.#settings
    const answer = await callWorkOS(this.#idp, 'code exchange', () => client.userManagement.authenticateWithCode({ clientId, code, codeVerifier: transaction.codeVerifier }))
    const signedIn = signedInFrom(answer)
    const organization = this.#settings.organizationId ?? transaction.routing.organization
    if (organization !== undefined && signedIn.user.organizationId !== organization) {
      throw OrganizationMismatchError('You signed in to another organization than the one this sign-in was started for. Please sign in again and choose that organization.')
    }
    return signedIn
  }

  /** Renews the access token with the refresh token (WorkOS rotates it: the old one is spent). */
  async refresh (session: ProviderSession, user: SsoUser): Promise<Refreshed> {
    const refreshToken = session.rt
    if (typeof refreshToken !== 'string' || refreshToken.length === 0) throw TokenRejectedError('The session has no refresh token.')
    const { client, clientId } = this.#settings
    const answer = await callWorkOS(this.#idp, 'token refresh', () => client.userManagement.authenticateWithRefreshToken({ clientId, refreshToken }))
    const refreshed = signedInFrom(answer)
    if (refreshed.user.id !== user.id) throw TokenRejectedError('WorkOS refreshed the session of another user.')
    if (refreshed.user.organizationId !== (typeof session.org === 'string' ? session.org : undefined)) {
      throw OrganizationMismatchError('The session moved to another organization; please sign in again.')
    }
    // The login's claims (authentication method, impersonator) describe the sign-in: they stay.
    const { claims: _signIn, ...reported } = refreshed.user
    return { session: refreshed.session, user: reported }
  }

  async logoutUrl (session: ProviderSession | undefined, postLogoutRedirectUri: string): Promise<URL | null> {
    const sessionId = session?.sid
    if (typeof sessionId !== 'string' || sessionId.length === 0) return null
    // WorkOS ends its session when the browser visits this URL, then returns to our logoutRedirect
    // (which must be listed as a sign-out redirect in the dashboard).
    return workosUrl('logout URL', () => this.#settings.client.userManagement.getLogoutUrl({ sessionId, returnTo: postLogoutRedirectUri }))
  }

  adminPortalLink (request: AdminPortalRequest): Promise<string> {
    return workosAdminPortalLink(this.#settings.client, this.#idp, request)
  }
}

/**
 * The user and provider session from an authentication answer (code exchange or refresh).
 *
 * The access token is decoded, not verified: it comes straight from WorkOS in the answer to our
 * own request, authenticated with the API key over TLS, so it is exactly as trustworthy as the
 * rest of that answer. (A token received from a browser would need its signature checked against
 * WorkOS's JWKS; this one never passes through a browser.)
 */
function signedInFrom (answer: AuthenticationResponse): { user: RawUser, session: ProviderSession } {
  const account = answer?.user
  if (typeof account?.id !== 'string' || typeof answer.accessToken !== 'string' || typeof answer.refreshToken !== 'string') {
    throw IdpUnavailableError('WorkOS answered the authentication without a user, access token or refresh token.')
  }
  let claims: AccessTokenClaims
  try {
    claims = decodeJwt(answer.accessToken)
  } catch {
    throw IdpUnavailableError('WorkOS returned an access token that is not a JWT.')
  }
  if (claims.sub !== account.id) throw IdpUnavailableError('WorkOS returned an access token for another user than the one it signed in.')
  if (typeof claims.exp !== 'number' || typeof claims.sid !== 'string' || claims.sid.length > maxTokenLength || answer.refreshToken.length > maxTokenLength) {
    throw IdpUnavailableError('WorkOS returned an access token without an expiry or session id, or tokens too long for a session cookie.')
  }
  const organizationId = typeof claims.org_id === 'string' ? claims.org_id : answer.organizationId
  const session: ProviderSession = { rt: answer.refreshToken, sid: claims.sid, expiresAt: claims.exp * 1000 }
  if (organizationId) session.org = organizationId
  const firstName = account.firstName ?? undefined
  const lastName = account.lastName ?? undefined
  const claimsKept: Record<string, unknown> = {}
  if (answer.authenticationMethod) claimsKept.authenticationMethod = answer.authenticationMethod
  // A WorkOS admin acting as the user: worth knowing for audit logs and sensitive actions.
  if (answer.impersonator?.email) claimsKept.impersonator = { email: answer.impersonator.email, reason: answer.impersonator.reason ?? null }
  return {
    session,
    user: {
      id: account.id,
      email: account.email ?? '',
      emailVerified: typeof account.emailVerified === 'boolean' ? account.emailVerified : undefined,
      firstName,
      lastName,
      name: displayName(account.name, firstName, lastName),
      organizationId,
      provider: providerName,
      // Set even when absent, so that a refresh after a role change replaces the old lists.
      roles: claims.roles ?? claims.role ?? [],
      permissions: claims.permissions ?? [],
      claims: claimsKept
    }
  }
}

/**
 * The parts one plugin registration wires together, shared by the routes, the guard, the
 * directory-sync plugin and the testing helpers (through `app.sso`, under a symbol).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SsoUser } from './user.ts'
import type { ResolvedOptions } from './options.ts'
import type { ProviderInstance } from './providers/provider.ts'
import type { RevocationList, RevokeFilter } from './revocation.ts'
import type { SessionManager } from './session.ts'
import type { SsoStore } from './store/store.ts'
import type { TransactionCookie } from './transaction.ts'
import type { ErrorLinks } from './error-reply.ts'
import type { RefreshCoordinator } from './refresh.ts'
import type { AuditTrail } from './audit.ts'
import type { AdminPortalIntent } from './providers/provider.ts'

/** Internal: everything a registration owns. */
export interface SsoCore {
  options: ResolvedOptions
  provider: ProviderInstance
  store: SsoStore
  sessions: SessionManager
  transactions: TransactionCookie
  revocations: RevocationList
  refresher: RefreshCoordinator
  /** Audit events (`onAuditEvent`, `fastify-sso:<type>` channels, info log). */
  audit: AuditTrail
  links: ErrorLinks
  /** `prefix/login`, for the guard's redirect. */
  loginPath: string
}

/**
 * Arguments of `app.sso.adminPortalLink()`.
 *
 * @example
 * ```ts
 * const options: AdminPortalLinkOptions = { organizationId: user.organizationId!, intent: 'sso', returnUrl: '/settings' }
 * ```
 */
export interface AdminPortalLinkOptions {
  /** The WorkOS organization (`org_…`), e.g. `request.user.organizationId`. */
  organizationId: string
  /** What the portal opens on: `sso`, `dsync`, `domain_verification`, `audit_logs` or `log_streams`. */
  intent: AdminPortalIntent
  /** Where the portal's logo leads back to: a same-origin path or URL (default: the dashboard's setting). */
  returnUrl?: string
}

/** Where `app.sso` keeps the internals. */
export const kCore: unique symbol = Symbol('fastify-sso.core')

/**
 * `app.sso`: what an application can do with the plugin besides the routes.
 *
 * @example
 * ```ts
 * // A user left the company: end every session of theirs, on every instance.
 * await app.sso.revoke({ email: 'bob@globex.test' })
 * // Asked by Globex's admin: Globex's Bob only, never a namesake in another tenant.
 * await app.sso.revoke({ email: 'bob@globex.test', organizationId: 'org_globex' })
 * ```
 */
export interface SsoDecorator {
  /**
   * Revokes every session of the user matching any of `userId`, `email`, `idpId`; their next
   * request is signed out. With `organizationId`, only sessions whose user belongs to that
   * organization (what a tenant's own admin or directory may end). Pass the request of the admin
   * action that asked, and its id, address and user agent go into the `session.revoked` audit
   * event (source `api`).
   */
  revoke(filter: RevokeFilter, request?: FastifyRequest): Promise<void>
  /**
   * Signs a user in from application code (a password login beside SSO, an invitation link): a
   * new session exactly like one from the IdP, with the same cookie, timeouts and guard. The
   * user is bounded like an IdP profile; `provider` defaults to `local`; `onLogin` is not called.
   *
   * @example
   * ```ts
   * app.post('/login/password', async (request, reply) => {
   *   const user = await checkPassword(request.body)
   *   await app.sso.signIn(request, reply, { id: user.id, email: user.email, name: user.name })
   *   return reply.redirect('/dashboard')
   * })
   * ```
   */
  signIn(request: FastifyRequest, reply: FastifyReply, user: Omit<SsoUser, 'provider'> & { provider?: string }): Promise<void>
  /**
   * The absolute login URL for a same-origin path, e.g. for emails and links; with `stepUp`, a
   * login that asks the IdP for a sign-in at most `maxAge` seconds old and/or with one of the `acr`
   * values (what `requireUser({ maxAge, acr })` sends browsers to).
   */
  loginUrl(returnTo?: string, stepUp?: { maxAge?: number, acr?: string | string[] }): string
  /**
   * The signed-in user's access token, for calling an API on their behalf (`oidcProvider({ tokens: true })`).
   * Renewed with the refresh token first when it expires within 60 seconds (once for all parallel
   * calls and instances; a rotated refresh token replaces the old one). Rejects with
   * `FST_SSO_UNAUTHORIZED` without a session, `FST_SSO_NO_ACCESS_TOKEN` when the session has none,
   * `FST_SSO_REFRESH_REFUSED` when the IdP refuses the renewal (the session is then ended: the next
   * request is signed out), `FST_SSO_IDP_UNAVAILABLE` when the IdP cannot be reached and the token
   * has expired.
   *
   * @example
   * ```ts
   * app.get('/invoices', { preHandler: requireUser() }, async (request) => {
   *   const token = await app.sso.accessToken(request)
   *   const res = await fetch('https://api.example.com/invoices', { headers: { authorization: `Bearer ${token}` } })
   *   return res.json()
   * })
   * ```
   */
  accessToken(request: FastifyRequest): Promise<string>
  /**
   * A WorkOS Admin Portal link (valid five minutes) where an organization's IT admin sets up SSO,
   * directory sync, domain verification, audit logs or log streams. WorkOS providers only
   * (`FST_SSO_NOT_SUPPORTED` otherwise). Only hand it to a user allowed to administer that
   * organization. `returnUrl`: a path (or URL) of this app, where the portal's logo leads.
   *
   * @example
   * ```ts
   * app.post('/settings/sso', { preHandler: requireUser({ roles: ['admin'] }) }, async (request, reply) => {
   *   const link = await app.sso.adminPortalLink({ organizationId: request.user!.organizationId!, intent: 'sso', returnUrl: '/settings' })
   *   return reply.redirect(link, 303)
   * })
   * ```
   */
  adminPortalLink(options: AdminPortalLinkOptions): Promise<string>
  /**
   * With `provider: connections(…)`: forgets a cached connection and the provider instance built
   * from it, at once on this instance and within about a second on every instance sharing the
   * store (through its feed). Call it after an admin changes or removes a connection; the next
   * login resolves it again. Rejects with `FST_SSO_INVALID_ARGUMENT` for another provider.
   *
   * @example
   * ```ts
   * await db.connections.update('acme', { enabled: false })
   * await app.sso.invalidateConnection('acme')
   * ```
   */
  invalidateConnection(id: string): Promise<void>
  /** @internal */
  readonly [kCore]: SsoCore
}

/** The registration's internals, or `undefined` when fastify-sso is not registered on this instance. */
export function findCore (server: FastifyInstance): SsoCore | undefined {
  const decorator = (server as FastifyInstance & { sso?: SsoDecorator }).sso
  return decorator?.[kCore]
}

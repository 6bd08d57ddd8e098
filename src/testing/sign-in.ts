/**
 * `signIn()`: a session cookie for `app.inject`, without any identity provider.
 */
import type { FastifyInstance } from 'fastify'
import { findCore } from '../core.ts'
import { InvalidOptionError } from '../errors.ts'
import type { SsoUser } from '../user.ts'

/** The user to sign in: `email` at least; `id` defaults from it, `provider` from the app's provider. */
export type TestUser = Partial<SsoUser> & { email: string }

/**
 * Returns a `cookie` header value that makes `app.inject` requests signed in as `user`. It goes
 * through the app's own session code, so it honours every session option (key rotation, cookie
 * name, decorator name) and the cookie is exactly what a real login would set.
 *
 * @example
 * ```ts
 * import { signIn } from 'fastify-sso/testing'
 *
 * const cookie = await signIn(app, { email: 'alice@acme.test', organizationId: 'org_acme', roles: ['admin'] })
 * const res = await app.inject({ url: '/dashboard', headers: { cookie } })
 * ```
 */
export async function signIn (app: FastifyInstance, user: TestUser): Promise<string> {
  await app.ready()
  const core = findCore(app)
  if (!core) throw InvalidOptionError('signIn(): the fastify-sso plugin is not registered on this app.')
  if (typeof user?.email !== 'string') throw InvalidOptionError('signIn(): the user needs at least an email.')
  const full: SsoUser = {
    ...user,
    id: user.id ?? `test|${user.email.toLowerCase()}`,
    provider: user.provider ?? core.provider.name
  }
  // A user of the app's own provider gets (empty) provider state, as a login through the IdP
  // leaves: logout then visits the IdP's end-session page, as it would for a real login.
  const record = core.sessions.create(full, user.provider === undefined || user.provider === core.provider.name ? {} : undefined)
  return `${core.options.cookieName}=${encodeURIComponent(await core.sessions.save(record))}`
}

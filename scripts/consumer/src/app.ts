/**
 * A small application as a user writes it, against the installed package (fastify-sso's dist/).
 * Every public surface an app touches is used here, so that its types are checked under the
 * consumer's compiler options.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import ssoPlugin, { isSsoError, oidcProvider, requireUser, type SsoStore, type SsoUser } from 'fastify-sso'

export const baseUrl = 'http://localhost:3000'

export interface AppOptions {
  issuer: string
  clientId: string
  clientSecret?: string | undefined
  store?: SsoStore
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(ssoPlugin, {
    baseUrl,
    provider: oidcProvider({ issuer: options.issuer, clientId: options.clientId, clientSecret: options.clientSecret }),
    session: { secret: 'a consumer test secret of at least 32 characters' },
    ...(options.store ? { store: options.store } : {})
  })
  app.get('/me', { preHandler: requireUser() }, async (request) => {
    const user: SsoUser = request.user!
    return { email: user.email, organizationId: user.organizationId ?? null }
  })
  app.get('/admin', { preHandler: requireUser({ roles: ['admin'] }) }, async (request) => ({ admin: request.user?.email }))
  app.post('/sign-out', async (request, reply) => {
    await request.logout(reply)
    return { signedOut: true }
  })
  app.get('/links', async () => ({ login: app.sso.loginUrl('/me') }))
  app.setErrorHandler((err, _request, reply) => {
    if (isSsoError(err)) return reply.code(err.statusCode).send({ code: err.code })
    return reply.code(500).send({ code: 'APP_ERROR' })
  })
  return app
}

/** Fails with the name of the check, so the consumer test's output says which one broke. */
export function check (ok: unknown, what: string): void {
  if (!ok) throw new Error(`consumer app: ${what}`)
  console.log(`  ok ${what}`)
}

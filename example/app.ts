/**
 * The example B2B app: SSO through fastify-sso beside an ordinary password login, a protected
 * dashboard, the directory pages and the directory-sync webhook.
 *
 * `startExample()` is what `npm start` runs (through server.ts) and what the tests start on a
 * free port.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import ssoPlugin, { directorySync, requireUser } from '../src/index.ts'
import { exampleConfig, type ExampleConfig } from './config.ts'
import { checkPassword, localUser } from './local-users.ts'
import { dashboardPage, homePage } from './pages.ts'
import { DevDirectory, directoryRoutes } from './directories.ts'

export interface StartOptions {
  /** Port on 127.0.0.1 (default 3000; 0 picks a free one). */
  port?: number
  /** Environment (default process.env). */
  env?: Record<string, string | undefined>
  /** Fastify logger option (default: level from LOG_LEVEL, else warn). */
  logger?: boolean | { level: string }
}

export interface RunningExample {
  url: string
  app: FastifyInstance
  config: ExampleConfig
  close(): Promise<void>
}

/** Starts the example (and, with no IdP configured, the development IdP). */
export async function startExample (options: StartOptions = {}): Promise<RunningExample> {
  const env = options.env ?? process.env
  const port = options.port ?? Number(env.PORT ?? 3000)
  // The port must be known before the IdP and the plugin are configured: it is part of baseUrl
  // and of the redirect URI registered at the IdP.
  const app = Fastify({ logger: options.logger ?? { level: env.LOG_LEVEL ?? 'warn' } })
  const address = await reservePort(app, port)
  const baseUrl = `http://localhost:${address}`
  const config = await exampleConfig(env, baseUrl)
  for (const warning of config.warnings) app.log.warn(warning)
  const dev = new DevDirectory()

  await app.register(ssoPlugin, {
    baseUrl,
    provider: config.provider,
    session: { secret: config.sessionSecret },
    errorRedirect: '/',
    defaultReturnTo: '/dashboard',
    // In development, a user deprovisioned through the (simulated) directory cannot sign back in.
    onLogin: (user) => config.devIdp ? dev.isActive(user.email) : true
  })
  await app.register(directorySync, { secret: config.webhookSecret, onEvent: config.workos ? async (event) => { app.log.info({ event: event.event, id: event.id }, 'directory sync event') } : dev.onEvent })

  // Plain HTML form posts for the password login.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  const demoEmail = config.devIdp ? 'alice@acme.test' : undefined
  app.get<{ Querystring: { error?: string } }>('/', async (request, reply) => {
    if (request.user) return reply.redirect('/dashboard')
    return reply.type('text/html').send(homePage({ error: request.query.error, providerDescription: config.description, demoEmail, localUser }))
  })

  app.post<{ Body: { email?: string, password?: string } }>('/login/password', async (request, reply) => {
    const user = checkPassword(request.body?.email, request.body?.password)
    if (!user) {
      return reply.code(401).type('text/html').send(homePage({ passwordError: 'Wrong email or password.', providerDescription: config.description, demoEmail, localUser }))
    }
    await app.sso.signIn(request, reply, { id: user.id, email: user.email, name: user.name, organizationId: 'org_local' })
    return reply.redirect('/dashboard')
  })

  app.get('/dashboard', { preHandler: requireUser() }, async (request, reply) => {
    return reply.type('text/html').send(dashboardPage(request.user!))
  })

  await app.register(directoryRoutes, { workos: config.workos, dev })

  await app.listen({ port: address, host: '127.0.0.1' })
  return {
    url: `${baseUrl}/`,
    app,
    config,
    async close () {
      await app.close()
      await config.devIdp?.close()
    }
  }
}

/** A free port when asked for 0 (the dev IdP must know the app's URL before the app listens). */
async function reservePort (app: FastifyInstance, port: number): Promise<number> {
  if (port !== 0) return port
  const { createServer } = await import('node:net')
  const probe = createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const free = (probe.address() as { port: number }).port
  await new Promise(resolve => probe.close(resolve))
  app.log.debug({ port: free }, 'picked a free port')
  return free
}

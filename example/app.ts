/**
 * The example B2B app: SSO through fastify-sso beside an ordinary password login, a protected
 * dashboard, and (example/directories.ts) the directory pages and the directory-sync webhook.
 *
 * `startExample()` is what `npm start` runs (through server.ts) and what the tests start on a
 * free port.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import ssoPlugin, { directorySync, requireUser, safeReturnTo, type DirectorySyncEvent, type SsoUser } from '../src/index.ts'
import { closeConfig, exampleConfig, type Env, type ExampleConfig } from './config.ts'
import { checkPassword, localUser } from './local-users.ts'
import { dashboardPage, homePage } from './pages.ts'
import { DevDirectory, directoryRoutes } from './directories.ts'
import { AuditLog, auditRoutes } from './audit.ts'
import { registerScim } from './scim.ts'

export interface StartOptions {
  /** Port on 127.0.0.1 (default: PORT, else 3000; 0 picks a free one). The app is http://localhost:<port>. */
  port?: number
  /** Environment (default process.env). */
  env?: Env
  /** Fastify logger option (default: level from LOG_LEVEL, else warn). */
  logger?: boolean | { level: string }
}

export interface RunningExample {
  /** The app's URL, `http://localhost:<port>/`. */
  url: string
  app: FastifyInstance
  config: ExampleConfig
  /** Stops the app, then the development IdPs. */
  close(): Promise<void>
}

/**
 * Starts the example (and, with no IdP configured, the demo customers' embedded development IdPs).
 *
 * @example
 * ```ts
 * const example = await startExample({ port: 0, env: { SESSION_SECRET: '…32+ characters…' } })
 * console.log(example.url) // http://localhost:43121/
 * await example.close()
 * ```
 */
export async function startExample (options: StartOptions = {}): Promise<RunningExample> {
  const env = options.env ?? process.env
  const requested = options.port ?? (env.PORT ? Number(env.PORT) : 3000)
  if (!Number.isInteger(requested) || requested < 0 || requested > 65_535) throw new Error(`PORT must be a port number, not ${JSON.stringify(env.PORT)}.`)
  // The port must be known before the IdP and the plugin are configured: it is part of baseUrl
  // and of the redirect URI registered at the IdP.
  const port = requested === 0 ? await freePort() : requested
  const baseUrl = `http://localhost:${port}`
  const config = await exampleConfig(env, baseUrl)
  const app = Fastify({ logger: options.logger ?? { level: env.LOG_LEVEL ?? 'warn' } })
  try {
    await buildApp(app, config, baseUrl)
    // IPv4 loopback only: nothing outside this machine reaches the example or its development IdPs.
    await app.listen({ port, host: '127.0.0.1' })
  } catch (err) {
    await app.close().catch(() => {})
    await closeConfig(config)
    if ((err as { code?: unknown }).code === 'EADDRINUSE') {
      throw Object.assign(new Error(`Port ${port} is already in use: stop the other server, or start on another port with PORT=${port + 1} npm start.`), { code: 'EADDRINUSE' })
    }
    throw err
  }
  return {
    url: `${baseUrl}/`,
    app,
    config,
    async close () {
      await app.close()
      await closeConfig(config)
    }
  }
}

async function buildApp (app: FastifyInstance, config: ExampleConfig, baseUrl: string): Promise<void> {
  // The app's address is http://localhost:<port>: the cookies of a login started on
  // http://127.0.0.1:<port> would not come back with the IdP's answer (another host name).
  app.addHook('onRequest', async (request, reply) => {
    if (request.hostname === '127.0.0.1' && (request.method === 'GET' || request.method === 'HEAD')) {
      return reply.redirect(`${baseUrl}${request.url}`, 302)
    }
  })

  // Who may sign in through SSO. The directory section below refuses deprovisioned users.
  const signInPolicy = { allows: (_user: SsoUser): boolean => true }
  // Sign-in events for the audit page (example/audit.ts).
  const auditLog = new AuditLog()

  await app.register(ssoPlugin, {
    baseUrl,
    provider: config.provider,
    session: { secret: config.sessionSecret },
    // Failed logins come back to the home page, which explains the code (see pages.ts).
    errorRedirect: '/',
    defaultReturnTo: '/dashboard',
    onLogin: (user) => signInPolicy.allows(user),
    onAuditEvent: auditLog.record
  })

  // Plain HTML form posts for the password login (the plugin's auth routes parse their own).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  const demoEmail = config.tenants?.[0]?.tenant.users[0]?.email
  const home = (extra: { error?: string, passwordError?: string, returnTo?: string }) =>
    homePage({ ...extra, providerDescription: config.description, demoEmail, localUser })

  app.get<{ Querystring: { error?: string, returnTo?: string } }>('/', async (request, reply) => {
    if (request.user && !request.query.error) return reply.redirect('/dashboard')
    const error = typeof request.query.error === 'string' ? request.query.error : undefined
    // A login that could not be routed comes back with the page first asked for (a deep link):
    // the SSO form keeps it, checked again like any returnTo.
    const returnTo = safeReturnTo(request.query.returnTo, new URL(baseUrl), '/dashboard')
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(home({ error, returnTo }))
  })

  // The ordinary password login beside SSO: the app checks the password, then hands the user to
  // fastify-sso, so both kinds of users share one session cookie, one guard and one logout.
  app.post<{ Body: { email?: string, password?: string } | undefined }>('/login/password', async (request, reply) => {
    const user = checkPassword(request.body?.email, request.body?.password)
    if (!user) {
      return reply.code(401).type('text/html; charset=utf-8').send(home({ passwordError: 'Wrong email or password.' }))
    }
    await app.sso.signIn(request, reply, { id: user.id, email: user.email, name: user.name, organizationId: user.organizationId })
    return reply.redirect('/dashboard', 303)
  })

  app.get('/dashboard', { preHandler: requireUser() }, async (request, reply) => {
    return reply.type('text/html; charset=utf-8').send(dashboardPage(request.user!, { adminPortal: config.workosClient !== undefined }))
  })
  await app.register(auditRoutes, { log: auditLog, adminPortal: config.workosClient !== undefined })

  // ┌─ Directory sync: example/directories.ts is registered here ───────────────────────────────
  // │ The /directories pages and the directory-sync webhook (POST /webhooks/workos-directory-sync,
  // │ secret config.webhookSecret: WORKOS_WEBHOOK_SECRET, else the development secret
  // │ `whsec_dev_fastify_sso_example_secret` that `npm run webhook:send` signs with).
  // │ On the development IdPs, a user deprovisioned through the webhook cannot sign back in.
  const directory = new DevDirectory()
  if (config.tenants) signInPolicy.allows = user => directory.isActive(user.email)
  const onDirectoryEvent = config.workosClient
    ? async (event: DirectorySyncEvent, request: FastifyRequest) => { request.log.info({ event: event.event, id: event.id }, 'directory sync event') }
    : directory.onEvent
  await app.register(directorySync, { secret: config.webhookSecret, onEvent: onDirectoryEvent })
  // SCIM (example/scim.ts): Okta / Entra ID provision each organization directly, with the same onEvent.
  await registerScim(app, { development: Boolean(config.tenants), tokenHashes: config.scimTokenHashes, onEvent: onDirectoryEvent })
  await app.register(directoryRoutes, { workos: config.workosClient, dev: directory })
  // └───────────────────────────────────────────────────────────────────────────────────────────
}

/** A free TCP port on 127.0.0.1 (the IdP must know the app's URL before the app listens). */
async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  const probe = createServer()
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise(resolve => probe.close(resolve))
  return port
}

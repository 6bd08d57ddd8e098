/**
 * One benchmark server per process, so that the load generator never shares an event loop with
 * it. `node bench/server.ts <scenario>` prints `READY <port> <cookie>` once listening.
 */
import Fastify from 'fastify'
import fastifySecureSession from '@fastify/secure-session'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import ssoPlugin, { oidcProvider, requireUser } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'

const scenario = process.argv[2] ?? 'bare'
const app = Fastify({ logger: false })
const payload = { hello: 'world' }
let cookie = ''

if (scenario === 'bare') {
  app.get('/', async () => payload)
} else if (scenario === 'secure-session-hooks') {
  // For reference: @fastify/secure-session's own per-request hooks, decrypting every request.
  const key = randomBytes(32)
  await app.register(fastifySecureSession, { key, cookie: { path: '/' } })
  app.get('/', async () => payload)
  app.get('/seed', async (request) => { request.session.set('user' as never, { id: 'u', email: 'alice@acme.test' } as never); return 'ok' })
  await app.ready()
  const seeded = await app.inject({ url: '/seed' })
  cookie = String(seeded.headers['set-cookie']).split(';')[0]!
} else {
  await app.register(ssoPlugin, {
    baseUrl: 'http://localhost:3000',
    // Never contacted: the benchmark measures requests that carry a session, not logins.
    provider: oidcProvider({ issuer: 'http://127.0.0.1:9', clientId: 'bench', clientSecret: 'bench' }),
    session: { secret: 'a benchmark secret of at least thirty-two characters' }
  })
  app.get('/', async () => payload)
  app.get('/user', async (request) => ({ hello: request.user?.email }))
  app.get('/protected', { preHandler: requireUser() }, async () => payload)
  await app.ready()
  cookie = await signIn(app, {
    email: 'alice@acme.test', name: 'Alice Anders', firstName: 'Alice', lastName: 'Anders',
    organizationId: 'org_acme', roles: ['admin'], groups: ['Engineering']
  })
  if (scenario === 'protected-10k-revocations') {
    for (let i = 0; i < 10_000; i++) await app.sso.revoke({ email: `former-${i}@acme.test` })
  }
  const many = /^sessions-(\d+)$/.exec(scenario)
  if (many && process.env.BENCH_COOKIES_FILE) {
    // Many distinct sessions in rotation: fewer than the decoded-cookie cache holds, or more.
    const cookies = []
    for (let i = 0; i < Number(many[1]); i++) cookies.push(await signIn(app, { email: `user-${i}@acme.test`, name: `User ${i}`, organizationId: 'org_acme', roles: ['member'] }))
    writeFileSync(process.env.BENCH_COOKIES_FILE, JSON.stringify(cookies))
  }
}

await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : 0
process.stdout.write(`READY ${port} ${cookie}\n`)
process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })

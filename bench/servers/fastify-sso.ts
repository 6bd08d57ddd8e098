/**
 * fastify-sso on an OpenID Connect provider that is never contacted (only requests of an
 * already signed-in user are measured): `/public` never reads the user, `/protected` is behind
 * `requireUser()`.
 *
 *   --store=redis      the revocation check on, fed from Redis (REDIS_URL), 1,000 users revoked
 *   --sessions=N       N distinct signed-in sessions, written to a file for the runner to rotate
 *                      through (more than the decoded-cookie cache holds: a decrypt per request)
 *   --issuer=URL --client-id=ID --client-secret=SECRET
 *                      a real OpenID Provider to log in through (the login benchmark)
 *   --observe          an `onAuditEvent` subscriber, subscribers on every audit channel and on
 *                      the IdP tracing channel (what an app with audit logging and OpenTelemetry has)
 */
import Fastify from 'fastify'
import { subscribe, tracingChannel } from 'node:diagnostics_channel'
import { Redis } from 'ioredis'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ssoPlugin, { auditEventTypes, redisStore, requireUser, type AuditEvent } from '../../src/index.ts'
import { signIn } from '../../src/testing/index.ts'
import { announce } from './ready.ts'
import { benchRedisUrl, benchSsoOptions } from './config.ts'
import { answer, benchUser } from '../profile.ts'

const flags = new Map(process.argv.slice(2).map(arg => arg.replace(/^--/, '').split('=') as [string, string]))
const useRedis = flags.get('store') === 'redis'
const sessions = Number(flags.get('sessions') ?? 0)
const observe = flags.has('observe')

// What the subscribers saw (checked below: they are really attached).
const seen = { audit: 0, channel: 0, traced: 0 }
if (observe) {
  for (const type of auditEventTypes) subscribe(`fastify-sso:${type}`, () => { seen.channel++ })
  const noop = () => {}
  tracingChannel('fastify-sso:idp').subscribe({ start: () => { seen.traced++ }, end: noop, asyncStart: noop, asyncEnd: noop, error: noop })
}

const redisPrefix = `fastify-sso-bench:${process.pid}:`
const app = Fastify({ logger: false })
const issuer = flags.get('issuer')
await app.register(ssoPlugin, {
  ...benchSsoOptions(issuer ? { issuer, clientId: flags.get('client-id')!, clientSecret: flags.get('client-secret')! } : undefined),
  ...(useRedis ? { store: redisStore({ url: benchRedisUrl, prefix: redisPrefix }) } : {}),
  ...(observe ? { onAuditEvent: (_event: AuditEvent) => { seen.audit++ } } : {})
})
app.get('/public', async () => answer(benchUser.email))
app.get('/protected', { preHandler: requireUser() }, async (request) => answer(request.user!.email))
if (observe) app.post('/sign-in', async (request, reply) => { await app.sso.signIn(request, reply, benchUser); return 'ok' })
await app.listen({ port: 0, host: '127.0.0.1' })
if (observe) {
  // One real login event through both subscribers, and one traced IdP call (the unreachable
  // issuer's discovery), so the measured server is known to have them attached.
  await app.inject({ method: 'POST', url: '/sign-in' })
  await app.inject({ url: '/auth/login', headers: { accept: 'application/json' } })
  await new Promise(resolve => setImmediate(resolve))
  if (seen.audit !== 2 || seen.channel !== 2 || seen.traced < 1) throw new Error(`the observers are not attached: ${JSON.stringify(seen)}`)
}

const cookie = await signIn(app, benchUser)
if (useRedis) {
  // Other users' revocations in the feed: the check has something to look through.
  for (let i = 0; i < 1000; i++) await app.sso.revoke({ email: `former-${i}@acme-corp.example` })
}
let file: string | undefined
if (sessions > 0) {
  const cookies: string[] = []
  for (let i = 0; i < sessions; i++) cookies.push(await signIn(app, { ...benchUser, id: `${benchUser.id}-${i}`, email: `user-${i}@acme-corp.example` }))
  file = join(tmpdir(), `fastify-sso-bench-sessions-${process.pid}.json`)
  writeFileSync(file, JSON.stringify(cookies))
}
await announce(app.server, async () => {
  await app.close()
  if (useRedis) await deleteKeys(benchRedisUrl, redisPrefix)
}, { cookie, file })

/** Leaves the shared Redis as it was found. */
async function deleteKeys (url: string, prefix: string): Promise<void> {
  const client = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}

/**
 * The benchmark measures what it says: every variant's server answers the signed-in client with
 * the same profile and refuses the signed-out one, and the webhook variant's events verify. No
 * timing here (that is `npm run bench`'s job), only that each variant is what its label claims.
 */
import { test } from 'tap'
import { startServer, type ServerProcess } from '../bench/processes.ts'
import { measure } from '../bench/load.ts'
import { variants, requestFor, webhookEvent, type Variant } from '../bench/variants.ts'
import { benchUser } from '../bench/profile.ts'
import { signWebhook } from '../src/index.ts'
import { benchWebhookSecret } from '../bench/servers/config.ts'
import { redisUrl } from './fixtures/redis.ts'

/** A variant's server, smaller where its size is only about load (3 sessions, not 50,000). */
async function serverFor (t: { teardown(fn: () => unknown): void }, variant: Variant): Promise<ServerProcess> {
  const args = variant.rotateCookies ? ['--sessions=3'] : variant.server.args
  const server = await startServer(variant.server.script, args)
  t.teardown(() => server.stop())
  return server
}

for (const variant of variants.filter(candidate => !candidate.webhook && !candidate.scim)) {
  const skip = variant.needs === 'redis' && !redisUrl ? 'needs Redis (REDIS_URL)' : false
  test(`${variant.id}: ${variant.label}`, { skip }, async (t) => {
    const server = await serverFor(t, variant)
    const url = `http://127.0.0.1:${server.port}${variant.path}`
    const request = requestFor(variant, server.cookie, server.file)
    const headers = (typeof request.setupRequest === 'function' ? request.setupRequest({ headers: {} } as never, {}) : request).headers as Record<string, string>
    if (variant.withCookie) t.ok(headers.cookie, 'the client sends a session cookie')
    const signedIn = await fetch(url, { headers })
    t.equal(signedIn.status, 200)
    t.same(await signedIn.json(), { hello: variant.rotateCookies ? 'user-0@acme-corp.example' : benchUser.email }, 'the same answer: the profile\'s email')
    if (variant.server.script === 'fastify-sso.ts' && variant.withCookie) {
      t.same(signedIn.headers.getSetCookie(), [], 'no re-issued cookie: the prebuilt request stays what a browser would send')
    }
    if (variant.path === '/protected') {
      const signedOut = await fetch(url, { headers: { accept: 'application/json' } })
      t.not(signedOut.status, 200, 'without the cookie the route refuses: the guard really runs')
    }
  })
}

test('webhook: the events the load sends are signed, verified and handled once each', async (t) => {
  const variant = variants.find(candidate => candidate.webhook)!
  const server = await serverFor(t, variant)
  const url = `http://127.0.0.1:${server.port}${variant.path}`
  const body = webhookEvent(1)
  const post = (signature: string) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'workos-signature': signature } })
  t.not((await post(signWebhook(body, 'whsec_some_other_secret'))).status, 200, 'a wrong signature is refused')
  t.equal((await post(signWebhook(body, benchWebhookSecret))).status, 200)
  const sample = await measure(variant, server, 1, 2) // throws on any non-2xx
  t.ok(sample.requests > 0)
  const { events } = await (await fetch(`http://127.0.0.1:${server.port}/events`)).json() as { events: number }
  t.ok(events >= sample.requests, `${events} events handled for ${sample.requests} requests: each was new and verified`)
})

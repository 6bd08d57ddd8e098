/**
 * Two app instances sharing one Redis: what one instance learns, the other enforces.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { directorySync, jwtProvider, redisStore, type ProviderInstance, type SsoProvider } from '../src/index.ts'
import { kCore } from '../src/core.ts'
import { signIn } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, devIdp, secret, setCookie, stopBeforeCallback, unreachableIdp } from './fixtures/app.ts'
import { deliver, directoryUser, eventBody, webhookSecret } from './fixtures/webhook.ts'
import { aliceClaims, loginUrl, sharedSecret, signHs256 } from './fixtures/jwt-idp.ts'
import { redisAvailable, redisUrl, skipReason, testPrefix, within } from './fixtures/redis.ts'

type TestLike = Parameters<typeof buildApp>[0]

async function pair (t: TestLike, options: Parameters<typeof buildApp>[2] = {}, idp: Parameters<typeof buildApp>[1] = unreachableIdp, routes?: Parameters<typeof buildApp>[3]) {
  const prefix = testPrefix(t)
  const storeA = redisStore({ url: redisUrl!, prefix })
  const storeB = redisStore({ url: redisUrl!, prefix })
  t.teardown(async () => { await storeA.close!(); await storeB.close!() })
  const a = await buildApp(t, idp, { ...options, store: storeA }, routes)
  const b = await buildApp(t, idp, { ...options, store: storeB }, routes)
  return { a, b }
}

if (!redisAvailable()) {
  test(skipReason, { skip: true }, () => {})
} else {
  test('a revocation on B is enforced by A within a second', async (t) => {
    const { a, b } = await pair(t)
    const cookie = await signIn(a, { email: 'bob@globex.test' })
    t.equal((await a.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
    await b.sso.revoke({ email: 'bob@globex.test' })
    const elapsed = await within(1500, async () => (await a.inject({ url: '/api/me', headers: { cookie } })).statusCode === 401)
    t.ok(elapsed <= 1500, `A refused the revoked session after ${elapsed} ms`)
    t.comment(`revocation propagation: ${elapsed} ms`)
  })

  test('a logout on A signs the old cookie out on B', async (t) => {
    const { a, b } = await pair(t)
    const cookie = await signIn(a, { email: 'alice@acme.test' })
    await a.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
    const elapsed = await within(1500, async () => (await b.inject({ url: '/api/me', headers: { cookie } })).statusCode === 401)
    t.ok(elapsed <= 1500, `after ${elapsed} ms`)
  })

  test('a login transaction consumed on A is refused on B', async (t) => {
    const idp = await devIdp(t)
    const { a, b } = await pair(t, {}, idp)
    const { callbackPath, txCookie } = await stopBeforeCallback(new Browser(a, baseUrl))
    const first = await a.inject({ url: callbackPath, headers: { cookie: txCookie } })
    t.equal(first.statusCode, 302)
    const replay = await b.inject({ url: callbackPath, headers: { cookie: txCookie, accept: 'application/json' } })
    t.equal(replay.statusCode, 400)
    t.equal(replay.json().code, 'FST_SSO_TRANSACTION_REPLAYED')
  })

  test('two instances refreshing the same session call the provider once', async (t) => {
    let refreshes = 0
    const provider: SsoProvider = {
      name: 'refreshing',
      setup: (): ProviderInstance => ({
        name: 'refreshing',
        async authorizationUrl () { return new URL('https://idp.example.com/') },
        async callback () { throw new Error('not used') },
        async refresh (session) {
          refreshes++
          await sleep(200)
          return { session: { ...session, expiresAt: Date.now() + 60_000, generation: Number(session.generation ?? 0) + 1 } }
        }
      })
    }
    const { a, b } = await pair(t, { provider })
    const core = a.sso[kCore]
    const record = core.sessions.create({ id: 'u1', email: 'alice@acme.test', provider: 'refreshing' }, { expiresAt: Date.now() - 1, generation: 0 })
    const cookie = `sso=${encodeURIComponent(await core.sessions.save(record))}`
    const results = await Promise.all([a, b, a, b].map(app => app.inject({ url: '/api/me', headers: { cookie } })))
    t.same(results.map(res => res.statusCode), [200, 200, 200, 200])
    t.equal(refreshes, 1, 'one refresh for four parallel requests on two instances')
  })

  test('server-side sessions: signed in on A, read on B, logout on A ends them on B at once', async (t) => {
    const prefix = testPrefix(t)
    const sessionsA = redisStore({ url: redisUrl!, prefix })
    const sessionsB = redisStore({ url: redisUrl!, prefix })
    t.teardown(async () => { await sessionsA.close!(); await sessionsB.close!() })
    const a = await buildApp(t, unreachableIdp, { session: { secret, store: sessionsA } })
    const b = await buildApp(t, unreachableIdp, { session: { secret, store: sessionsB } })
    const cookie = await signIn(a, { email: 'alice@acme.test', claims: { groups: Array.from({ length: 200 }, (_, i) => `g${i}`) } })
    const me = await b.inject({ url: '/api/me', headers: { cookie } })
    t.equal(me.statusCode, 200)
    t.equal(me.json().claims.groups.length, 200)
    await a.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
    t.equal((await b.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
  })

  test('the same webhook delivered to A and B at once runs onEvent once', async (t) => {
    let calls = 0
    const { a, b } = await pair(t, {}, unreachableIdp, app => {
      app.register(directorySync, { secret: webhookSecret, onEvent: async () => { calls++; await sleep(150) } })
    })
    const body = eventBody('dsync.user.created', directoryUser('new@acme.test'), `event_shared_${Date.now()}`)
    const [first, second] = await Promise.all([deliver(a, body), deliver(b, body)])
    t.same([first.statusCode, second.statusCode].sort(), [200, 409])
    t.equal(calls, 1)
    t.equal((await deliver(b, body)).statusCode, 200, 'later retries are acknowledged as duplicates')
    t.equal(calls, 1)
  })

  test('a deprovisioning webhook delivered to B signs the user out on A within a second', async (t) => {
    const { a, b } = await pair(t, {}, unreachableIdp, app => {
      app.register(directorySync, { secret: webhookSecret, onEvent: async () => {} })
    })
    const cookie = await signIn(a, { email: 'leaver@acme.test', organizationId: 'org_acme' })
    t.equal((await deliver(b, eventBody('dsync.user.deleted', directoryUser('leaver@acme.test', { state: 'inactive' })))).statusCode, 200)
    const elapsed = await within(1500, async () => (await a.inject({ url: '/api/me', headers: { cookie } })).statusCode === 401)
    t.ok(elapsed <= 1500, `after ${elapsed} ms`)
  })

  test('a JWT used on A is refused on B', async (t) => {
    const provider = jwtProvider({ loginUrl, secret: sharedSecret, algorithms: ['HS256'], allowUnsolicited: true })
    const { a, b } = await pair(t, { provider })
    const token = await signHs256(aliceClaims({ jti: `jti-${Date.now()}` }))
    const first = await a.inject({ url: `/auth/callback?id_token=${token}` })
    t.equal(first.statusCode, 302)
    t.ok(setCookie(first.headers, 'sso'))
    const replay = await b.inject({ url: `/auth/callback?id_token=${token}`, headers: { accept: 'application/json' } })
    t.equal(replay.statusCode, 401)
    t.notOk(setCookie(replay.headers, 'sso'))
  })
}

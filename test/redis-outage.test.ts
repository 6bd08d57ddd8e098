/**
 * Redis stopped mid-test (a private redis-server on a spare port): protected routes fail closed
 * with 503 (or let requests through with storeFailure 'open'), nothing hangs, nothing crashes,
 * and everything recovers when Redis is back.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisStore } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { buildApp, devIdp, recordUnhandledRejections, unreachableIdp } from './fixtures/app.ts'
import { privateRedis, redisAvailable, skipReason } from './fixtures/redis.ts'

async function timed<T> (work: Promise<T>): Promise<{ value: T, ms: number }> {
  const started = Date.now()
  const value = await work
  return { value, ms: Date.now() - started }
}

if (!redisAvailable()) {
  test(skipReason, { skip: true }, () => {})
} else {
  test('Redis down: 503 on protected routes (fail closed), 200 with storeFailure open, recovery after restart', async (t) => {
    const unhandled = recordUnhandledRejections(t)

    const redis = await privateRedis(t)
    const idp = await devIdp(t)
    const closedStore = redisStore({ url: redis.url, prefix: 'outage:' })
    const openStore = redisStore({ url: redis.url, prefix: 'outage:' })
    t.teardown(async () => { await closedStore.close!(); await openStore.close!() })
    const closed = await buildApp(t, idp, { store: closedStore })
    const open = await buildApp(t, unreachableIdp, { store: openStore, storeFailure: 'open' })
    const cookie = await signIn(closed, { email: 'alice@acme.test' })
    const openCookie = await signIn(open, { email: 'alice@acme.test' })
    t.equal((await closed.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)

    await redis.stop()
    await sleep(1200) // the revocation feed notices within a poll or two
    const protectedRoute = await timed(closed.inject({ url: '/api/me', headers: { cookie } }))
    t.equal(protectedRoute.value.statusCode, 503)
    t.equal(protectedRoute.value.json().code, 'FST_SSO_STORE_UNAVAILABLE')
    t.ok(protectedRoute.ms < 3000, `answered in ${protectedRoute.ms} ms`)
    const openRoute = await timed(closed.inject({ url: '/', headers: { cookie } }))
    t.equal(openRoute.value.statusCode, 200, 'routes without the guard keep working')
    t.equal((await open.inject({ url: '/api/me', headers: { cookie: openCookie } })).statusCode, 200, 'fail open lets requests through')

    // A login while Redis is down: the transaction cannot be marked used, so the callback fails closed.
    const login = await closed.inject({ url: '/auth/login' })
    const state = new URL(String(login.headers.location)).searchParams.get('state')
    const txCookie = String(login.headers['set-cookie']).split(';')[0]
    const callback = await timed(closed.inject({ url: `/auth/callback?code=x&state=${state}&iss=${encodeURIComponent(idp.issuer)}`, headers: { cookie: txCookie, accept: 'application/json' } }))
    t.equal(callback.value.statusCode, 503, 'a callback while Redis is down is a 503, never a 500')
    t.ok(callback.ms < 3000, `answered in ${callback.ms} ms`)
    const revoke = await timed(closed.sso.revoke({ email: 'bob@globex.test' }).then(() => 'ok', () => 'rejected'))
    t.equal(revoke.value, 'rejected', 'app.sso.revoke() rejects instead of hanging')
    t.ok(revoke.ms < 3000)

    await redis.start()
    let recovered = false
    for (let i = 0; i < 40 && !recovered; i++) {
      await sleep(250)
      recovered = (await closed.inject({ url: '/api/me', headers: { cookie } })).statusCode === 200
    }
    t.ok(recovered, 'recovered after Redis came back')
    t.same(unhandled, [], 'no unhandled rejection')
  })
}

/**
 * `connections()` on two app instances sharing one Redis: a connection invalidated on one
 * instance is dropped by the other within the documented bound (the invalidation feed is read
 * every second), long before `cacheTtl` would have expired it; a login started on one instance
 * finishes on the other.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisStore } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, cookiePair, setCookie, stopBeforeCallback } from './fixtures/app.ts'
import { redisAvailable, redisUrl, skipReason, testPrefix } from './fixtures/redis.ts'
import { connectionsApp, mapResolver, startTenants } from './fixtures/tenants.ts'

const json = { accept: 'application/json' }

/** Polls until `check()` is true; returns the elapsed milliseconds. */
async function within (ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started
    await sleep(25)
  }
  return Number.POSITIVE_INFINITY
}

async function pair (t: Parameters<typeof startTenants>[0]) {
  const { acme, globex } = await startTenants(t)
  // Each instance reads the same table (the app's database), and caches it for an hour.
  const resolver = mapResolver([acme.connection, globex.connection])
  const prefix = testPrefix(t)
  const storeA = redisStore({ url: redisUrl!, prefix })
  const storeB = redisStore({ url: redisUrl!, prefix })
  t.teardown(async () => { await storeA.close!(); await storeB.close!() })
  const a = await connectionsApp(t, resolver.resolve, { store: storeA, connections: { cacheTtl: 3600 } })
  const b = await connectionsApp(t, resolver.resolve, { store: storeB, connections: { cacheTtl: 3600 } })
  return { a, b, resolver }
}

if (!redisAvailable()) {
  test(skipReason, { skip: true }, () => {})
} else {
  test('a connection invalidated on A is dropped by B within the feed\'s second', async (t) => {
    const { a, b, resolver } = await pair(t)
    const login = (app: typeof a) => app.inject({ url: '/auth/login?email=alice%40acme.test', headers: json })
    t.equal((await login(a)).statusCode, 302)
    t.equal((await login(b)).statusCode, 302, 'both instances have Acme cached')

    resolver.table.set('acme', { ...resolver.table.get('acme')!, enabled: false })
    t.equal((await login(b)).statusCode, 302, 'B still serves its cached answer')
    await a.sso.invalidateConnection('acme')
    t.equal((await login(a)).statusCode, 403, 'A drops it at once')
    const elapsed = await within(2500, async () => (await login(b)).statusCode === 403)
    t.ok(elapsed <= 2500, `B dropped it after ${elapsed} ms (the feed is read every 1,000 ms)`)
    t.comment(`connection invalidation propagation: ${elapsed} ms`)
    t.equal((await b.inject({ url: '/auth/login?email=bob%40globex.test', headers: json })).statusCode, 302, 'other connections stay cached')
  })

  test('a login started on A finishes on B (the connection id travels in the transaction cookie)', async (t) => {
    const { a, b } = await pair(t)
    const onA = new Browser(a, baseUrl, json)
    const { callbackPath, txCookie } = await stopBeforeCallback(onA, 'bob@globex.test', '/auth/login?email=bob%40globex.test&returnTo=%2F')
    const res = await b.inject({ url: callbackPath, headers: { ...json, cookie: txCookie } })
    t.equal(res.statusCode, 302)
    const cookie = cookiePair(setCookie(res.headers, 'sso'))
    t.match((await b.inject({ url: '/api/me', headers: { cookie } })).json(), { organizationId: 'org_globex', connectionId: 'globex' })
    const replay = await a.inject({ url: callbackPath, headers: { ...json, cookie: txCookie } })
    t.equal(replay.statusCode, 400, 'and is used up on every instance')
  })
}

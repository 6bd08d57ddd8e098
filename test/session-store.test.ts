import { test } from 'tap'
import { memoryStore, type SsoStore } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { aliceUser, baseUrl, buildApp, cookiePair, devIdp, loginThroughIdp, secret, setCookie, testClock, unreachableIdp } from './fixtures/app.ts'

function spyStore () {
  const inner = memoryStore()
  const keys = new Set<string>()
  const store: SsoStore & { keys: Set<string>, down: boolean } = {
    ...inner,
    keys,
    down: false,
    async get (key) {
      if (store.down) throw new Error('connection refused')
      return inner.get(key)
    },
    async set (key, value, ttl) {
      keys.add(key)
      return inner.set(key, value, ttl)
    }
  }
  return store
}

test('session.store: the cookie holds only a pointer; the record lives in the store', async (t) => {
  const idp = await devIdp(t)
  const store = spyStore()
  const app = await buildApp(t, idp, { session: { secret, store } })
  const browser = new Browser(app, baseUrl)
  const landed = await loginThroughIdp(browser)
  t.equal(landed.status, 200)
  t.match(JSON.parse(landed.body).user, aliceUser)
  const cookie = browser.jar.get('localhost')!.get('sso')!.value
  t.ok(cookie.length < 200, `the cookie is a small pointer (${cookie.length} bytes)`)
  t.equal([...store.keys].filter(key => key.startsWith('session:')).length, 1, 'one record in the store')
})

test('session.store: large users fit (no 4 KB limit), signIn works, logout deletes the record', async (t) => {
  const store = spyStore()
  const app = await buildApp(t, unreachableIdp, { session: { secret, store } })
  const cookie = await signIn(app, { email: 'alice@acme.test', claims: { groups: Array.from({ length: 300 }, (_, i) => `group-${i}`) } })
  const me = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(me.statusCode, 200)
  t.equal(me.json().claims.groups.length, 300)
  const key = [...store.keys].find(k => k.startsWith('session:'))!
  t.ok(await store.get(key))
  const out = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
  t.equal(out.statusCode, 302)
  t.equal(await store.get(key), null, 'the record is deleted')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
})

test('session.store: timeouts still apply; last-seen is written back to the store', async (t) => {
  const clock = testClock()
  const store = spyStore()
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, store, idleTimeout: 600, absoluteTimeout: 3600 } })
  let cookie = await signIn(app, { email: 'alice@acme.test' })
  clock.advance(8 * 60_000)
  const res = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(res.statusCode, 200)
  cookie = cookiePair(setCookie(res.headers, 'sso')) // re-issued pointer (same record id)
  clock.advance(8 * 60_000)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200, 'slid')
  clock.advance(11 * 60_000)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401, 'idle-expired')
})

test('session.store: a garbage or dangling pointer is signed out', async (t) => {
  const store = spyStore()
  const app = await buildApp(t, unreachableIdp, { session: { secret, store } })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: 'sso=garbage' } })).statusCode, 401)
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  for (const key of store.keys) await store.delete(key)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
})

test('session.store down: 503 on protected routes (closed), 401 with storeFailure open; never a 500', async (t) => {
  const store = spyStore()
  const closed = await buildApp(t, unreachableIdp, { session: { secret, store } })
  const cookie = await signIn(closed, { email: 'alice@acme.test' })
  store.down = true
  const res = await closed.inject({ url: '/api/me', headers: { cookie } })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'FST_SSO_STORE_UNAVAILABLE')
  t.equal((await closed.inject({ url: '/', headers: { cookie } })).statusCode, 200, 'open routes work (signed out)')
  const open = await buildApp(t, unreachableIdp, { session: { secret, store }, storeFailure: 'open' })
  t.equal((await open.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
  store.down = false
  t.equal((await closed.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200, 'recovers')
})

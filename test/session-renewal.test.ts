/**
 * The once-a-minute renewal of a session cookie is made once per old cookie: every request that
 * still carries the old cookie within that minute gets the same renewed cookie, without another
 * encryption (or, with server-side sessions, another store write).
 */
import { test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { kCore } from '../src/core.ts'
import { memoryStore } from '../src/index.ts'
import { buildApp, setCookie, testClock, unreachableIdp, secret } from './fixtures/app.ts'

function countEncodes (app: Awaited<ReturnType<typeof buildApp>>) {
  const codec = app.sso[kCore].sessions.codec
  const encode = codec.encode.bind(codec)
  const counter = { count: 0 }
  codec.encode = ((data: object) => { counter.count++; return encode(data) }) as typeof codec.encode
  return counter
}

test('a burst of requests with a cookie due for renewal is renewed once, and all get the same cookie', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  const encodes = countEncodes(app)
  t.notOk(setCookie((await app.inject({ url: '/api/me', headers: { cookie } })).headers, 'sso'), 'fresh: no Set-Cookie')
  clock.advance(61_000)
  const burst = await Promise.all(Array.from({ length: 10 }, () => app.inject({ url: '/api/me', headers: { cookie } })))
  const renewed = new Set(burst.map(res => setCookie(res.headers, 'sso')))
  t.equal(renewed.size, 1, 'one renewed cookie for the whole burst')
  t.ok([...renewed][0], 'it is sent')
  t.equal(encodes.count, 1, 'one encryption')
  clock.advance(30_000)
  t.equal(setCookie((await app.inject({ url: '/api/me', headers: { cookie } })).headers, 'sso'), [...renewed][0], 'a late request with the old cookie gets the same renewal')
  t.equal(encodes.count, 1)
  clock.advance(31_000)
  const later = setCookie((await app.inject({ url: '/api/me', headers: { cookie } })).headers, 'sso')
  t.not(later, [...renewed][0], 'a minute after the renewal, the old cookie is renewed again (last-seen moves on)')
  t.equal(encodes.count, 2)
})

test('a renewal does not outlive revocation: a revoked session is cleared, not renewed', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  clock.advance(61_000)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
  await app.sso.revoke({ email: 'alice@acme.test' })
  const res = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(res.statusCode, 401)
  t.match(setCookie(res.headers, 'sso'), /Max-Age=0/, 'cleared')
})

test('server-side sessions: the renewal writes the store once per old cookie', async (t) => {
  const clock = testClock()
  const store = memoryStore({ now: clock.now })
  let writes = 0
  const set = store.set.bind(store)
  store.set = async (key, value, ttl) => { if (key.startsWith('session:')) writes++; return set(key, value, ttl) }
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, store } })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  writes = 0
  clock.advance(61_000)
  const burst = await Promise.all(Array.from({ length: 5 }, () => app.inject({ url: '/api/me', headers: { cookie } })))
  t.same(burst.map(res => res.statusCode), [200, 200, 200, 200, 200])
  t.equal(new Set(burst.map(res => setCookie(res.headers, 'sso'))).size, 1)
  t.equal(writes, 1, 'one store write for the burst')
})

import { test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { buildApp, clearedCookie, cookiePair, setCookie, testClock, unreachableIdp, secret } from './fixtures/app.ts'

const minute = 60_000

test('idle timeout: a session unused for longer than idleTimeout is signed out', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, idleTimeout: 600, absoluteTimeout: 3600 } })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  clock.advance(9 * minute)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200, 'still valid after 9 idle minutes')
  clock.advance(2 * minute)
  const res = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(res.statusCode, 401, 'signed out 11 minutes after the last write of last-seen')
  t.match(setCookie(res.headers, 'sso'), clearedCookie, 'the expired cookie is cleared')
})

test('idle timeout slides with activity; last-seen is written at most once a minute', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, idleTimeout: 600, absoluteTimeout: 3600 } })
  let cookie = await signIn(app, { email: 'alice@acme.test' })

  clock.advance(30_000)
  const early = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(early.statusCode, 200)
  t.notOk(early.headers['set-cookie'], 'no re-issue within the first minute: responses carry no Set-Cookie')

  for (let i = 0; i < 5; i++) {
    clock.advance(8 * minute)
    const res = await app.inject({ url: '/api/me', headers: { cookie } })
    t.equal(res.statusCode, 200, `active at ${(i + 1) * 8} min`)
    const refreshed = setCookie(res.headers, 'sso')
    t.ok(refreshed, 'last-seen written back')
    cookie = cookiePair(refreshed)
  }
})

test('absolute timeout: ends the session whatever the activity', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, idleTimeout: 600, absoluteTimeout: 1800 } })
  let cookie = await signIn(app, { email: 'alice@acme.test' })
  for (let elapsed = 0; elapsed < 29; elapsed += 5) {
    clock.advance(5 * minute)
    const res = await app.inject({ url: '/api/me', headers: { cookie } })
    if (elapsed + 5 <= 30 && res.statusCode === 200) {
      const refreshed = setCookie(res.headers, 'sso')
      if (refreshed) cookie = cookiePair(refreshed)
    }
  }
  clock.advance(2 * minute)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401, 'signed out after 32 minutes despite activity')
})

test('a replayed old cookie past a limit is signed out (expiry travels inside the cookie)', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, idleTimeout: 600, absoluteTimeout: 3600 } })
  const original = await signIn(app, { email: 'alice@acme.test' })
  clock.advance(5 * minute)
  const res = await app.inject({ url: '/api/me', headers: { cookie: original } })
  const renewed = cookiePair(setCookie(res.headers, 'sso'))
  clock.advance(7 * minute)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: renewed } })).statusCode, 200, 'the renewed cookie is valid')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: original } })).statusCode, 401, 'the old copy is idle-expired')
})

test('the cookie Max-Age never outlives the absolute timeout', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, idleTimeout: 600, absoluteTimeout: 900 } })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  clock.advance(10 * minute - 1000)
  const res = await app.inject({ url: '/api/me', headers: { cookie } })
  const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie(res.headers, 'sso')!)![1])
  t.ok(maxAge <= 301, `Max-Age ${maxAge} ≤ the 5 minutes left`)
})

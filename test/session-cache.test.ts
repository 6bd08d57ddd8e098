import { test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { kCore } from '../src/core.ts'
import { buildApp, testClock, unreachableIdp, secret } from './fixtures/app.ts'

function countDecodes (app: Awaited<ReturnType<typeof buildApp>>) {
  const codec = app.sso[kCore].sessions.codec
  const decode = codec.decode.bind(codec)
  const counter = { count: 0 }
  codec.decode = ((...args: Parameters<typeof decode>) => { counter.count++; return decode(...args) }) as typeof codec.decode
  return counter
}

test('a returning cookie is decrypted once, then served from the decoded-cookie cache', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const decodes = countDecodes(app)
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
  t.equal(decodes.count, 1)
})

test('a cookie that only ends like a cached one is decrypted, not served from the cache', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const decodes = countDecodes(app)
  const alice = await signIn(app, { email: 'alice@acme.test' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice } })).statusCode, 200)
  // The cache is keyed by the cookie's ending: change the start, keep the ending.
  const value = alice.slice('sso='.length)
  const tampered = `sso=${value[0] === 'A' ? 'B' : 'A'}${value.slice(1)}`
  const res = await app.inject({ url: '/api/me', headers: { cookie: tampered } })
  t.equal(res.statusCode, 401, 'not Alice: the full value is compared')
  t.equal(decodes.count, 2, 'it was decrypted (and refused)')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice } })).statusCode, 200, 'Alice is still cached')
  t.equal(decodes.count, 2)
})

test('the cache never bypasses the timeouts or revocation', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now, session: { secret, idleTimeout: 600, absoluteTimeout: 3600 } })
  const alice = await signIn(app, { email: 'alice@acme.test' })
  const bob = await signIn(app, { email: 'bob@globex.test' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice } })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: bob } })).statusCode, 200)
  await app.sso.revoke({ email: 'alice@acme.test' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice } })).statusCode, 401, 'revoked although cached')
  clock.advance(11 * 60_000)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: bob } })).statusCode, 401, 'idle-expired although cached')
})

test('request.user is read-only: a handler cannot change the session for later requests', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.get('/tamper', async (request) => {
      try {
        (request.user as { roles?: string[] }).roles = ['admin']
        return 'changed'
      } catch (err) {
        return (err as Error).name
      }
    })
  })
  const cookie = await signIn(app, { email: 'bob@globex.test', roles: ['member'] })
  t.equal((await app.inject({ url: '/tamper', headers: { cookie } })).body, 'TypeError')
  t.same((await app.inject({ url: '/api/me', headers: { cookie } })).json().roles, ['member'])
})

import { test } from 'tap'
import { randomBytes } from 'node:crypto'
import { signIn } from '../src/testing/index.ts'
import { buildApp, cookiePair, setCookie, unreachableIdp } from './fixtures/app.ts'

test('keys: the first encrypts, all decrypt; an old-key cookie is re-issued under the new key', async (t) => {
  const oldKey = randomBytes(32)
  const newKey = randomBytes(32)
  const before = await buildApp(t, unreachableIdp, { session: { key: oldKey } })
  const oldCookie = await signIn(before, { email: 'alice@acme.test' })

  const rotated = await buildApp(t, unreachableIdp, { session: { keys: [newKey, oldKey] } })
  const res = await rotated.inject({ url: '/api/me', headers: { cookie: oldCookie } })
  t.equal(res.statusCode, 200, 'the old cookie still works during rotation')
  t.equal(res.json().email, 'alice@acme.test')
  const reissued = setCookie(res.headers, 'sso')
  t.ok(reissued, 're-issued at once')

  const after = await buildApp(t, unreachableIdp, { session: { key: newKey } })
  t.equal((await after.inject({ url: '/api/me', headers: { cookie: cookiePair(reissued) } })).statusCode, 200, 'the re-issued cookie is under the new key')
  t.equal((await after.inject({ url: '/api/me', headers: { cookie: oldCookie } })).statusCode, 401, 'once the old key is removed, old cookies are signed out')
})

test('a cookie sealed with an unknown key is signed out, never a 500', async (t) => {
  const other = await buildApp(t, unreachableIdp, { session: { key: randomBytes(32) } })
  const foreign = await signIn(other, { email: 'mallory@evil.test' })
  const app = await buildApp(t, unreachableIdp, { session: { key: randomBytes(32) } })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: foreign } })).statusCode, 401)
  t.same((await app.inject({ url: '/', headers: { cookie: foreign } })).json(), { user: null })
})

test('secret-derived keys are stable across restarts', async (t) => {
  const first = await buildApp(t, unreachableIdp)
  const cookie = await signIn(first, { email: 'alice@acme.test' })
  const second = await buildApp(t, unreachableIdp)
  t.equal((await second.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
})

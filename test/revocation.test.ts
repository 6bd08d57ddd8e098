import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { memoryStore } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { buildApp, testClock, unreachableIdp } from './fixtures/app.ts'

test('app.sso.revoke() signs every session of the user out, matched by email (any case), id or idpId', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const laptop = await signIn(app, { email: 'Alice@Acme.test', idpId: 'okta-1' })
  const phone = await signIn(app, { email: 'alice@acme.test', idpId: 'okta-1' })
  const bob = await signIn(app, { email: 'bob@globex.test' })
  await app.sso.revoke({ email: 'ALICE@acme.test' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: laptop } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: phone } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: bob } })).statusCode, 200, 'other users are untouched')

  const carol = await signIn(app, { email: 'carol@acme.test', idpId: 'okta-3' })
  await app.sso.revoke({ idpId: 'okta-3' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: carol } })).statusCode, 401)

  const dave = await signIn(app, { email: 'dave@acme.test', id: 'user_dave' })
  await app.sso.revoke({ userId: 'user_dave' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: dave } })).statusCode, 401)
  await t.rejects(app.sso.revoke({}), { code: 'FST_SSO_INVALID_ARGUMENT' })
})

test('a session created after the revocation is valid (the user was re-provisioned)', async (t) => {
  const clock = testClock()
  const app = await buildApp(t, unreachableIdp, { now: clock.now })
  const before = await signIn(app, { email: 'alice@acme.test' })
  await app.sso.revoke({ email: 'alice@acme.test' })
  clock.advance(1000)
  const after = await signIn(app, { email: 'alice@acme.test' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: before } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: after } })).statusCode, 200)
})

test('two instances sharing a store: a revocation on one is enforced by the other within a second', async (t) => {
  const store = memoryStore()
  const a = await buildApp(t, unreachableIdp, { store })
  const b = await buildApp(t, unreachableIdp, { store })
  const cookie = await signIn(a, { email: 'alice@acme.test' })
  t.equal((await b.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
  await a.sso.revoke({ email: 'alice@acme.test' })
  await sleep(1000)
  t.equal((await b.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
  await a.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: await signIn(a, { email: 'bob@globex.test' }) } })
})

test('a logout on one instance signs the cookie out on the other', async (t) => {
  const store = memoryStore()
  const a = await buildApp(t, unreachableIdp, { store })
  const b = await buildApp(t, unreachableIdp, { store })
  const cookie = await signIn(a, { email: 'bob@globex.test' })
  await a.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
  await sleep(1000)
  t.equal((await b.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
})

test('a new instance learns the revocations published before it started', async (t) => {
  const store = memoryStore()
  const a = await buildApp(t, unreachableIdp, { store })
  const cookie = await signIn(a, { email: 'alice@acme.test' })
  await a.sso.revoke({ email: 'alice@acme.test' })
  const late = await buildApp(t, unreachableIdp, { store })
  t.equal((await late.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
})

test('store down with storeFailure closed: protected routes answer 503, then recover', async (t) => {
  const inner = memoryStore()
  let down = false
  const store = {
    ...inner,
    async readFeed (feed: string, cursor: string | null) {
      if (down) throw new Error('connection refused')
      return inner.readFeed(feed, cursor)
    }
  }
  const app = await buildApp(t, unreachableIdp, { store })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  down = true
  await sleep(1100)
  const res = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'FST_SSO_STORE_UNAVAILABLE')
  t.equal((await app.inject({ url: '/' })).statusCode, 200, 'open routes keep working')
  down = false
  await sleep(1100)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200, 'recovered')
})

test('storeFailure open: requests go through while the store is down', async (t) => {
  const inner = memoryStore()
  const store = { ...inner, async readFeed () { throw new Error('down') } }
  const app = await buildApp(t, unreachableIdp, { store, storeFailure: 'open' })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  await sleep(700)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
})

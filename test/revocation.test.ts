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

test('app.sso.revoke({ organizationId }) signs out that organization\'s user only', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const acmeBob = await signIn(app, { email: 'bob@shared.test', idpId: 'idp-bob', organizationId: 'org_acme' })
  const globexBob = await signIn(app, { email: 'bob@shared.test', idpId: 'idp-bob', organizationId: 'org_globex' })
  const noTenantBob = await signIn(app, { email: 'bob@shared.test' })
  await app.sso.revoke({ email: 'BOB@shared.test', organizationId: 'org_globex' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: globexBob } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: acmeBob } })).statusCode, 200, 'another organization\'s user of the same email stays signed in')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: noTenantBob } })).statusCode, 200, 'a session without an organization is outside any tenant\'s reach')
  await app.sso.revoke({ idpId: 'idp-bob', organizationId: 'org_acme' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: acmeBob } })).statusCode, 401)
  await t.rejects(app.sso.revoke({ organizationId: 'org_acme' }), { code: 'FST_SSO_INVALID_ARGUMENT' }, 'an organization alone names nobody')
  await t.rejects(app.sso.revoke({ email: 'bob@shared.test', organizationId: '' }), { code: 'FST_SSO_INVALID_ARGUMENT' }, 'an empty organization never widens to every tenant')
})

test('an organization-scoped revocation reaches another instance through the feed, still scoped', async (t) => {
  const store = memoryStore()
  const a = await buildApp(t, unreachableIdp, { store })
  const b = await buildApp(t, unreachableIdp, { store })
  const acme = await signIn(a, { email: 'dana@shared.test', organizationId: 'org_acme' })
  const globex = await signIn(a, { email: 'dana@shared.test', organizationId: 'org_globex' })
  await a.sso.revoke({ email: 'dana@shared.test', organizationId: 'org_acme' })
  await sleep(1000)
  t.equal((await b.inject({ url: '/api/me', headers: { cookie: acme } })).statusCode, 401)
  t.equal((await b.inject({ url: '/api/me', headers: { cookie: globex } })).statusCode, 200)
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

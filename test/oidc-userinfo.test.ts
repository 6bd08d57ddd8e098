/**
 * User-info: called once per login, with the access token, only after the ID token was verified;
 * its `sub` must be the ID token's; it cannot override ID token claims; a broken endpoint is a
 * 502. `userinfo: true` calls it always; by default only when the ID token lacks the claims the
 * requested scopes promise (an IdP that keeps email and names in user-info only).
 */
import { test } from 'tap'
import { startDevIdp } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, loginThroughIdp, providerFor } from './fixtures/app.ts'
import { defaultSub, startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, assertRefused, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'

/** ID token claims the email and profile scopes promise, removed (the OP keeps them in user-info). */
const withoutProfile = { email: undefined, email_verified: undefined, name: undefined, given_name: undefined, family_name: undefined }

test('userinfo: true → one call with the access token; its claims are merged, the ID token wins', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { userinfo: true })
  op.behaviour.userinfo = { email: 'someone-else@evil.example', locale: 'fr-FR', department: 'R&D' }
  const user = await assertSignedIn(t, app, await attemptLogin(app))
  const calls = op.calls('/userinfo')
  t.equal(calls.length, 1)
  t.match(calls[0]!.headers.authorization, /^Bearer at_[0-9a-f]+$/)
  t.equal(user.id, defaultSub)
  t.equal(user.email, 'mallory@acme.test', 'user-info cannot replace a claim of the signed ID token')
  t.match(user.claims, { locale: 'fr-FR', department: 'R&D' }, 'extra user-info claims are kept')
})

test('an ID token that has the promised claims: the endpoint is not called without userinfo: true', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/userinfo').length, 0)
})

test('user-info sub differs from the ID token sub → 401', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { userinfo: true })
  op.behaviour.userinfo = { sub: 'admin' }
  const attempt = await attemptLogin(app)
  t.equal(op.calls('/userinfo').length, 1, 'called once (after the ID token was verified)')
  op.requests.length = 0 // assertRefused checks no further call
  await assertRefused(t, app, op, attempt, 401, 'FST_SSO_TOKEN_REJECTED')
})

test('user-info answers 500 → 502', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { userinfo: true })
  op.behaviour.userinfoStatus = 500
  const attempt = await attemptLogin(app)
  op.requests.length = 0
  await assertRefused(t, app, op, attempt, 502, 'FST_SSO_IDP_UNAVAILABLE')
})

test('the OP advertises no user-info endpoint while userinfo: true → 502', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discovery = { userinfo_endpoint: undefined }
  const app = await appFor(t, op, { userinfo: true })
  await assertRefused(t, app, op, await attemptLogin(app), 502, 'FST_SSO_IDP_UNAVAILABLE')
})

test('a real OP that keeps email and names out of the ID token (oidc-provider conformIdTokenClaims): user-info fills them', async (t) => {
  const idp = await startDevIdp({ app: { baseUrl }, claimsInUserinfoOnly: true })
  t.teardown(() => idp.close())
  for (const userinfo of [undefined, false]) {
    await t.test(`userinfo: ${userinfo}`, async (t) => {
      const app = await buildApp(t, idp, userinfo === undefined ? {} : { provider: providerFor(idp, { userinfo }) })
      const landed = await loginThroughIdp(new Browser(app, baseUrl))
      t.equal(landed.url, `${baseUrl}/dashboard`)
      t.match(JSON.parse(landed.body).user, {
        id: 'user_alice_acme_test',
        email: 'alice@acme.test',
        emailVerified: true,
        name: 'Alice Anders',
        firstName: 'Alice',
        lastName: 'Anders',
        organizationId: 'org_acme',
        roles: ['admin']
      })
    })
  }
})

test('ID token without email and names → user-info called once; the ID token\'s other claims still win', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  op.behaviour.claims = withoutProfile
  op.behaviour.userinfo = { email: 'mallory@acme.test', email_verified: true, given_name: 'Mallory', family_name: 'Moe', org_id: 'org_evil' }
  const user = await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/userinfo').length, 1)
  t.match(user, { email: 'mallory@acme.test', emailVerified: true, name: 'Mallory Moe', organizationId: 'org_acme' })
})

test('only the scopes asked for count: scopes [openid, email] with names missing, or email present but email_verified missing → not called', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { scopes: ['openid', 'email'] })
  op.behaviour.claims = { name: undefined, given_name: undefined, family_name: undefined, email_verified: undefined }
  const user = await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/userinfo').length, 0)
  t.equal(user.email, 'mallory@acme.test')
  t.equal(user.emailVerified, undefined)
})

test('profile scope with only given_name in the ID token → not called (one of the names is enough)', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  op.behaviour.claims = { name: undefined, family_name: undefined }
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/userinfo').length, 0)
})

test('fetched because claims are missing: a user-info sub that differs → 401, no session', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  op.behaviour.claims = withoutProfile
  op.behaviour.userinfo = { sub: 'admin', email: 'admin@acme.test' }
  const attempt = await attemptLogin(app)
  t.equal(op.calls('/userinfo').length, 1)
  op.requests.length = 0
  await assertRefused(t, app, op, attempt, 401, 'FST_SSO_TOKEN_REJECTED')
})

test('claims missing and the OP has no user-info endpoint: signed in with what the ID token has', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discovery = { userinfo_endpoint: undefined }
  const app = await appFor(t, op)
  op.behaviour.claims = withoutProfile
  const user = await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(user.email, '')
  t.equal(op.calls('/userinfo').length, 0)
})

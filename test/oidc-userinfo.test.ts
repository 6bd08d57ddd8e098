/**
 * `userinfo: true`: the user-info endpoint is called once per login, with the access token, only
 * after the ID token was verified; its `sub` must be the ID token's; it cannot override ID token
 * claims; a broken endpoint is a 502. Without the option it is never called.
 */
import { test } from 'tap'
import { defaultSub, startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, assertRefused, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'

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

test('without userinfo: true the endpoint is never called', async (t) => {
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

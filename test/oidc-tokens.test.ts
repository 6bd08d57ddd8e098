/**
 * Tokens on request: `oidcProvider({ tokens: true })` keeps the access and refresh tokens
 * server-side and `app.sso.accessToken(request)` hands out a valid access token, renewing it near
 * expiry, once for parallel calls, honouring refresh-token rotation; a renewal the IdP refuses ends
 * the session; logout revokes the refresh token. Against oidc-provider (access tokens of 60 s,
 * rotation on, revocation endpoint); failures the real OP cannot stage on the hostile OP.
 */
import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import ssoPlugin, { memoryStore, oidcProvider, requireUser, type SsoStore } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { baseUrl, buildApp, json, providerFor, secret, testClock, unreachableIdp } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { within } from './fixtures/redis.ts'
import { appFor, attemptLogin } from './fixtures/login-attempt.ts'
import {
  accessTokenTtl, keptState, refreshAtIdp, requestToken, revokeAtIdp, signInForTokens, tokenApp, tokenClient, tokenIdp, tokenRoutes, userinfoStatus
} from './fixtures/tokens.ts'

test('the IdP\'s access token, valid at its user-info endpoint; kept in the store (sealed), not in the cookie', async (t) => {
  const idp = await tokenIdp(t)
  const inner = memoryStore()
  const written = new Map<string, string>()
  const store: SsoStore = { ...inner, async set (key, value, ttl) { written.set(key, value); return inner.set(key, value, ttl) } }
  const { app } = await tokenApp(t, idp, testClock(), { store })
  const { sessionId, cookie, browser } = await signInForTokens(t, app)
  const { status, body } = await requestToken(app, cookie)
  t.equal(status, 200)
  t.equal(await userinfoStatus(idp, body.token!), 200, 'the IdP accepts it')
  const state = await keptState(app, sessionId)
  t.equal(state?.accessToken, body.token)
  t.type(state?.refreshToken, 'string', 'a refresh token kept')
  t.type(state?.idt, 'string', 'the ID token kept for logout as before')
  const sealed = written.get(`provider-state:${sessionId}`)!
  t.notOk(sealed.includes(body.token!) || sealed.includes(String(state!.refreshToken)), 'the store holds them sealed')
  const sessionCookie = browser.cookies(baseUrl).get('sso')!.value
  t.ok(sessionCookie.length < 1200, `the cookie does not carry them (${sessionCookie.length} characters)`)
  t.same((await requestToken(app, cookie)).body, body, 'a fresh token is handed out again as is')
})

test('near expiry (within half its 60 s life): renewed once for five parallel calls; the rotated refresh token replaces the old one, which the IdP then refuses', async (t) => {
  const idp = await tokenIdp(t)
  const { app, clock } = await tokenApp(t, idp)
  const { sessionId, cookie } = await signInForTokens(t, app)
  const before = await keptState(app, sessionId)
  clock.advance((accessTokenTtl - 31) * 1000)
  t.equal((await requestToken(app, cookie)).body.token, before!.accessToken, '31 s left: still the same token')
  clock.advance(2000)
  const results = await Promise.all(Array.from({ length: 5 }, () => requestToken(app, cookie)))
  t.same(results.map(result => result.status), [200, 200, 200, 200, 200])
  const tokens = new Set(results.map(result => result.body.token))
  t.equal(tokens.size, 1, 'one renewal: every call got the same new token')
  const [renewed] = tokens
  t.not(renewed, before!.accessToken, 'a new access token')
  t.equal(await userinfoStatus(idp, renewed!), 200, 'valid at the IdP')
  const after = await keptState(app, sessionId)
  t.equal(after?.accessToken, renewed)
  t.not(after?.refreshToken, before!.refreshToken, 'the rotated refresh token is kept')
  t.equal((await app.inject({ url: '/api/me', headers: { ...json, cookie } })).statusCode, 200, 'still signed in')
  // Had two renewals spent the old refresh token, oidc-provider would have revoked the grant.
  t.match(await refreshAtIdp(idp, String(before!.refreshToken)), { status: 400, error: 'invalid_grant' }, 'the old refresh token is spent')
})

test('a renewal the IdP refuses (grant revoked): FST_SSO_REFRESH_REFUSED, the session ends, the next request is signed out', async (t) => {
  const idp = await tokenIdp(t)
  const { app, clock } = await tokenApp(t, idp)
  const { sessionId, cookie } = await signInForTokens(t, app)
  await revokeAtIdp(idp, String((await keptState(app, sessionId))!.refreshToken))
  clock.advance(accessTokenTtl * 1000)
  const refused = await requestToken(app, cookie)
  t.equal(refused.status, 401)
  t.match(refused.body, { code: 'FST_SSO_REFRESH_REFUSED', message: /invalid_grant/ })
  const next = await app.inject({ url: '/api/me', headers: { ...json, cookie } })
  t.equal(next.statusCode, 401, 'signed out')
  t.equal(await keptState(app, sessionId), null, 'its tokens are gone from the store')
})

test('the IdP down during a renewal: the token is used until it expires, then 502; the session stays', async (t) => {
  const idp = await tokenIdp(t)
  const { app, clock } = await tokenApp(t, idp)
  const { cookie } = await signInForTokens(t, app)
  const { token } = (await requestToken(app, cookie)).body
  await idp.close()
  clock.advance((accessTokenTtl - 10) * 1000)
  t.same(await requestToken(app, cookie), { status: 200, body: { token } }, 'not renewed, still valid: handed out')
  clock.advance(20_000)
  const expired = await requestToken(app, cookie)
  t.equal(expired.status, 502)
  t.equal(expired.body.code, 'FST_SSO_IDP_UNAVAILABLE')
  t.equal((await app.inject({ url: '/api/me', headers: { ...json, cookie } })).statusCode, 200, 'still signed in')
})

test('logout revokes the refresh token at the IdP\'s revocation endpoint', async (t) => {
  const idp = await tokenIdp(t)
  const { app } = await tokenApp(t, idp)
  const { sessionId, browser } = await signInForTokens(t, app)
  const state = await keptState(app, sessionId)
  const logout = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(logout.status, 302)
  t.match(new URL(String(logout.headers.location)).searchParams.get('id_token_hint'), /^eyJ/, 'the ID token hint still sent')
  t.match(await refreshAtIdp(idp, String(state!.refreshToken)), { status: 400, error: 'invalid_grant' }, 'refused by the IdP')
  t.equal(await userinfoStatus(idp, String(state!.accessToken)), 401, 'the access token went with it')
  t.equal(await keptState(app, sessionId), null)
})

test('request.logout() from application code revokes too', async (t) => {
  const idp = await tokenIdp(t)
  const { app } = await tokenApp(t, idp)
  const { sessionId, cookie } = await signInForTokens(t, app)
  const state = await keptState(app, sessionId)
  t.equal((await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } })).statusCode, 200)
  t.match(await refreshAtIdp(idp, String(state!.refreshToken)), { status: 400, error: 'invalid_grant' })
})

test('a revocation endpoint that never answers does not hold the logout', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { tokens: true })
  const attempt = await attemptLogin(app)
  op.behaviour.revocation = 'hang'
  const logout = await attempt.browser.request('/auth/logout', { method: 'POST' })
  t.equal(logout.status, 302, 'logged out')
  t.equal(op.calls('/revoke').length, 1, 'the revocation was asked for, and is still unanswered')
  t.match(new URLSearchParams(op.calls('/revoke')[0]!.body).get('token_type_hint'), 'refresh_token')
})

test('a renewed ID token for another user ends the session (FST_SSO_REFRESH_REFUSED)', async (t) => {
  const op = await startMaliciousOp(t)
  const clock = testClock()
  const client = { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret }
  const app = await buildApp(t, client, { provider: providerFor(client, { tokens: true }), now: clock.now }, tokenRoutes)
  const attempt = await attemptLogin(app)
  const cookie = attempt.browser.cookieHeader(baseUrl)
  op.behaviour.claims = { sub: 'user_456' }
  clock.advance(3600_000)
  const refused = await requestToken(app, cookie)
  t.match(refused, { status: 401, body: { code: 'FST_SSO_REFRESH_REFUSED', message: /another user/ } })
  t.equal((await app.inject({ url: '/api/me', headers: { ...json, cookie } })).statusCode, 401, 'signed out')
})

test('a slow IdP does not hold a call whose token is still valid: the current token at once, the renewed one when it lands', async (t) => {
  const op = await startMaliciousOp(t)
  const clock = testClock()
  const client = { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret }
  const app = await buildApp(t, client, { provider: providerFor(client, { tokens: true }), now: clock.now }, tokenRoutes)
  const cookie = (await attemptLogin(app)).browser.cookieHeader(baseUrl)
  const { token } = (await requestToken(app, cookie)).body
  op.behaviour.token = { delayMs: 3000 }
  clock.advance(3600_000 - 30_000)
  t.same(await requestToken(app, cookie), { status: 200, body: { token } }, 'the current token, 30 s before expiry, without the renewal')
  t.equal(op.calls('/token').length, 2, 'the renewal is under way')
  const landed = await within(15_000, async () => (await requestToken(app, cookie)).body.token !== token)
  t.ok(landed < Number.POSITIVE_INFINITY, 'the renewed token is handed out once it lands')
  t.equal(op.calls('/token').length, 2, 'one renewal for all those calls')
})

test('no session, no tokens in the session, no tokens: true: coded errors', async (t) => {
  const idp = await tokenIdp(t)
  const { app } = await tokenApp(t, idp)
  t.match(await requestToken(app, '', '/api/token-unguarded'), { status: 401, body: { code: 'FST_SSO_UNAUTHORIZED' } })
  const local = await signIn(app, { email: 'pat@acme.test' })
  t.match(await requestToken(app, local), { status: 401, body: { code: 'FST_SSO_NO_ACCESS_TOKEN', message: /holds no access token/ } })
  const plain = await buildApp(t, unreachableIdp, {}, tokenRoutes)
  t.match(await requestToken(plain, await signIn(plain, { email: 'pat@acme.test' })), { status: 500, body: { code: 'FST_SSO_INVALID_ARGUMENT', message: /tokens: true/ } })
})

test('no token, refresh token or ID token in any log line, at any level, through login, renewal, refusal and logout', async (t) => {
  const idp = await tokenIdp(t)
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const clock = testClock()
  const app = Fastify({ logger: { level: 'trace', stream } })
  await app.register(ssoPlugin, { baseUrl, provider: oidcProvider({ issuer: idp.issuer, ...tokenClient, tokens: true }), session: { secret }, now: clock.now })
  app.get('/dashboard', { preHandler: requireUser() }, async () => 'ok')
  tokenRoutes(app)
  t.teardown(() => app.close())
  await app.ready()
  const { browser, sessionId, cookie } = await signInForTokens(t, app)
  const secrets = [await keptState(app, sessionId)]
  clock.advance(accessTokenTtl * 1000)
  t.equal((await requestToken(app, cookie)).status, 200, 'renewed')
  secrets.push(await keptState(app, sessionId))
  await revokeAtIdp(idp, String(secrets[1]!.refreshToken))
  clock.advance(accessTokenTtl * 1000)
  t.equal((await requestToken(app, cookie)).body.code, 'FST_SSO_REFRESH_REFUSED', 'refused')
  await browser.request('/auth/logout', { method: 'POST' })
  const log = lines.join('')
  t.ok(lines.length > 10, `${lines.length} log lines`)
  for (const state of secrets) {
    for (const name of ['accessToken', 'refreshToken', 'idt']) {
      t.notOk(log.includes(String(state![name])), `no ${name} in the logs`)
    }
  }
})

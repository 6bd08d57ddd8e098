/**
 * OpenID Connect RP-initiated logout: the session ends here first, then the browser goes to the
 * OP's end_session_endpoint with post_logout_redirect_uri (and id_token_hint only with
 * keepIdToken), and the OP sends it back to the app.
 */
import { test } from 'tap'
import { decodeJwt } from 'jose'
import type { OidcProviderOptions } from '../src/index.ts'
import { signIn, startDevIdp } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, clearedCookie, confirmLogoutAtIdp, json, loginThroughIdp, providerFor, setCookie, type TapTest } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'

async function setup (t: TapTest, provider: Partial<OidcProviderOptions> = {}) {
  const clientSecret = 'dev-client-secret-for-logout-tests'
  const idp = await startDevIdp({
    clients: [{
      clientId: 'logout-client',
      clientSecret,
      redirectUris: [`${baseUrl}/auth/callback`],
      postLogoutRedirectUris: [`${baseUrl}/bye`]
    }]
  })
  t.teardown(() => idp.close())
  const client = { issuer: idp.issuer, clientId: 'logout-client', clientSecret }
  const app = await buildApp(t, client, { logoutRedirect: '/bye', provider: providerFor(client, provider) }, (app) => {
    app.get('/bye', async (request) => ({ bye: true, user: request.user }))
  })
  const browser = new Browser(app, baseUrl)
  const landed = await loginThroughIdp(browser)
  t.equal(landed.url, `${baseUrl}/dashboard`, 'signed in')
  return { idp, app, browser }
}

test('logout → the OP end_session_endpoint with post_logout_redirect_uri, no id_token_hint by default, and back', async (t) => {
  const { idp, app, browser } = await setup(t)
  const cookie = browser.cookieHeader(baseUrl)
  const res = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(res.status, 302)
  t.match(setCookie(res.headers, 'sso'), clearedCookie, 'session cookie cleared')
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, `${idp.issuer}/session/end`)
  t.equal(location.searchParams.get('post_logout_redirect_uri'), `${baseUrl}/bye`)
  t.equal(location.searchParams.get('client_id'), 'logout-client')
  t.equal(location.searchParams.get('id_token_hint'), null)
  t.equal((await app.inject({ url: '/dashboard', headers: { cookie, ...json } })).statusCode, 401, 'the old cookie is signed out')
  const back = await confirmLogoutAtIdp(browser, location.href)
  t.equal(back.url, `${baseUrl}/bye`)
  t.same(JSON.parse(back.body), { bye: true, user: null })
})

test('a session the app started itself (app.sso.signIn, a password login): local logout, no visit to the OP', async (t) => {
  const { app } = await setup(t)
  const cookie = await signIn(app, { email: 'dana@example.test', provider: 'local' })
  const res = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/bye', 'the OP has no session of this user to end')
  t.match(setCookie(res.headers, 'sso'), clearedCookie, 'session cookie cleared')
  const idpUser = await signIn(app, { email: 'alice@acme.test' })
  const idpLogout = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: idpUser } })
  t.match(String(idpLogout.headers.location), /\/session\/end\?/, 'a session of the OP\'s own still goes there')
})

test('keepIdToken: the ID token goes back as id_token_hint, and the OP accepts it', async (t) => {
  const { idp, browser } = await setup(t, { keepIdToken: true })
  const session = browser.cookies(baseUrl).get('sso')?.value ?? ''
  t.ok(session.length < 4096, `session cookie ${session.length} bytes with the ID token`)
  const res = await browser.request('/auth/logout', { method: 'POST' })
  const location = new URL(String(res.headers.location))
  const hint = location.searchParams.get('id_token_hint')
  t.ok(hint, 'id_token_hint sent')
  t.match(decodeJwt(hint!), { iss: idp.issuer, aud: 'logout-client', sub: 'user_alice_acme_test' })
  const back = await confirmLogoutAtIdp(browser, location.href)
  t.equal(back.url, `${baseUrl}/bye`, 'the OP accepted the hint and the redirect')
})

test('an OP without end_session_endpoint: local logout to logoutRedirect', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discovery = { end_session_endpoint: undefined }
  const app = await appFor(t, op, {}, { logoutRedirect: '/bye' })
  const attempt = await attemptLogin(app)
  await assertSignedIn(t, app, attempt)
  const res = await attempt.browser.request('/auth/logout', { method: 'POST' })
  t.equal(res.status, 302)
  t.equal(res.headers.location, '/bye')
  t.match(setCookie(res.headers, 'sso'), clearedCookie)
})

test('keepIdToken with an ID token too large for the cookie (long group list): login works, logout without id_token_hint', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { keepIdToken: true })
  op.behaviour.claims = { groups: Array.from({ length: 80 }, (_, i) => `engineering-group-${i}`) }
  const attempt = await attemptLogin(app)
  await assertSignedIn(t, app, attempt)
  const res = await attempt.browser.request('/auth/logout', { method: 'POST' })
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, `${op.issuer}/logout`)
  t.equal(location.searchParams.get('id_token_hint'), null, 'the token was not kept')

  op.behaviour.claims = {}
  const small = await attemptLogin(app)
  await assertSignedIn(t, app, small)
  const hinted = await small.browser.request('/auth/logout', { method: 'POST' })
  t.ok(new URL(String(hinted.headers.location)).searchParams.get('id_token_hint'), 'a usual ID token is kept')
})

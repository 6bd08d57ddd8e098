/**
 * Step-up re-authentication: `requireUser({ acr })` and `requireUser({ maxAge })` send a browser to
 * log in again with `acr_values` / `max_age`, answer API calls with 401 FST_SSO_STEP_UP_REQUIRED, and
 * the callback refuses a new sign-in that does not meet the requirement (no redirect loop).
 * `acr` against oidc-provider (the development IdP steps up on acr_values, as Okta and Keycloak do);
 * `maxAge` on the hostile OP, whose `auth_time` a test can set (oidc-provider's clock is the real one).
 */
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { requireUser } from '../src/index.ts'
import { signIn, startDevIdp } from '../src/testing/index.ts'
import { Browser, type Page } from './fixtures/browser.ts'
import { baseUrl, buildApp, html, json, loginThroughIdp, type TapTest } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, attemptLogin } from './fixtures/login-attempt.ts'

const clientSecret = 'a-client-secret-for-the-step-up-tests'

function stepUpRoutes (app: FastifyInstance): void {
  app.get('/mfa', { preHandler: requireUser({ acr: 'mfa' }) }, async () => ({ page: 'mfa' }))
  app.post('/mfa', { preHandler: requireUser({ acr: 'mfa' }) }, async () => ({ page: 'mfa' }))
  app.get('/strong', { preHandler: requireUser({ acr: ['mfa', 'hwk'] }) }, async () => ({ page: 'strong' }))
  app.get('/recent', { preHandler: requireUser({ maxAge: 300 }) }, async () => ({ page: 'recent' }))
}

/** The development IdP offering `pwd` and `mfa`, and the app on it (PAR on request). */
async function acrSetup (t: TapTest, requirePushedAuthorizationRequests = false) {
  const idp = await startDevIdp({
    acrValues: ['pwd', 'mfa'],
    requirePushedAuthorizationRequests,
    clients: [{ clientId: 'step-up', clientSecret, redirectUris: [`${baseUrl}/auth/callback`] }]
  })
  t.teardown(() => idp.close())
  const app = await buildApp(t, { issuer: idp.issuer, clientId: 'step-up', clientSecret }, {}, stepUpRoutes)
  const browser = new Browser(app, baseUrl)
  t.equal((await loginThroughIdp(browser)).url, `${baseUrl}/dashboard`, 'signed in with a password (acr pwd)')
  return { idp, app, browser }
}

/** Submits the development IdP's login form with these fields and follows the way back to the app. */
async function submitForm (browser: Browser, form: Page, fields: Record<string, string>): Promise<Page> {
  const action = /<form method="post" action="([^"]+)"/.exec(form.body)?.[1]
  if (!action) throw new Error(`no login form at ${form.url}`)
  return browser.navigate(new URL(action.replaceAll('&amp;', '&'), form.url).href, { form: { password: 'any', ...fields } })
}

for (const pushed of [false, true]) {
  test(`requireUser({ acr: 'mfa' }): a password session is sent to log in again with acr_values=mfa, the IdP asks again, the new session passes${pushed ? ' (through a pushed request)' : ''}`, async (t) => {
    const { app, browser } = await acrSetup(t, pushed)
    const first = await browser.request('/mfa')
    t.equal(first.status, 302)
    t.equal(first.headers.location, '/auth/login?returnTo=%2Fmfa&acr_values=mfa')
    const form = await browser.navigate('/mfa')
    t.match(form.body, /<form method="post"/, 'the IdP shows its sign-in form again')
    const landed = await submitForm(browser, form, { email: 'alice@acme.test' })
    t.equal(landed.url, `${baseUrl}/mfa`)
    t.same(JSON.parse(landed.body), { page: 'mfa' })
    const api = await app.inject({ url: '/mfa', headers: { ...json, cookie: browser.cookieHeader(baseUrl) } })
    t.equal(api.statusCode, 200, 'the stepped-up session passes the guard')
  })
}

test('an API call gets 401 FST_SSO_STEP_UP_REQUIRED naming the requirement and the login URL, with an RFC 9470 challenge', async (t) => {
  const { app, browser } = await acrSetup(t)
  const cookie = browser.cookieHeader(baseUrl)
  const res = await app.inject({ url: '/strong', headers: { ...json, cookie } })
  t.equal(res.statusCode, 401)
  t.match(res.json(), { code: 'FST_SSO_STEP_UP_REQUIRED', message: /one of the acr values mfa, hwk.*\/auth\/login\?returnTo=%2Fstrong&acr_values=mfa%20hwk/ })
  t.equal(res.headers['www-authenticate'], 'Bearer error="insufficient_user_authentication", error_description="This needs a sign-in with one of the acr values mfa, hwk", acr_values="mfa hwk"')
  t.equal((await app.inject({ url: '/dashboard', headers: { ...json, cookie } })).statusCode, 200, 'routes without a requirement still pass')
  const post = await app.inject({ method: 'POST', url: '/mfa', headers: { ...html, cookie } })
  t.equal(post.headers.location, '/auth/login?acr_values=mfa', 'a POST is sent to log in without returnTo (it cannot be replayed)')
})

test('an IdP that cannot give the acr answers with its own: 403 FST_SSO_STEP_UP_FAILED, no loop, the old session stays', async (t) => {
  const { app, browser } = await acrSetup(t)
  browser.headers = json
  // The development IdP offers pwd and mfa; asked for hwk only, it signs in with what it has.
  const refused = await browser.navigate('/auth/login?returnTo=%2Fhwk&acr_values=hwk')
  t.equal(refused.status, 403)
  t.match(JSON.parse(refused.body), { code: 'FST_SSO_STEP_UP_FAILED', message: /acr hwk/ })
  t.equal((await app.inject({ url: '/dashboard', headers: { ...json, cookie: browser.cookieHeader(baseUrl) } })).statusCode, 200, 'still signed in as before')
})

test('requireUser({ maxAge: 300 }) with a sign-in an hour old: max_age=300 goes to the IdP, a fresh auth_time passes; an IdP that ignores max_age is refused', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await buildApp(t, { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret }, {}, stepUpRoutes)
  const now = () => Math.floor(Date.now() / 1000)
  op.behaviour.claims = { auth_time: now() - 3600 }
  const { browser } = await attemptLogin(app)
  browser.headers = html
  const sent = await browser.request('/recent')
  t.equal(sent.headers.location, '/auth/login?returnTo=%2Frecent&max_age=300')
  op.behaviour.claims = { auth_time: now() - 5 }
  const landed = await browser.navigate('/recent')
  t.equal(op.calls('/authorize').at(-1)?.query.get('max_age'), '300', 'max_age reached the IdP')
  t.equal(op.calls('/authorize').at(-1)?.query.get('prompt'), 'login', 'with prompt=login, for IdPs that ignore max_age')
  t.equal(landed.url, `${baseUrl}/recent`)
  t.same(JSON.parse(landed.body), { page: 'recent' })

  const stale = await attemptLogin(app)
  op.behaviour.claims = { auth_time: now() - 3600 }
  stale.browser.headers = json
  const again = await stale.browser.navigate('/auth/login?returnTo=%2Frecent&max_age=300')
  t.equal(again.status, 403, 'the IdP kept the old sign-in: refused')
  t.equal(JSON.parse(again.body).code, 'FST_SSO_STEP_UP_FAILED')
  op.behaviour.claims = { auth_time: undefined }
  const none = await stale.browser.navigate('/auth/login?returnTo=%2Frecent&max_age=300')
  t.match(JSON.parse(none.body), { code: 'FST_SSO_STEP_UP_FAILED', message: /auth_time/ }, 'no auth_time at all: refused')
})

test('a session without auth_time (or from app.sso.signIn) does not meet maxAge: it is asked to sign in', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await buildApp(t, { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret }, {}, stepUpRoutes)
  const local = await signIn(app, { email: 'pat@acme.test' })
  const refused = await app.inject({ url: '/recent', headers: { ...json, cookie: local } })
  t.match(refused.json(), { statusCode: 401, code: 'FST_SSO_STEP_UP_REQUIRED', message: /within the last 300 seconds/ })
  t.match(refused.headers['www-authenticate'], /max_age="300"/)
  const { browser } = await attemptLogin(app) // the hostile OP's ID token has no auth_time
  t.equal((await app.inject({ url: '/recent', headers: { ...json, cookie: browser.cookieHeader(baseUrl) } })).statusCode, 401)
  t.equal((await app.inject({ url: '/dashboard', headers: { ...json, cookie: browser.cookieHeader(baseUrl) } })).statusCode, 200)
})

test('a login link with max_age / acr_values asks the IdP for them; malformed ones are a 400', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  const login = await app.inject({ url: '/auth/login?max_age=0&acr_values=mfa%20phr' })
  const authorize = new URL(String(login.headers.location))
  t.equal(authorize.searchParams.get('max_age'), '0')
  t.equal(authorize.searchParams.get('acr_values'), 'mfa phr')
  for (const query of ['max_age=-1', 'max_age=soon', 'max_age=1e3', 'acr_values=', 'acr_values=%22%3E%3Cscript%3E%20%09']) {
    const res = await app.inject({ url: `/auth/login?${query}`, headers: json })
    t.match({ status: res.statusCode, code: res.json().code }, { status: 400, code: 'FST_SSO_INVALID_LOGIN_REQUEST' }, query)
  }
})

test('app.sso.loginUrl(returnTo, { maxAge, acr }) builds a step-up login link; wrong values are FST_SSO_INVALID_ARGUMENT', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  t.equal(app.sso.loginUrl('/payouts', { maxAge: 300, acr: ['mfa', 'hwk'] }), `${baseUrl}/auth/login?returnTo=%2Fpayouts&max_age=300&acr_values=mfa+hwk`)
  t.equal(app.sso.loginUrl('/payouts'), `${baseUrl}/auth/login?returnTo=%2Fpayouts`)
  t.throws(() => app.sso.loginUrl('/x', { maxAge: -5 }), { code: 'FST_SSO_INVALID_ARGUMENT', message: /maxAge/ })
})

test('requireUser({ maxAge, acr }) options are checked when the guard is made', async (t) => {
  t.throws(() => requireUser({ maxAge: 0 }), { code: 'FST_SSO_INVALID_OPTION', message: /requireUser.maxAge/ })
  t.throws(() => requireUser({ maxAge: 1.5 }), { code: 'FST_SSO_INVALID_OPTION' })
  t.throws(() => requireUser({ acr: '' }), { code: 'FST_SSO_INVALID_OPTION', message: /requireUser.acr/ })
  t.throws(() => requireUser({ acr: ['mfa', 'two words'] }), { code: 'FST_SSO_INVALID_OPTION' })
  t.throws(() => requireUser({ acr: [] }), { code: 'FST_SSO_INVALID_OPTION' })
  t.doesNotThrow(() => requireUser({ maxAge: 300, acr: ['mfa'], roles: ['admin'] }))
})

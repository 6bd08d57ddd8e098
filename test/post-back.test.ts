/**
 * The POST-back re-entry (src/routes/post-back.ts): a cross-site POST to the callback that
 * arrives without the SameSite=Lax transaction cookie is parked and finished on a same-site GET
 * that carries the cookie, and it never signs in a browser that did not start that login.
 * (test/e2e/saml-browser.test.ts proves the same in Chromium.)
 */
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { jwtProvider } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { buildApp, testClock, unreachableIdp } from './fixtures/app.ts'
import { aliceClaims, loginUrl, sharedSecret, signHs256 } from './fixtures/jwt-idp.ts'
import { loginAtIdp, samlApp, samlIdp, sessionSet } from './fixtures/saml.ts'

/** What Chromium sends with the IdP's auto-submitted form: a cross-site navigation, no Lax cookie. */
const crossSite = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }

function crossSitePost (app: FastifyInstance, fields: Record<string, string>, headers: Record<string, string> = crossSite) {
  return app.inject({ method: 'POST', url: '/auth/callback', headers, payload: new URLSearchParams(fields).toString() })
}

test('a cross-site POST without the transaction cookie is parked, then finished on a same-site GET with the cookie', async (t) => {
  const idp = await samlIdp(t)
  const app = await samlApp(t, idp)
  const browser = new Browser(app, 'http://localhost:3000')
  const posted = await loginAtIdp(browser)
  const parked = await crossSitePost(app, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
  t.equal(parked.statusCode, 303)
  t.match(parked.headers.location, /^\/auth\/callback\/continue\?id=[\w-]{43}$/)
  t.notOk(parked.headers['set-cookie'], 'the park touches no cookie')
  t.equal(parked.headers['cache-control'], 'no-store')
  const page = await browser.navigate(String(parked.headers.location))
  t.equal(page.url, 'http://localhost:3000/dashboard')
  t.match(JSON.parse(page.body).user, { email: 'alice@acme.test', provider: 'saml' })

  const again = await browser.navigate(String(parked.headers.location), { headers: { accept: 'application/json' } })
  t.equal(again.status, 400, 'a continuation works once')
  t.equal(JSON.parse(again.body).code, 'FST_SSO_INVALID_CALLBACK')
})

test('login CSRF: an attacker\'s own valid response posted into a victim\'s browser signs nobody in', async (t) => {
  const idp = await samlIdp(t)
  const app = await samlApp(t, idp)
  // The attacker signs in at the IdP with their own account and keeps what the IdP would post.
  const attacker = new Browser(app, 'http://localhost:3000')
  const own = await loginAtIdp(attacker, 'bob@globex.test')
  const parked = await crossSitePost(app, { SAMLResponse: own.SAMLResponse, RelayState: own.RelayState })
  t.equal(parked.statusCode, 303)

  // The victim's browser follows the attacker's auto-posting page: first with no login of its
  // own, then while a login of its own is pending.
  const idle = new Browser(app, 'http://localhost:3000', { accept: 'application/json' })
  const first = await idle.navigate(String(parked.headers.location))
  t.equal(first.status, 400)
  t.equal(JSON.parse(first.body).code, 'FST_SSO_TRANSACTION_MISSING')
  t.notOk(sessionSet(first))

  const busy = new Browser(app, 'http://localhost:3000', { accept: 'application/json' })
  await busy.request('/auth/login')
  const again = await crossSitePost(app, { SAMLResponse: own.SAMLResponse, RelayState: own.RelayState })
  const second = await busy.navigate(String(again.headers.location))
  t.equal(second.status, 400)
  t.equal(JSON.parse(second.body).code, 'FST_SSO_STATE_MISMATCH')
  t.notOk(sessionSet(second))
  t.equal((await busy.request('/api/me')).status, 401, 'the victim is not signed in as the attacker')
})

test('a same-site POST without the cookie, and an API client\'s, are answered at once', async (t) => {
  const idp = await samlIdp(t)
  const app = await samlApp(t, idp)
  const browser = new Browser(app, 'http://localhost:3000')
  const posted = await loginAtIdp(browser)
  const fields = { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState }
  const sameSite = await crossSitePost(app, fields, { ...crossSite, 'sec-fetch-site': 'same-origin' })
  t.equal(sameSite.statusCode, 400, 'the browser would come back without the cookie all the same')
  const api = await crossSitePost(app, fields, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' })
  t.equal(api.statusCode, 400)
  t.equal(api.json().code, 'FST_SSO_TRANSACTION_MISSING')
})

test('a parked answer waits one minute at most; a made-up id is refused', async (t) => {
  const clock = testClock()
  const idp = await samlIdp(t)
  const app = await samlApp(t, idp, {}, { now: clock.now })
  const browser = new Browser(app, 'http://localhost:3000', { accept: 'application/json' })
  const posted = await loginAtIdp(browser)
  const parked = await crossSitePost(app, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
  clock.advance(61_000)
  const late = await browser.navigate(String(parked.headers.location))
  t.equal(late.status, 400)
  t.match(JSON.parse(late.body).message, /expired or was already used/)
  for (const id of ['', 'x', 'A'.repeat(43), '../../etc']) {
    const res = await app.inject({ url: `/auth/callback/continue?id=${encodeURIComponent(id)}`, headers: { accept: 'application/json' } })
    t.equal(res.statusCode, 400, id)
  }
})

test('jwtProvider\'s posted tokens come back through the same re-entry', async (t) => {
  const app = await buildApp(t, unreachableIdp, { provider: jwtProvider({ loginUrl, secret: sharedSecret, algorithms: ['HS256'], stateParam: 'RelayState' }) })
  const browser = new Browser(app, 'http://localhost:3000')
  const login = await browser.request('/auth/login?returnTo=%2Fdashboard')
  const state = new URL(String(login.headers.location)).searchParams.get('RelayState')!
  const parked = await crossSitePost(app, { id_token: await signHs256(aliceClaims()), RelayState: state })
  t.equal(parked.statusCode, 303)
  const page = await browser.navigate(String(parked.headers.location))
  t.equal(page.url, 'http://localhost:3000/dashboard')
  t.match(JSON.parse(page.body).user, { email: 'alice@acme.test' })
})

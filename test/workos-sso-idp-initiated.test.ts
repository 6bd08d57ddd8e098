import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { aliceUser, baseUrl, json } from './fixtures/app.ts'
import { clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { workosSso } from '../src/providers/workos-sso.ts'

function setCookieNames (headers: Record<string, unknown>): string[] {
  const raw = headers['set-cookie']
  const lines = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)]
  return lines.map(line => line.slice(0, line.indexOf('=')))
}

test('by default an IdP-initiated login is refused with a clear page, no session, and its code is not spent', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const code = api.idpInitiatedCode('conn_acme', 'alice@acme.test')

  const page = await app.inject({ url: `/auth/callback?code=${code}`, headers: { accept: 'text/html' } })
  t.equal(page.statusCode, 400)
  t.match(page.body, 'FST_SSO_TRANSACTION_MISSING')
  t.match(page.body, 'not started from this application')
  t.match(page.body, 'href="/auth/login"', 'offers a fresh sign-in')
  t.notOk(setCookieNames(page.headers).includes('sso'), 'no session')
  t.equal(api.calls('/sso/token').length, 0, 'the code is not exchanged')
})

test('allowIdpInitiated: the code only tells the organization; an SP-initiated login with a new state restarts', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, allowIdpInitiated: true }))
  const browser = new Browser(app, baseUrl, json)
  const code = api.idpInitiatedCode('conn_acme', 'alice@acme.test')

  const restart = await browser.request(`/auth/callback?code=${code}`)
  t.equal(restart.status, 302, 'restarts instead of signing in')
  t.notOk(setCookieNames(restart.headers).includes('sso'), 'no session from the IdP-initiated code')
  t.ok(setCookieNames(restart.headers).includes('sso-tx'), 'a fresh login transaction')
  const authorize = new URL(String(restart.headers.location))
  t.equal(authorize.origin + authorize.pathname, `${api.url}/sso/authorize`)
  t.equal(authorize.searchParams.get('organization'), 'org_acme', 'to the organization the IdP named')
  t.match(authorize.searchParams.get('state'), /^[A-Za-z0-9_-]{20,}$/, 'with our own new state')
  t.equal(api.calls('/sso/token').length, 1, 'the IdP-initiated code was exchanged once, to learn the organization')

  const whoAmI = await browser.request('/')
  t.same(JSON.parse(whoAmI.body), { user: null }, 'still signed out')

  const page = await browser.navigate(authorize.href)
  t.equal(page.status, 200)
  t.equal(new URL(page.url).pathname, '/', 'lands on defaultReturnTo')
  t.match(JSON.parse(page.body).user, aliceUser)
  const [, exchange] = api.calls('/sso/token')
  t.ok(exchange?.body.code_verifier, 'the session comes from the SP-initiated login (PKCE and state)')
})

test('allowIdpInitiated: another browser\'s login (code and state planted by an attacker) never signs the victim in', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, allowIdpInitiated: true }))
  const attacker = new Browser(app, baseUrl, json)
  api.signInAs = 'bob@globex.test'
  const start = await attacker.request('/auth/login?organization=org_globex')
  const callback = (await attacker.request(String(start.headers.location))).headers.location
  const victim = new Browser(app, baseUrl, json)
  const response = await victim.request(String(callback))
  // Without the victim's transaction the code is treated as unsolicited, and it cannot even be
  // exchanged: WorkOS bound it to the attacker's PKCE challenge.
  t.equal(response.status, 400)
  t.equal(JSON.parse(response.body).code, 'FST_SSO_INVALID_GRANT')
  t.notOk(setCookieNames(response.headers).includes('sso'), 'the victim is not signed in as the attacker')
})

test('allowIdpInitiated with a fixed organization refuses a login from another organization\'s IdP', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme', allowIdpInitiated: true }))
  const code = api.idpInitiatedCode('conn_globex', 'bob@globex.test')
  const response = await app.inject({ url: `/auth/callback?code=${code}`, headers: { accept: 'application/json' } })
  t.equal(response.statusCode, 403)
  t.equal(response.json().code, 'FST_SSO_ORGANIZATION_MISMATCH')
  t.notOk(response.headers.location)
  t.notOk(setCookieNames(response.headers).includes('sso'))

  const own = await app.inject({ url: `/auth/callback?code=${api.idpInitiatedCode('conn_acme', 'alice@acme.test')}` })
  t.equal(own.statusCode, 302)
  t.equal(new URL(String(own.headers.location)).searchParams.get('organization'), 'org_acme')
})

test('allowIdpInitiated: a spent IdP-initiated code is a 400 with a fresh-login link', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, allowIdpInitiated: true }))
  const code = api.idpInitiatedCode('conn_acme', 'alice@acme.test')
  await app.inject({ url: `/auth/callback?code=${code}` })
  const again = await app.inject({ url: `/auth/callback?code=${code}`, headers: { accept: 'text/html' } })
  t.equal(again.statusCode, 400)
  t.match(again.body, 'FST_SSO_INVALID_GRANT')
  t.match(again.body, 'href="/auth/login"')
})

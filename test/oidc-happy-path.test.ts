/**
 * A complete OpenID Connect login against a real OpenID Provider (`startDevIdp`, oidc-provider 9)
 * over real HTTP, driving its login form the way a browser does.
 */
import { test } from 'tap'
import type { OidcProviderOptions } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { aliceUser, baseUrl, buildApp, clearedCookie, devIdp, expiredCookie, providerFor, setCookie, submitLoginForm, type TapTest } from './fixtures/app.ts'

async function setup (t: TapTest, provider: Partial<OidcProviderOptions> = {}, appBaseUrl = baseUrl) {
  const idp = await devIdp(t, { baseUrl: appBaseUrl })
  const app = await buildApp(t, idp, { baseUrl: appBaseUrl, provider: providerFor(idp, provider) })
  return { idp, app, browser: new Browser(app, appBaseUrl) }
}

test('login through the real OP: authorization request, cookies, landing on returnTo, mapped user', async (t) => {
  const { idp, app, browser } = await setup(t)

  const login = await browser.request('/auth/login?returnTo=%2Fdashboard%3Ftab%3D2&email=alice%40acme.test')
  t.equal(login.status, 302)
  const authorize = new URL(String(login.headers.location))
  t.equal(authorize.origin, idp.issuer)
  const params = authorize.searchParams
  t.equal(params.get('response_type'), 'code')
  t.equal(params.get('client_id'), idp.clientId)
  t.equal(params.get('redirect_uri'), 'http://localhost:3000/auth/callback')
  t.equal(params.get('scope'), 'openid email profile')
  t.ok((params.get('state') ?? '').length >= 32, 'random state')
  t.ok((params.get('nonce') ?? '').length >= 32, 'random nonce')
  t.not(params.get('state'), params.get('nonce'))
  t.match(params.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/, 'PKCE challenge (SHA-256, base64url)')
  t.equal(params.get('code_challenge_method'), 'S256')
  t.equal(params.get('login_hint'), 'alice@acme.test', 'login_hint from ?email=')
  const tx = setCookie(login.headers, 'sso-tx')
  t.match(tx, /; HttpOnly/)
  t.match(tx, /; SameSite=Lax/)
  t.notMatch(decodeURIComponent(tx ?? ''), /dashboard|alice|acme/, 'the transaction cookie is encrypted')

  const form = await browser.navigate(authorize.href)
  t.match(form.body, /value="alice@acme\.test"/, 'the OP received the hint and prefilled its form')
  const callbackUrl = await submitLoginForm(browser, form, 'alice@acme.test')
  const callbackParams = new URL(callbackUrl).searchParams
  t.equal(callbackParams.get('state'), params.get('state'))
  t.equal(callbackParams.get('iss'), idp.issuer, 'RFC 9207 iss from the real OP')

  const callback = await browser.request(callbackUrl)
  t.equal(callback.status, 302)
  t.equal(callback.headers.location, '/dashboard?tab=2', 'lands on returnTo')
  t.equal(callback.headers['cache-control'], 'no-store')
  const session = setCookie(callback.headers, 'sso')
  t.match(session, /; HttpOnly/)
  t.match(session, /; SameSite=Lax/)
  t.match(session, /; Path=\//)
  t.notMatch(session, expiredCookie)
  t.match(setCookie(callback.headers, 'sso-tx'), clearedCookie, 'transaction cookie cleared')
  t.notOk(browser.cookies(baseUrl).has('sso-tx'))

  const me = await browser.request('/dashboard', { headers: { accept: 'application/json' } })
  t.equal(me.status, 200)
  t.same(JSON.parse(me.body).user, {
    ...aliceUser,
    id: 'user_alice_acme_test',
    provider: 'oidc',
    groups: ['Engineering'],
    // Only what the fields above do not already hold (no second copy of them in the cookie).
    claims: { org_name: 'Acme' }
  })
})

test('login_hint from ?login_hint=, and an implausible hint is not forwarded', async (t) => {
  const { browser } = await setup(t)
  const hinted = await browser.request('/auth/login?login_hint=bob%40globex.test')
  t.equal(new URL(String(hinted.headers.location)).searchParams.get('login_hint'), 'bob@globex.test')
  const spaced = await browser.request('/auth/login?login_hint=bob%20%0Aevil')
  t.equal(new URL(String(spaced.headers.location)).searchParams.get('login_hint'), null)
  const none = await browser.request('/auth/login')
  t.equal(new URL(String(none.headers.location)).searchParams.get('login_hint'), null)
})

test('over https: __Host- cookies, Secure, and the https redirect URI', async (t) => {
  const { browser } = await setup(t, {}, 'https://app.example.com')
  const login = await browser.request('/auth/login?returnTo=%2Fdashboard')
  t.equal(new URL(String(login.headers.location)).searchParams.get('redirect_uri'), 'https://app.example.com/auth/callback')
  t.match(setCookie(login.headers, '__Host-sso-tx'), /; Secure/)
  const form = await browser.navigate(String(login.headers.location))
  const callback = await browser.request(await submitLoginForm(browser, form, 'bob@globex.test'))
  t.equal(callback.status, 302)
  const session = setCookie(callback.headers, '__Host-sso')
  t.match(session, /; Secure/)
  t.match(session, /; HttpOnly/)
  t.match(session, /; SameSite=Lax/)
  t.match(session, /; Path=\//)
  t.notMatch(session, /Domain=/i, '__Host- cookies have no Domain')
  const me = await browser.request('/dashboard', { headers: { accept: 'application/json' } })
  t.equal(JSON.parse(me.body).user.email, 'bob@globex.test')
})

test('userinfo: true against the real OP: the user-info endpoint is called and the login succeeds', async (t) => {
  const { idp, app, browser } = await setup(t, { userinfo: true })
  // Observe (not replace) the requests the provider sends.
  const realFetch = globalThis.fetch
  const seen: string[] = []
  globalThis.fetch = (input, init) => {
    seen.push(String(input instanceof Request ? input.url : input))
    return realFetch(input, init)
  }
  t.teardown(() => { globalThis.fetch = realFetch })
  const form = await browser.navigate('/auth/login?returnTo=%2Fdashboard')
  const callback = await browser.request(await submitLoginForm(browser, form, 'carol@acme.test'))
  t.equal(callback.status, 302, callback.body)
  t.equal(seen.filter(url => url === `${idp.issuer}/me`).length, 1, 'one user-info request')
  const me = await app.inject({ url: '/dashboard', headers: { cookie: browser.cookieHeader(baseUrl) } })
  t.equal(me.json().user.email, 'carol@acme.test')
})

test('an OP that already has a session sends the browser straight back (no form) and it still lands', async (t) => {
  const { browser } = await setup(t)
  const form = await browser.navigate('/auth/login')
  await browser.navigate(await submitLoginForm(browser, form, 'alice@acme.test'))
  const again = await browser.navigate('/auth/login?returnTo=%2Fdashboard')
  t.equal(again.url, `${baseUrl}/dashboard`)
  t.equal(JSON.parse(again.body).user.email, 'alice@acme.test')
})

import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, clearedCookie, cookiePair, devIdp, html, json, loginThroughIdp, setCookie, stopBeforeCallback, testClock } from './fixtures/app.ts'

async function startLogin (app: Awaited<ReturnType<typeof buildApp>>, cookie = '', returnTo = '/dashboard') {
  const res = await app.inject({ url: `/auth/login?returnTo=${encodeURIComponent(returnTo)}`, headers: cookie ? { cookie } : {} })
  const location = new URL(String(res.headers.location))
  return { res, location, state: location.searchParams.get('state')!, cookie: cookiePair(setCookie(res.headers, 'sso-tx')) }
}

test('/login sends state, nonce and PKCE S256 to the IdP, with the redirect URI from baseUrl', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const { location } = await startLogin(app)
  const params = location.searchParams
  t.equal(location.origin, idp.issuer)
  t.equal(params.get('redirect_uri'), 'http://localhost:3000/auth/callback')
  t.equal(params.get('response_type'), 'code')
  t.equal(params.get('code_challenge_method'), 'S256')
  t.match(params.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/)
  t.match(params.get('state'), /^[A-Za-z0-9_-]{43}$/)
  t.match(params.get('nonce'), /^[A-Za-z0-9_-]{43}$/)
  const second = await startLogin(app)
  t.not(second.state, params.get('state'), 'fresh state every login')
})

test('a Host header never changes the redirect URI', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const res = await app.inject({ url: '/auth/login', headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } })
  t.equal(new URL(String(res.headers.location)).searchParams.get('redirect_uri'), 'http://localhost:3000/auth/callback')
})

test('callback without the transaction cookie: 400 FST_SSO_TRANSACTION_MISSING with a page that names the cookie', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const api = await app.inject({ url: '/auth/callback?code=abc&state=xyz', headers: json })
  t.equal(api.statusCode, 400)
  t.same(Object.keys(api.json()).sort(), ['code', 'error', 'message', 'statusCode'])
  t.equal(api.json().code, 'FST_SSO_TRANSACTION_MISSING')
  const page = await app.inject({ url: '/auth/callback?code=abc&state=xyz', headers: html })
  t.equal(page.statusCode, 400)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /sso-tx/)
  t.match(page.body, /href="\/auth\/login"/, 'offers a fresh login')
  t.match(page.body, /baseUrl/)
  t.notOk(setCookie(page.headers, 'sso'), 'no session')
})

test('a forged state is refused, and the real login still works after it', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const browser = new Browser(app, baseUrl)
  const first = await browser.request('/auth/login?returnTo=/dashboard')
  const forged = await browser.request('/auth/callback?code=abc&state=forged', { headers: json })
  t.equal(forged.status, 400)
  t.equal(JSON.parse(forged.body).code, 'FST_SSO_STATE_MISMATCH')
  const noState = await browser.request('/auth/callback?code=abc', { headers: json })
  t.equal(JSON.parse(noState.body).code, 'FST_SSO_STATE_MISMATCH')
  const landed = await loginThroughIdp(browser, 'alice@acme.test', String(first.headers.location))
  t.equal(landed.url, 'http://localhost:3000/dashboard')
})

test('a repeated state or code parameter is refused', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const { state, cookie } = await startLogin(app)
  const res = await app.inject({ url: `/auth/callback?code=a&code=b&state=${state}`, headers: { cookie, ...json } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_SSO_INVALID_CALLBACK')
})

test('an expired transaction is refused (expiry checked inside the cookie)', async (t) => {
  const idp = await devIdp(t)
  const clock = testClock()
  const app = await buildApp(t, idp, { now: clock.now })
  const { state, cookie } = await startLogin(app)
  clock.advance(10 * 60_000 + 1)
  const res = await app.inject({ url: `/auth/callback?code=abc&state=${state}`, headers: { cookie, ...json } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_SSO_TRANSACTION_EXPIRED')
})

test('a replayed callback creates no second session', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const { callbackPath, txCookie } = await stopBeforeCallback(new Browser(app, baseUrl))
  const first = await app.inject({ url: callbackPath, headers: { cookie: txCookie } })
  t.equal(first.statusCode, 302)
  t.ok(setCookie(first.headers, 'sso'), 'first callback signs in')
  const replay = await app.inject({ url: callbackPath, headers: { cookie: txCookie, ...json } })
  t.equal(replay.statusCode, 400)
  t.equal(replay.json().code, 'FST_SSO_TRANSACTION_REPLAYED')
  t.notOk(setCookie(replay.headers, 'sso'), 'no second session')
})

test('any outcome consumes the transaction: a failed callback cannot be retried with the same state', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const { state, cookie } = await startLogin(app)
  const failed = await app.inject({ url: `/auth/callback?code=bogus&state=${state}&iss=${encodeURIComponent(idp.issuer)}`, headers: { cookie, ...json } })
  t.equal(failed.statusCode, 400)
  t.equal(failed.json().code, 'FST_SSO_INVALID_GRANT')
  t.match(setCookie(failed.headers, 'sso-tx'), clearedCookie, 'transaction cookie cleared')
  const again = await app.inject({ url: `/auth/callback?code=bogus&state=${state}`, headers: { cookie, ...json } })
  t.equal(again.json().code, 'FST_SSO_TRANSACTION_REPLAYED')
})

test('parallel tabs: two logins started together both succeed, in either order', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const browser = new Browser(app, baseUrl)
  const tabA = await browser.request('/auth/login?returnTo=/a')
  const tabB = await browser.request('/auth/login?returnTo=/b')
  const landedB = await loginThroughIdp(browser, 'alice@acme.test', String(tabB.headers.location))
  t.equal(new URL(landedB.url).pathname, '/b')
  // The IdP session now exists: tab A goes straight back with its own state.
  const landedA = await browser.navigate(String(tabA.headers.location))
  t.equal(new URL(landedA.url).pathname, '/a')
  t.equal(landedA.status, 404, 'landed on /a (no such route in the test app)')
})

test('at most five pending logins are kept; the oldest is dropped', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  let cookie = ''
  const states: string[] = []
  for (let i = 0; i < 6; i++) {
    const login = await startLogin(app, cookie)
    cookie = login.cookie
    states.push(login.state)
  }
  const oldest = await app.inject({ url: `/auth/callback?code=x&state=${states[0]}`, headers: { cookie, ...json } })
  t.equal(oldest.json().code, 'FST_SSO_STATE_MISMATCH')
  const newest = await app.inject({ url: `/auth/callback?code=x&state=${states[5]}&iss=${encodeURIComponent(idp.issuer)}`, headers: { cookie, ...json } })
  t.equal(newest.json().code, 'FST_SSO_INVALID_GRANT', 'the newest is still pending (and reaches the IdP)')
})

test('an IdP error= answer: 400, escaped, transaction consumed, no session', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const { state, cookie } = await startLogin(app)
  const description = '<script>alert("x")</script><img src=x onerror=alert(1)>'
  const url = `/auth/callback?error=access_denied&error_description=${encodeURIComponent(description)}&state=${state}`
  const page = await app.inject({ url, headers: { cookie, ...html } })
  t.equal(page.statusCode, 400)
  t.notMatch(page.body, /<script>|<img/)
  t.match(page.body, /&lt;script&gt;/)
  t.match(page.headers['content-security-policy'], /default-src 'none'/)
  t.notOk(setCookie(page.headers, 'sso'))
  const api = await app.inject({ url, headers: { cookie, ...json } })
  t.equal(api.json().code, 'FST_SSO_IDP_ERROR')
  const retry = await app.inject({ url: `/auth/callback?code=x&state=${state}`, headers: { cookie, ...json } })
  t.equal(retry.json().code, 'FST_SSO_TRANSACTION_REPLAYED', 'the error used the transaction up')
})

test('returnTo: unsafe values fall back to defaultReturnTo', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp, { defaultReturnTo: '/home' })
  for (const [query, expected] of [
    ['returnTo=%2F%2Fevil.example', '/home'],
    ['returnTo=https%3A%2F%2Fevil.example', '/home'],
    ['returnTo=%2Fok&returnTo=%2Fother', '/home'],
    ['returnTo=%2Fok%3Fa%3D1', '/ok?a=1'],
    ['', '/home']
  ]) {
    const browser = new Browser(app, baseUrl)
    const landed = await loginThroughIdp(browser, 'alice@acme.test', `/auth/login?${query}`)
    const url = new URL(landed.url)
    t.equal(url.pathname + url.search, expected, query || '(none)')
  }
})

test('errorRedirect sends failed logins to the app\'s own page with the code', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp, { errorRedirect: '/login-failed?x=1' })
  const res = await app.inject({ url: '/auth/callback?code=abc&state=xyz' })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/login-failed?x=1&error=FST_SSO_TRANSACTION_MISSING')
})

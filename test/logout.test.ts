import { test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, clearedCookie, cookiePair, devIdp, loginThroughIdp, setCookie, unreachableIdp } from './fixtures/app.ts'

test('POST /logout with an empty, form, JSON or other body: session clearedCookie, 302 to logoutRedirect', async (t) => {
  const app = await buildApp(t, unreachableIdp, { logoutRedirect: '/bye' })
  for (const [contentType, payload] of [[undefined, undefined], ['application/x-www-form-urlencoded', 'a=1'], ['application/json', '{}'], ['application/json', ''], ['application/json', '{not json'], ['text/plain', 'x'], ['multipart/form-data; boundary=x', '--x--']]) {
    const cookie = await signIn(app, { email: 'alice@acme.test' })
    const headers: Record<string, string> = { cookie }
    if (contentType) headers['content-type'] = contentType
    const res = await app.inject({ method: 'POST', url: '/auth/logout', headers, payload })
    t.equal(res.statusCode, 302, `content-type ${contentType}`)
    t.equal(res.headers.location, '/bye', 'the IdP is unreachable: local logout still works')
    t.match(setCookie(res.headers, 'sso'), clearedCookie)
  }
})

test('a copy of the logged-out cookie is signed out too', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
  await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)
})

test('logout CSRF: cross-site requests are refused with 403', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  for (const headers of [
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'none' },
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: 'http://localhost:3001' }
  ]) {
    const res = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, accept: 'application/json', ...headers } })
    t.equal(res.statusCode, 403, JSON.stringify(headers))
    t.equal(res.json().code, 'FST_SSO_CROSS_SITE_REQUEST')
    t.notOk(setCookie(res.headers, 'sso'), 'the session is untouched')
  }
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200, 'still signed in')
  const same = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin' } })
  t.equal(same.statusCode, 302, 'same-origin logout works')
})

test('GET /logout answers 405 and does not log out', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  const res = await app.inject({ url: '/auth/logout', headers: { cookie, accept: 'application/json' } })
  t.equal(res.statusCode, 405)
  t.equal(res.headers.allow, 'POST')
  t.equal(res.json().code, 'FST_SSO_METHOD_NOT_ALLOWED')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)
})

test('logout goes through the IdP end-session endpoint and back to the app', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const browser = new Browser(app, baseUrl)
  await loginThroughIdp(browser)
  const res = await browser.request('/auth/logout', { method: 'POST' })
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, `${idp.issuer}/session/end`)
  t.equal(location.searchParams.get('post_logout_redirect_uri'), 'http://localhost:3000/')
  t.equal(location.searchParams.get('client_id'), idp.clientId)
  t.ok(location.searchParams.get('id_token_hint'), 'the ID token kept for the hint')
  t.ok(location.searchParams.get('state'), 'and a state')
  const confirm = await browser.navigate(location.href)
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1]
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)?.[1]
  t.ok(xsrf && action, 'the IdP asks for confirmation')
  const back = await browser.navigate(new URL(action!, confirm.url).href, { form: { xsrf: xsrf!, logout: 'yes' } })
  t.equal(back.url, `http://localhost:3000/?state=${location.searchParams.get('state')}`)
  t.same(JSON.parse(back.body), { user: null })
})

test('request.logout() ends the session from application code', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.post('/leave', async (request, reply) => {
      await request.logout(reply)
      return { user: request.user }
    })
    app.post('/leave-quietly', async (request) => {
      await request.logout()
      return { user: request.user }
    })
  })
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  const res = await app.inject({ method: 'POST', url: '/leave', headers: { cookie } })
  t.same(res.json(), { user: null })
  t.match(setCookie(res.headers, 'sso'), clearedCookie)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401)

  const other = await signIn(app, { email: 'bob@globex.test' })
  const quiet = await app.inject({ method: 'POST', url: '/leave-quietly', headers: { cookie: other } })
  t.same(quiet.json(), { user: null })
  const next = await app.inject({ url: '/api/me', headers: { cookie: other } })
  t.equal(next.statusCode, 401, 'revoked, so the cookie left in the browser is useless')
  t.match(setCookie(next.headers, 'sso'), clearedCookie, 'and the guard clears it')
})

test('signing in again replaces the session and revokes the previous one', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const browser = new Browser(app, baseUrl)
  await loginThroughIdp(browser)
  const first = browser.cookieHeader(baseUrl)
  await browser.navigate('/auth/login')
  const second = browser.cookieHeader(baseUrl)
  t.not(second, first, 'a new session cookie (new session id: no fixation)')
  await new Promise(resolve => setTimeout(resolve, 20))
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: cookiePair(first.split('; ').find(c => c.startsWith('sso='))) } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: second } })).statusCode, 200)
})

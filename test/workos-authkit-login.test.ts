import { test } from 'tap'
import { createHash } from 'node:crypto'
import { Browser } from './fixtures/browser.ts'
import { aliceUser, baseUrl, json } from './fixtures/app.ts'
import { apiKey, clientId, redirectUri, startWorkOS, userId, workosApp } from './fixtures/workos-api.ts'
import { workosAuthKit } from '../src/providers/workos-authkit.ts'
import { findCore } from '../src/core.ts'
import type { SessionRecord } from '../src/session.ts'

test('AuthKit login: hosted sign-in with state, PKCE and hints; the code exchange sends the verifier', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId, screenHint: 'sign-in' }))
  const browser = new Browser(app, baseUrl, json)

  const start = await browser.request('/auth/login?login_hint=alice%40acme.test&organization=org_acme&returnTo=%2Fdashboard')
  t.equal(start.status, 302)
  const authorize = new URL(String(start.headers.location))
  t.equal(authorize.origin + authorize.pathname, `${api.url}/user_management/authorize`)
  const sent = Object.fromEntries(authorize.searchParams)
  t.match(sent, {
    provider: 'authkit',
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    state: /^[A-Za-z0-9_-]{20,}$/,
    code_challenge_method: 'S256',
    code_challenge: /^[A-Za-z0-9_-]{43}$/,
    login_hint: 'alice@acme.test',
    organization_id: 'org_acme',
    screen_hint: 'sign-in'
  })
  t.notMatch(authorize.href, apiKey)

  const page = await browser.navigate(authorize.href)
  t.equal(page.status, 200)
  t.equal(new URL(page.url).pathname, '/dashboard')
  t.same(JSON.parse(page.body).user, {
    ...aliceUser,
    id: userId('alice@acme.test'),
    provider: 'workos-authkit',
    permissions: ['reports:read', 'reports:write'],
    claims: { authenticationMethod: 'SSO' }
  })

  const [exchange] = api.calls('/user_management/authenticate')
  t.equal(exchange!.url, '/user_management/authenticate', 'nothing secret in the URL')
  t.match(exchange!.body, { grant_type: 'authorization_code', client_id: clientId, client_secret: apiKey, code: /^code_/ })
  t.equal(createHash('sha256').update(exchange!.body.code_verifier!).digest('base64url'), sent.code_challenge, 'the verifier matches the challenge')
})

test('the session keeps the refresh token, WorkOS session id and expiry, not the access token; the cookie stays small', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }))
  const browser = new Browser(app, baseUrl, json)
  await browser.navigate('/auth/login')
  const cookie = browser.jar.get('localhost')!.get('sso')!.value
  const setCookieBytes = Buffer.byteLength(`sso=${cookie}`)
  t.ok(setCookieBytes < 4096, `session cookie: ${setCookieBytes} bytes`)
  t.comment(`measured AuthKit session cookie: ${setCookieBytes} bytes`)

  const record = findCore(app)!.sessions.codec.decode<SessionRecord>(decodeURIComponent(cookie))!.data
  t.same(Object.keys(record.p!).sort(), ['expiresAt', 'org', 'rt', 'sid'])
  t.match(record.p, { sid: /^session_/, org: 'org_acme', rt: /^[A-Za-z0-9_-]+$/ })
  t.ok(Buffer.byteLength(JSON.stringify(record.p)) < 200, 'provider state is about 100 bytes')
  t.notMatch(JSON.stringify(record), /eyJ/, 'no JWT in the session')
  const session = api.sessions.get(record.p!.sid as string)
  t.equal(session?.email, 'alice@acme.test')
})

test('screen_hint in the link overrides the option; a bad one is ignored', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }))
  const signUp = await app.inject({ url: '/auth/login?screen_hint=sign-up' })
  t.equal(new URL(String(signUp.headers.location)).searchParams.get('screen_hint'), 'sign-up')
  const bad = await app.inject({ url: '/auth/login?screen_hint=%3Cx%3E' })
  t.equal(new URL(String(bad.headers.location)).searchParams.get('screen_hint'), null)
})

test('AuthKit tenant binding: a fixed organization refuses other links and users signed in elsewhere', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId, organizationId: 'org_acme' }))
  const other = await app.inject({ url: '/auth/login?organization=org_globex', headers: { accept: 'application/json' } })
  t.equal(other.statusCode, 400)
  t.equal(other.json().code, 'FST_SSO_INVALID_LOGIN_REQUEST')

  const browser = new Browser(app, baseUrl, json)
  api.signInAs = 'bob@globex.test' // only a member of Globex: WorkOS signs him in there
  const page = await browser.navigate('/auth/login')
  t.equal(page.status, 403)
  t.equal(JSON.parse(page.body).code, 'FST_SSO_ORGANIZATION_MISMATCH')
  t.notOk(browser.jar.get('localhost')?.get('sso'))
})

test('an AuthKit callback without our state is refused and its code is not spent', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }))
  const response = await app.inject({ url: '/auth/callback?code=code_fromelsewhere', headers: { accept: 'application/json' } })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'FST_SSO_TRANSACTION_MISSING')
  t.equal(api.calls('/user_management/authenticate').length, 0)
})

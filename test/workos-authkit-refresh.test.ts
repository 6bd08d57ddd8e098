import { test, type Test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, clearedCookie, json, setCookie, testClock } from './fixtures/app.ts'
import { apiKey, clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { workosAuthKit } from '../src/providers/workos-authkit.ts'
import { findCore } from '../src/core.ts'
import type { SessionRecord } from '../src/session.ts'

/** Signs alice in through AuthKit; the fake WorkOS and the app share the test clock. */
async function signedIn (t: Test) {
  const clock = testClock()
  const api = await startWorkOS(t)
  api.now = clock.now
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }), { now: clock.now })
  const browser = new Browser(app, baseUrl, json)
  const page = await browser.navigate('/auth/login')
  t.equal(page.status, 200, 'signed in')
  const session = () => findCore(app)!.sessions.codec.decode<SessionRecord>(decodeURIComponent(browser.jar.get('localhost')!.get('sso')!.value))!.data
  return { clock, api, app, browser, session }
}

const refreshes = (api: Awaited<ReturnType<typeof startWorkOS>>) =>
  api.calls('/user_management/authenticate').filter(call => call.body.grant_type === 'refresh_token')

test('an expired access token is renewed with the refresh token; the new state and the WorkOS changes are kept', async (t) => {
  const { clock, api, browser, session } = await signedIn(t)
  const before = session()
  t.equal(before.p!.expiresAt, Math.floor(clock.now() / 1000) * 1000 + 300_000, 'expiresAt is the access token\'s exp, in ms')

  const fresh = await browser.request('/api/me')
  t.equal(fresh.status, 200)
  t.equal(refreshes(api).length, 0, 'no refresh while the token is valid')

  // An administrator demotes Alice at WorkOS; her next token says so.
  api.people.get('alice@acme.test')!.memberships = [{ organizationId: 'org_acme', role: 'viewer', permissions: [] }]
  clock.advance(301_000)
  const renewed = await browser.request('/api/me')
  t.equal(renewed.status, 200)
  const [call] = refreshes(api)
  t.match(call?.body, { grant_type: 'refresh_token', client_id: clientId, client_secret: apiKey, refresh_token: before.p!.rt })
  const user = JSON.parse(renewed.body)
  t.same(user.roles, ['viewer'], 'the new role replaces the old one')
  t.notOk('permissions' in user, 'permissions removed at WorkOS are gone')
  t.same(user.claims, { authenticationMethod: 'SSO' }, 'what describes the sign-in stays')

  const after = session()
  t.not(after.p!.rt, before.p!.rt, 'the rotated refresh token is kept')
  t.equal(after.p!.sid, before.p!.sid, 'same WorkOS session')
  t.ok((after.p!.expiresAt as number) > clock.now())
  t.equal(after.id, before.id, 'same session')

  await browser.request('/api/me')
  t.equal(refreshes(api).length, 1, 'renewed once')
})

test('ten parallel requests on an expired token cause one refresh call at WorkOS', async (t) => {
  const { clock, api, app, browser } = await signedIn(t)
  clock.advance(301_000)
  const cookie = browser.cookieHeader(baseUrl)
  const responses = await Promise.all(Array.from({ length: 10 }, () => app.inject({ url: '/api/me', headers: { cookie } })))
  t.same(responses.map(response => response.statusCode), Array(10).fill(200), 'every request is served')
  t.equal(refreshes(api).length, 1, 'one refresh call')
  t.ok(responses.every(response => response.json().email === 'alice@acme.test'))
})

test('a refused refresh signs the user out: 401 JSON for APIs, 302 to login for browsers, cookie cleared, never 500', async (t) => {
  const { clock, api, app, browser, session } = await signedIn(t)
  api.sessions.get(session().p!.sid as string)!.ended = true // revoked at WorkOS: invalid_grant
  clock.advance(301_000)
  const cookie = browser.cookieHeader(baseUrl)

  const apiCall = await app.inject({ url: '/api/me', headers: { cookie, accept: 'application/json' } })
  t.equal(apiCall.statusCode, 401)
  t.equal(apiCall.json().code, 'FST_SSO_UNAUTHORIZED')
  t.match(setCookie(apiCall.headers, 'sso'), clearedCookie, 'the session cookie is cleared')
  t.equal(refreshes(api).length, 1)

  const page = await app.inject({ url: '/dashboard', headers: { cookie, accept: 'text/html' } })
  t.equal(page.statusCode, 302)
  t.equal(page.headers.location, '/auth/login?returnTo=%2Fdashboard')
  t.match(String(page.headers['set-cookie']), /^sso=;/)
})

test('WorkOS down during a refresh also signs the user out (401), not a 500', async (t) => {
  const { clock, api, app, browser } = await signedIn(t)
  api.fail('/user_management/authenticate', { status: 503, json: { message: 'Service Unavailable' } })
  clock.advance(301_000)
  const response = await app.inject({ url: '/api/me', headers: { cookie: browser.cookieHeader(baseUrl) } })
  t.equal(response.statusCode, 401)
  t.match(String(response.headers['set-cookie']), /^sso=;/)
})

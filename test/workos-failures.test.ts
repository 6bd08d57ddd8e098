import { test, type Test } from 'tap'
import { WorkOS } from '@workos-inc/node'
import { Browser } from './fixtures/browser.ts'
import { baseUrl } from './fixtures/app.ts'
import { clientId, FakeWorkOS, startWorkOS, workosApp, type Fault } from './fixtures/workos-api.ts'
import { workosSso } from '../src/providers/workos-sso.ts'
import { workosAuthKit } from '../src/providers/workos-authkit.ts'
import type { SsoProvider } from '../src/index.ts'

/** Starts a login, makes WorkOS fail the code exchange at `path` this way, and finishes it. */
async function failedCallback (t: Test, path: string, fault: Fault | undefined, provider: (api: FakeWorkOS) => SsoProvider, accept = 'application/json') {
  const api = await startWorkOS(t)
  const app = await workosApp(t, provider(api))
  const browser = new Browser(app, baseUrl, { accept })
  const start = await browser.request('/auth/login?organization=org_acme')
  const callback = await browser.request(String(start.headers.location))
  if (fault) api.fail(path, fault)
  const page = await browser.request(String(callback.headers.location))
  t.notMatch(page.body, /Exception|\n\s+at |node_modules/, 'no SDK exception or stack trace in the answer')
  t.notOk(browser.jar.get('localhost')?.get('sso'), 'no session')
  return { page, api }
}

const sso = (api: FakeWorkOS) => workosSso({ client: api.client(), clientId })
const authkit = (api: FakeWorkOS) => workosAuthKit({ client: api.client(), clientId })

test('WorkOS 400 invalid_grant (spent or expired code) → 400 with a fresh-login link', async (t) => {
  const { page } = await failedCallback(t, '/sso/token', { status: 400, json: { error: 'invalid_grant', error_description: "The code 'code_x' has expired or is invalid." } }, sso, 'text/html')
  t.equal(page.status, 400)
  t.match(page.body, 'FST_SSO_INVALID_GRANT')
  t.match(page.body, '<a href="/auth/login">Sign in again</a>')
  t.notMatch(page.body, 'code_x', 'WorkOS\'s description (with the code) is not echoed')

  const spent = await failedCallback(t, '/user_management/authenticate', { status: 400, json: { error: 'invalid_grant', error_description: 'The code has expired or is invalid.' } }, authkit)
  t.equal(spent.page.status, 400)
  t.equal(JSON.parse(spent.page.body).code, 'FST_SSO_INVALID_GRANT')
})

test('WorkOS 5xx → 502', async (t) => {
  for (const [path, provider] of [['/sso/token', sso], ['/user_management/authenticate', authkit]] as const) {
    const { page } = await failedCallback(t, path, { status: 500, json: { message: 'Internal Server Error' } }, provider)
    t.equal(page.status, 502, path)
    t.match(JSON.parse(page.body), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /WorkOS failed the code exchange \(HTTP 500\)/ })
  }
})

test('malformed WorkOS answers → 502', async (t) => {
  const html = await failedCallback(t, '/sso/token', { status: 200, text: '<html>maintenance</html>' }, sso)
  t.equal(html.page.status, 502)
  const notJson = await failedCallback(t, '/sso/token', { status: 502, text: 'Bad Gateway' }, sso)
  t.equal(notJson.page.status, 502)
  t.match(JSON.parse(notJson.page.body).message, 'WorkOS failed the code exchange (HTTP 502)')
  const garbage = await failedCallback(t, '/sso/token', { status: 200, text: '{not json', contentType: 'application/json' }, sso)
  t.equal(garbage.page.status, 502)
  t.match(JSON.parse(garbage.page.body).message, 'not JSON')
  const noProfile = await failedCallback(t, '/sso/token', { status: 200, json: { access_token: 'x' } }, sso)
  t.equal(noProfile.page.status, 502)
  const noTokens = await failedCallback(t, '/user_management/authenticate', { status: 200, json: { user: { id: 'user_1' } } }, authkit)
  t.equal(noTokens.page.status, 502)
  const badJwt = await failedCallback(t, '/user_management/authenticate', { status: 200, json: { user: { id: 'user_1', email: 'a@b.test' }, access_token: 'not-a-jwt', refresh_token: 'r' } }, authkit)
  t.equal(badJwt.page.status, 502)
})

test('WorkOS asking for another sign-in step, or rate-limiting → 400 / 502', async (t) => {
  const step = await failedCallback(t, '/user_management/authenticate', { status: 403, json: { code: 'organization_selection_required', message: 'The user must choose an organization.', pending_authentication_token: 'tok' } }, authkit)
  t.equal(step.page.status, 400)
  t.match(JSON.parse(step.page.body), { code: 'FST_SSO_IDP_ERROR', message: /another sign-in step \(organization_selection_required\)/ })
  const limited = await failedCallback(t, '/sso/token', { status: 429, json: { message: 'Too many requests' } }, sso)
  t.equal(limited.page.status, 502)
  t.match(JSON.parse(limited.page.body).message, 'rate-limiting')
})

test('WorkOS refusing the application\'s credentials → 502 that says what to check', async (t) => {
  const api = await startWorkOS(t)
  const wrongKey = new WorkOS('sk_test_wrong', { apiHostname: '127.0.0.1', port: api.port, https: false, clientId, maxRetries: 0 })
  const app = await workosApp(t, workosSso({ client: wrongKey, clientId, domainRouting: true }))
  const lookup = await app.inject({ url: '/auth/login?email=alice%40acme.test', headers: { accept: 'application/json' } })
  t.equal(lookup.statusCode, 502)
  t.match(lookup.json(), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /credentials for the organization lookup \(HTTP 401\): check apiKey and clientId/ })

  const { page } = await failedCallback(t, '/sso/token', { status: 400, json: { error: 'invalid_client', error_description: 'Invalid client secret.' } }, sso)
  t.equal(page.status, 502)
  t.match(JSON.parse(page.body).message, /invalid_client.*check apiKey, clientId/)
})

test('WorkOS unreachable → 502, at /login and at the callback', async (t) => {
  const gone = new FakeWorkOS()
  await gone.listen()
  await gone.close()
  const app = await workosApp(t, workosSso({ client: gone.client(), clientId, domainRouting: true }))
  const login = await app.inject({ url: '/auth/login?email=alice%40acme.test', headers: { accept: 'application/json' } })
  t.equal(login.statusCode, 502)
  t.match(login.json(), { code: 'FST_SSO_IDP_UNAVAILABLE', message: 'WorkOS could not be reached for the organization lookup.' })

  const fixed = await workosApp(t, workosSso({ client: gone.client(), clientId, organizationId: 'org_acme', allowIdpInitiated: true }))
  const callback = await fixed.inject({ url: '/auth/callback?code=code_abc', headers: { accept: 'application/json' } })
  t.equal(callback.statusCode, 502)
  t.match(callback.json().message, 'could not be reached for the code exchange')
})

test('WorkOS slower than 10 seconds → 502 (the real limit: this test waits 10 s)', async (t) => {
  const { page, api } = await failedCallback(t, '/sso/token', { hang: true }, sso)
  t.equal(page.status, 502)
  t.match(JSON.parse(page.body), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /did not answer within 10 seconds/ })
  t.equal(api.calls('/sso/token').length, 1)
})

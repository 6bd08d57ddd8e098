import { test } from 'tap'
import { html, json } from './fixtures/app.ts'
import { clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { workosSso } from '../src/providers/workos-sso.ts'

test('an email domain with no organization is a 400 page that says so; pending domains do not route', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: true }))

  const page = await app.inject({ url: '/auth/login?email=alice%40initech.test', headers: html })
  t.equal(page.statusCode, 400)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, 'Single sign-on is not set up for initech.test')
  t.match(page.body, 'FST_SSO_UNKNOWN_DOMAIN')
  t.notOk(page.headers['set-cookie'], 'no transaction cookie')

  const pending = await app.inject({ url: '/auth/login?email=mallory%40acme-pending.test', headers: json })
  t.equal(pending.statusCode, 400)
  t.match(pending.json(), { code: 'FST_SSO_UNKNOWN_DOMAIN', message: /acme-pending\.test/ })
  t.equal(api.calls('/sso/authorize').length, 0, 'nobody was sent to WorkOS')
})

test('a domainRouting function returning null is an unknown domain', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: () => null }))
  const response = await app.inject({ url: '/auth/login?login_hint=alice%40acme.test', headers: json })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'FST_SSO_UNKNOWN_DOMAIN')
})

test('a provider with a fixed organization refuses a link naming another organization, connection or provider', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  for (const query of ['organization=org_globex', 'connection=conn_globex', 'provider=GoogleOAuth']) {
    const response = await app.inject({ url: `/auth/login?${query}`, headers: json })
    t.equal(response.statusCode, 400, query)
    t.match(response.json(), { code: 'FST_SSO_INVALID_LOGIN_REQUEST', message: /its own organization only/ })
    t.notOk(response.headers['set-cookie'], `${query}: no transaction`)
  }
})

test('a provider with a fixed connection refuses a link naming another one', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, connectionId: 'conn_acme' }))
  const response = await app.inject({ url: '/auth/login?connection=conn_globex', headers: json })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'FST_SSO_INVALID_LOGIN_REQUEST')
  const fine = await app.inject({ url: '/auth/login' })
  t.equal(new URL(String(fine.headers.location)).searchParams.get('connection'), 'conn_acme')
})

test('with no routing at all, /login asks for an email or organization (400)', async (t) => {
  const api = await startWorkOS(t)
  const plain = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const page = await plain.inject({ url: '/auth/login', headers: html })
  t.equal(page.statusCode, 400)
  t.match(page.body, 'Enter your work email or organization')
  t.match(page.body, 'FST_SSO_ROUTING_REQUIRED')
  // An email is no routing when the app does not route by domain.
  const emailOnly = await plain.inject({ url: '/auth/login?email=alice%40acme.test', headers: json })
  t.equal(emailOnly.json().code, 'FST_SSO_ROUTING_REQUIRED')

  const byDomain = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: true }))
  for (const query of ['', '?email=not-an-email', '?email=a%0Ab%40acme.test']) {
    const response = await byDomain.inject({ url: `/auth/login${query}`, headers: json })
    t.equal(response.statusCode, 400, query)
    t.match(response.json(), { code: 'FST_SSO_ROUTING_REQUIRED', message: /work email/ })
  }
  t.equal(api.calls('/organizations').length, 0)
})

test('malformed or conflicting routing parameters are refused', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const cases = {
    'organization=acme': /not a WorkOS organization id/,
    'organization=org_..%2Fapi_keys': /not a WorkOS organization id/,
    'connection=org_acme': /not a WorkOS connection id/,
    'provider=EvilOAuth': /must be one of GoogleOAuth/,
    'organization=org_acme&connection=conn_acme': /not several/
  }
  for (const [query, message] of Object.entries(cases)) {
    const response = await app.inject({ url: `/auth/login?${query}`, headers: json })
    t.equal(response.statusCode, 400, query)
    t.match(response.json(), { code: 'FST_SSO_INVALID_LOGIN_REQUEST', message }, query)
  }
})

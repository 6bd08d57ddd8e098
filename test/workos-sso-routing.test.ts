import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { aliceUser, baseUrl, json } from './fixtures/app.ts'
import { apiKey, clientId, redirectUri, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { workosSso } from '../src/providers/workos-sso.ts'

test('login by organization: the SDK sends our state, PKCE and redirect URI; the profile becomes request.user', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const browser = new Browser(app, baseUrl, json)

  const start = await browser.request('/auth/login?organization=org_acme&returnTo=%2Fdashboard')
  t.equal(start.status, 302)
  const authorize = new URL(String(start.headers.location))
  t.equal(authorize.origin + authorize.pathname, `${api.url}/sso/authorize`)
  t.match(Object.fromEntries(authorize.searchParams), {
    client_id: clientId,
    organization: 'org_acme',
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge_method: 'S256',
    code_challenge: /^[A-Za-z0-9_-]{43}$/,
    state: /^[A-Za-z0-9_-]{20,}$/
  })
  t.notMatch(authorize.href, apiKey, 'the API key never travels in a URL')

  const page = await browser.navigate(String(start.headers.location))
  t.equal(page.status, 200)
  t.equal(new URL(page.url).pathname, '/dashboard', 'lands on returnTo')
  const { user } = JSON.parse(page.body)
  t.match(user, {
    ...aliceUser,
    id: /^prof_/,
    connectionId: 'conn_acme',
    connectionType: 'OktaSAML',
    idpId: 'idp|alice@acme.test',
    provider: 'workos-sso',
    groups: ['engineering'],
    claims: { guest: false, emailDomain: 'acme.test', department: 'Engineering', 'http://schemas.xmlsoap.org/claims/Group': 'engineering' }
  })
  t.notOk('saml_assertion' in user.claims, 'attributes that may carry tokens are not copied')

  const [exchange] = api.calls('/sso/token')
  t.ok(exchange, 'the code was exchanged once')
  t.equal(api.calls('/sso/token').length, 1)
  t.match(exchange!.body, { client_id: clientId, client_secret: apiKey, grant_type: 'authorization_code', code: /^code_/, code_verifier: /^[A-Za-z0-9_-]{43,128}$/ })
  t.equal(exchange!.url, '/sso/token', 'nothing secret in the token request URL')
})

test('login by connection', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const browser = new Browser(app, baseUrl, json)
  const start = await browser.request('/auth/login?connection=conn_globex')
  t.equal(new URL(String(start.headers.location)).searchParams.get('connection'), 'conn_globex')
  api.signInAs = 'bob@globex.test'
  const page = await browser.navigate(String(start.headers.location))
  t.match(JSON.parse(page.body).user, { email: 'bob@globex.test', organizationId: 'org_globex', connectionId: 'conn_globex', connectionType: 'AzureSAML' })
})

test('login by a social provider: no organization, no email-domain verdict', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const browser = new Browser(app, baseUrl, json)
  const start = await browser.request('/auth/login?provider=GoogleOAuth')
  t.equal(new URL(String(start.headers.location)).searchParams.get('provider'), 'GoogleOAuth')
  api.signInAs = 'someone@gmail.test'
  const user = JSON.parse((await browser.navigate(String(start.headers.location))).body).user
  t.match(user, { email: 'someone@gmail.test', connectionType: 'GoogleOAuth', provider: 'workos-sso' })
  t.notOk(user.organizationId)
  t.notOk('emailVerified' in user)
})

test('domainRouting: true finds the organization with that verified domain through the SDK, and sends the hints', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: true }))
  const browser = new Browser(app, baseUrl, json)

  const start = await browser.request('/auth/login?email=alice%40acme.test')
  t.equal(start.status, 302)
  const authorize = new URL(String(start.headers.location))
  t.match(Object.fromEntries(authorize.searchParams), { organization: 'org_acme', login_hint: 'alice@acme.test', domain_hint: 'acme.test' })
  const [lookup] = api.calls('/organizations')
  t.match(lookup, { query: { domains: 'acme.test' }, headers: { authorization: `Bearer ${apiKey}` } })

  const page = await browser.navigate(authorize.href)
  t.match(JSON.parse(page.body).user, aliceUser)

  await browser.request('/auth/login?login_hint=carol%40ACME.test')
  t.equal(api.calls('/organizations').length, 1, 'the domain lookup is cached')

  const byDomainHint = await browser.request('/auth/login?domain_hint=globex.test')
  t.equal(new URL(String(byDomainHint.headers.location)).searchParams.get('organization'), 'org_globex')
})

test('domainRouting as a function decides itself (organization or connection)', async (t) => {
  const api = await startWorkOS(t)
  const asked: string[] = []
  const app = await workosApp(t, workosSso({
    client: api.client(),
    clientId,
    domainRouting: async (domain) => {
      asked.push(domain)
      if (domain === 'acme.test') return { organizationId: 'org_acme' }
      if (domain === 'globex.test') return { connectionId: 'conn_globex' }
      return null
    }
  }))
  const browser = new Browser(app, baseUrl, json)
  const acme = await browser.request('/auth/login?email=alice%40acme.test')
  t.equal(new URL(String(acme.headers.location)).searchParams.get('organization'), 'org_acme')
  const globex = await browser.request('/auth/login?email=bob%40globex.test')
  t.equal(new URL(String(globex.headers.location)).searchParams.get('connection'), 'conn_globex')
  t.same(asked, ['acme.test', 'globex.test'])
  t.equal(api.calls('/organizations').length, 0, 'WorkOS is not asked')

  api.signInAs = 'bob@globex.test'
  const page = await browser.navigate(String(globex.headers.location))
  t.match(JSON.parse(page.body).user, { email: 'bob@globex.test', connectionId: 'conn_globex' })
})

test('a fixed organizationId needs no routing in the link', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  const browser = new Browser(app, baseUrl, json)
  const start = await browser.request('/auth/login')
  t.equal(new URL(String(start.headers.location)).searchParams.get('organization'), 'org_acme')
  const same = await browser.request('/auth/login?organization=org_acme')
  t.equal(same.status, 302, 'naming the same organization is fine')
  const page = await browser.navigate(String(start.headers.location))
  t.match(JSON.parse(page.body).user, { organizationId: 'org_acme' })
})

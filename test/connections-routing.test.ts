/**
 * `connections()` routing at `/auth/login`: each customer's login goes to that customer's own IdP
 * (two real OpenID Providers, one per tenant), chosen by the work email's domain, a bare domain,
 * the organization or the connection id; a login with nothing to route by, or naming nothing
 * known, is a 400 that says what was not found and asks for the work email again.
 */
import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, loginThroughIdp } from './fixtures/app.ts'
import { connectionsApp, mapResolver, startTenants } from './fixtures/tenants.ts'

const html = { accept: 'text/html' }
const json = { accept: 'application/json' }

async function setup (t: Parameters<typeof startTenants>[0], options: Parameters<typeof connectionsApp>[2] = {}) {
  const { acme, globex } = await startTenants(t)
  const resolver = mapResolver([acme.connection, globex.connection])
  const app = await connectionsApp(t, resolver.resolve, options)
  return { acme, globex, resolver, app }
}

test('alice@acme.test signs in at Acme\'s IdP, bob@globex.test at Globex\'s: the user carries the connection\'s tenant', async (t) => {
  const { app, acme, globex } = await setup(t)
  for (const [email, tenant, organizationId] of [['alice@acme.test', acme, 'org_acme'], ['bob@globex.test', globex, 'org_globex']] as const) {
    const browser = new Browser(app, baseUrl)
    const idpPage = await browser.navigate(`/auth/login?email=${encodeURIComponent(email)}&returnTo=%2Fdashboard`)
    t.ok(idpPage.url.startsWith(`${tenant.idp.issuer}/interaction/`), `${email} is sent to ${tenant.name}'s IdP`)
    t.match(idpPage.body, new RegExp(`Sign in to ${tenant.name}`))
    const dashboard = await loginThroughIdp(browser, email, `/auth/login?email=${encodeURIComponent(email)}&returnTo=%2Fdashboard`)
    t.equal(dashboard.url, `${baseUrl}/dashboard`)
    const { user } = JSON.parse(dashboard.body)
    t.match(user, {
      email,
      emailVerified: true,
      organizationId,
      connectionId: tenant.connection.id,
      connectionType: 'oidc',
      provider: 'oidc'
    })
    t.match(user.id, new RegExp(`^${tenant.connection.id}:user_`), 'the id is scoped to the connection')
  }
})

test('routing by login_hint, domain, domain_hint, organization and connection id', async (t) => {
  const { app, acme, globex } = await setup(t)
  const cases: Array<[string, string]> = [
    ['login_hint=carol%40acme.test', acme.idp.issuer],
    ['email=Bob%40GLOBEX.test', globex.idp.issuer],
    ['domain=acme.test', acme.idp.issuer],
    ['domain_hint=globex.test', globex.idp.issuer],
    ['organization=org_globex', globex.idp.issuer],
    ['connection=acme', acme.idp.issuer],
    ['connection=globex&email=bob%40globex.test', globex.idp.issuer],
    ['organization=org_acme&email=alice%40acme.test', acme.idp.issuer]
  ]
  for (const [query, issuer] of cases) {
    const res = await app.inject({ url: `/auth/login?${query}`, headers: html })
    t.equal(res.statusCode, 302, query)
    const location = new URL(String(res.headers.location))
    t.equal(location.origin, issuer, `${query} → ${issuer}`)
    t.equal(location.searchParams.get('redirect_uri'), `${baseUrl}/auth/callback`, 'one redirect URI for every connection')
  }
  const hinted = new URL(String((await app.inject({ url: '/auth/login?organization=org_acme&email=alice%40acme.test', headers: html })).headers.location))
  t.equal(hinted.searchParams.get('login_hint'), 'alice@acme.test', 'the email still reaches the IdP as login_hint')
  t.equal(hinted.searchParams.get('organization'), null, 'connections\' own routing parameters are not passed on')
})

test('nothing to route by: 400 that asks for the work email, as a page with a form (keeping returnTo) or JSON', async (t) => {
  const { app } = await setup(t)
  const page = await app.inject({ url: '/auth/login?returnTo=%2Freports%3Fq%3D1', headers: html })
  t.equal(page.statusCode, 400)
  t.match(page.body, /Enter your work email address/)
  t.match(page.body, /FST_SSO_ROUTING_REQUIRED/)
  t.match(page.body, /<form method="get" action="\/auth\/login"><input type="hidden" name="returnTo" value="\/reports\?q=1">/, 'the way back keeps the deep link')
  t.match(page.body, /<input id="page-email" name="email" type="email" required>/)
  const api = await app.inject({ url: '/auth/login', headers: json })
  t.equal(api.statusCode, 400)
  t.match(api.json(), { statusCode: 400, code: 'FST_SSO_ROUTING_REQUIRED' })
  const noDomain = await app.inject({ url: '/auth/login?email=alice', headers: json })
  t.match(noDomain.json(), { statusCode: 400, code: 'FST_SSO_ROUTING_REQUIRED', message: /full work email address/ })
})

test('an unknown domain, organization or connection: 400 naming what was not found', async (t) => {
  const { app } = await setup(t)
  const domain = await app.inject({ url: '/auth/login?email=someone%40initech.test', headers: json })
  t.match(domain.json(), { statusCode: 400, code: 'FST_SSO_UNKNOWN_DOMAIN', message: /initech\.test/ })
  const organization = await app.inject({ url: '/auth/login?organization=org_initech', headers: json })
  t.match(organization.json(), { statusCode: 400, code: 'FST_SSO_UNKNOWN_CONNECTION', message: /organization org_initech/ })
  const connection = await app.inject({ url: '/auth/login?connection=initech', headers: json })
  t.match(connection.json(), { statusCode: 400, code: 'FST_SSO_UNKNOWN_CONNECTION', message: /connection initech/ })
  const page = await app.inject({ url: '/auth/login?email=someone%40initech.test', headers: html })
  t.equal(page.statusCode, 400)
  t.match(page.body, /Single sign-on is not set up for initech\.test/)
  t.match(page.body, /name="email" type="email"/, 'and the work email can be typed again')
  const malformed = await app.inject({ url: '/auth/login?connection=%3Cscript%3E', headers: json })
  t.match(malformed.json(), { statusCode: 400, code: 'FST_SSO_INVALID_LOGIN_REQUEST' })
})

test('with errorRedirect, a routing failure comes back with its code and the deep link', async (t) => {
  const { app } = await setup(t, { errorRedirect: '/sign-in' })
  const res = await app.inject({ url: '/auth/login?email=x%40initech.test&returnTo=%2Freports', headers: html })
  t.equal(res.headers.location, '/sign-in?error=FST_SSO_UNKNOWN_DOMAIN&returnTo=%2Freports')
  const home = await app.inject({ url: '/auth/login?returnTo=%2F', headers: html })
  t.equal(home.headers.location, '/sign-in?error=FST_SSO_ROUTING_REQUIRED', 'no returnTo when it is the default')
  const unsafe = await app.inject({ url: '/auth/login?returnTo=https%3A%2F%2Fevil.test%2F', headers: html })
  t.equal(unsafe.headers.location, '/sign-in?error=FST_SSO_ROUTING_REQUIRED', 'an unsafe returnTo is never passed on')
})

test('a disabled connection: 403, by every route to it', async (t) => {
  const { app, resolver } = await setup(t)
  resolver.table.set('acme', { ...resolver.table.get('acme')!, enabled: false })
  for (const query of ['email=alice%40acme.test', 'organization=org_acme', 'connection=acme']) {
    const res = await app.inject({ url: `/auth/login?${query}`, headers: json })
    t.equal(res.statusCode, 403, query)
    t.equal(res.json().code, 'FST_SSO_CONNECTION_DISABLED')
  }
  t.equal((await app.inject({ url: '/auth/login?email=bob%40globex.test', headers: json })).statusCode, 302, 'other connections are unaffected')
})

test('a connection id and an organization that do not belong together: 400', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ url: '/auth/login?connection=acme&organization=org_globex', headers: json })
  t.match(res.json(), { statusCode: 400, code: 'FST_SSO_INVALID_LOGIN_REQUEST' })
})

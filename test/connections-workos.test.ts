/**
 * A connection's provider can be any provider factory: here `workosSso` (a customer whose IdP is
 * connected through WorkOS) and `workosAuthKit` (which keeps a refresh token), through the real
 * `@workos-inc/node` SDK against the local WorkOS API. Refresh and logout reach the connection
 * the session came from; the tenant still comes from the connection.
 */
import { test, type Test } from 'tap'
import { workosAuthKit, workosSso, type SsoConnection } from '../src/index.ts'
import { findCore } from '../src/core.ts'
import type { SessionRecord } from '../src/session.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, testClock } from './fixtures/app.ts'
import { clientId, startWorkOS } from './fixtures/workos-api.ts'
import { connectionsApp, mapResolver } from './fixtures/tenants.ts'

async function setup (t: Test) {
  const clock = testClock()
  const api = await startWorkOS(t)
  api.now = clock.now
  const globex: SsoConnection = { id: 'globex', organizationId: 'tenant_globex', domains: ['globex.test'], provider: workosSso({ client: api.client(), clientId, organizationId: 'org_globex' }) }
  const acme: SsoConnection = { id: 'acme', organizationId: 'tenant_acme', domains: ['acme.test'], provider: workosAuthKit({ client: api.client(), clientId, organizationId: 'org_acme' }) }
  const resolver = mapResolver([acme, globex])
  const app = await connectionsApp(t, resolver.resolve, { now: clock.now })
  return { clock, api, app, resolver }
}

test('a workosSso connection: routed by email to the customer\'s WorkOS organization; the tenant is the connection\'s', async (t) => {
  const { api, app } = await setup(t)
  const browser = new Browser(app, baseUrl, { accept: 'application/json' })
  const start = await browser.request('/auth/login?email=bob%40globex.test')
  const authorize = new URL(String(start.headers.location))
  t.equal(authorize.origin + authorize.pathname, `${api.url}/sso/authorize`)
  t.equal(authorize.searchParams.get('organization'), 'org_globex', 'the WorkOS organization of the connection\'s provider')
  t.equal(authorize.searchParams.get('login_hint'), 'bob@globex.test')
  const page = await browser.navigate(authorize.href)
  const { user } = JSON.parse(page.body)
  t.match(user, { email: 'bob@globex.test', organizationId: 'tenant_globex', connectionId: 'globex', connectionType: 'workos-sso', provider: 'workos-sso' })
  t.match(user.id, /^globex:prof_/)
})

test('an AuthKit connection: refresh goes to that connection\'s provider, and the user stays bound to the connection', async (t) => {
  const { clock, api, app, resolver } = await setup(t)
  const browser = new Browser(app, baseUrl, { accept: 'application/json' })
  await browser.navigate('/auth/login?email=alice%40acme.test')
  const session = () => findCore(app)!.sessions.codec.decode<SessionRecord>(decodeURIComponent(browser.jar.get('localhost')!.get('sso')!.value))!.data
  const before = session()
  t.equal(before.p!.connectionId, 'acme', 'the connection id is kept in the provider state')
  t.match(before.p!.sid, /^acme:session_/, 'the WorkOS session id, scoped to the connection')
  t.match(before.u, { organizationId: 'tenant_acme', connectionId: 'acme', connectionType: 'workos-authkit' })

  api.people.get('alice@acme.test')!.memberships = [{ organizationId: 'org_acme', role: 'viewer', permissions: [] }]
  clock.advance(301_000)
  const renewed = await browser.request('/api/me')
  t.equal(renewed.status, 200)
  const refresh = api.calls('/user_management/authenticate').filter(call => call.body.grant_type === 'refresh_token')
  t.equal(refresh.length, 1, 'refreshed at the connection\'s WorkOS')
  t.equal(refresh[0]!.body.refresh_token, before.p!.rt)
  t.match(JSON.parse(renewed.body), { roles: ['viewer'], organizationId: 'tenant_acme', connectionId: 'acme', id: before.u.id })
  t.equal(session().p!.connectionId, 'acme')

  // Logout: WorkOS's logout URL for the unscoped WorkOS session id.
  const logout = await browser.request('/auth/logout', { method: 'POST' })
  const target = new URL(String(logout.headers.location))
  t.equal(target.origin + target.pathname, `${api.url}/user_management/sessions/logout`)
  t.equal(`acme:${target.searchParams.get('session_id')}`, before.p!.sid, 'the session id WorkOS knows')

  // A connection switched off ends its sessions at their next refresh.
  const again = new Browser(app, baseUrl, { accept: 'application/json' })
  await again.navigate('/auth/login?email=alice%40acme.test')
  resolver.table.set('acme', { ...resolver.table.get('acme')!, enabled: false })
  await app.sso.invalidateConnection('acme')
  clock.advance(301_000)
  t.equal((await again.request('/api/me')).status, 401, 'signed out')
})

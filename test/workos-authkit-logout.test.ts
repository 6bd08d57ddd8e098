import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, json } from './fixtures/app.ts'
import { clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { workosAuthKit } from '../src/providers/workos-authkit.ts'
import { workosSso } from '../src/providers/workos-sso.ts'

test('AuthKit logout goes through WorkOS\'s logout URL for the session, then back to logoutRedirect', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }))
  const browser = new Browser(app, baseUrl, json)
  await browser.navigate('/auth/login')
  const [sessionId] = [...api.sessions.keys()]

  const logout = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(logout.status, 302)
  const target = new URL(String(logout.headers.location))
  t.equal(target.origin + target.pathname, `${api.url}/user_management/sessions/logout`)
  t.same(Object.fromEntries(target.searchParams), { session_id: sessionId, return_to: 'http://localhost:3000/' })
  t.notOk(browser.jar.get('localhost')?.get('sso'), 'the session cookie is cleared at once')

  const home = await browser.navigate(target.href)
  t.equal(api.sessions.get(sessionId!)?.ended, true, 'WorkOS ended its session')
  t.equal(home.url, 'http://localhost:3000/')
  t.same(JSON.parse(home.body), { user: null })
})

test('without a session, and with workosSso (no WorkOS session), logout is local', async (t) => {
  const api = await startWorkOS(t)
  const authkit = await workosApp(t, workosAuthKit({ client: api.client(), clientId }))
  const anonymous = await authkit.inject({ method: 'POST', url: '/auth/logout' })
  t.equal(anonymous.headers.location, '/')

  const sso = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }), { logoutRedirect: '/bye' })
  const browser = new Browser(sso, baseUrl, json)
  await browser.navigate('/auth/login')
  t.ok(browser.jar.get('localhost')?.get('sso'), 'signed in')
  const logout = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(logout.headers.location, '/bye')
  t.notOk(browser.jar.get('localhost')?.get('sso'))
})

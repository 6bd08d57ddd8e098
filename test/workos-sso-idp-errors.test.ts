import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl } from './fixtures/app.ts'
import { clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { workosSso } from '../src/providers/workos-sso.ts'

test('WorkOS\'s error redirect (error, error_description) becomes a 400 page, no session, no code exchange', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const browser = new Browser(app, baseUrl)
  const page = await browser.navigate('/auth/login?organization=org_deleted')
  t.equal(new URL(page.url).searchParams.get('error'), 'organization_invalid', 'WorkOS sent its error back')
  t.equal(page.status, 400)
  t.match(page.body, 'organization_invalid: Invalid organization ID: org_deleted')
  t.match(page.body, 'FST_SSO_IDP_ERROR')
  t.match(page.body, 'href="/auth/login"')
  t.notOk(browser.jar.get('localhost')?.get('sso'))
  t.equal(api.calls('/sso/token').length, 0)
})

test('error parameters are escaped, consume the transaction, and answer JSON to API clients', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, allowIdpInitiated: true }))
  const browser = new Browser(app, baseUrl)
  const start = await browser.request('/auth/login?organization=org_acme')
  const state = new URL(String(start.headers.location)).searchParams.get('state')!

  const description = encodeURIComponent('<script>alert(1)</script> denied')
  const page = await browser.request(`/auth/callback?error=access_denied&error_description=${description}&state=${state}`)
  t.equal(page.status, 400)
  t.notMatch(page.body, '<script>alert(1)</script>')
  t.match(page.body, '&lt;script&gt;alert(1)&lt;/script&gt; denied')

  const replay = await browser.request(`/auth/callback?code=code_whatever&state=${state}`, { headers: { accept: 'application/json' } })
  t.equal(replay.status, 400, 'the pending login was used up by the error')
  t.not(JSON.parse(replay.body).code, 'FST_SSO_IDP_ERROR')

  // Without state, even with allowIdpInitiated, an error is an error, not a restart.
  const unsolicited = await app.inject({ url: '/auth/callback?error=connection_invalid&error_description=Connection%20inactive', headers: { accept: 'application/json' } })
  t.equal(unsolicited.statusCode, 400)
  t.match(unsolicited.json(), { code: 'FST_SSO_IDP_ERROR', message: 'The identity provider refused the sign-in (connection_invalid: Connection inactive).' })
  t.notOk(unsolicited.headers.location)
  t.same(api.calls('/sso/token').map(call => call.body.code), ['code_whatever'], 'only the replayed code was tried (and refused)')
})

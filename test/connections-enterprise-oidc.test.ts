/**
 * Enterprise OpenID Connect inside `connections()`: a connection whose `oidcProvider` keeps tokens
 * hands out its access token through `app.sso.accessToken()` (renewed by that connection's IdP),
 * and a step-up requirement sends the user back to their own connection with `acr_values`.
 */
import { test } from 'tap'
import { oidcProvider, requireUser } from '../src/index.ts'
import { startDevIdp } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, json, loginThroughIdp, testClock, type TapTest } from './fixtures/app.ts'
import type { AuditEvent } from '../src/index.ts'
import { acmeUsers, connectionsApp, mapResolver, startTenant } from './fixtures/tenants.ts'
import { userinfoStatus } from './fixtures/tokens.ts'

const clientSecret = 'a-client-secret-for-the-connections-tests'

async function setup (t: TapTest) {
  const clock = testClock()
  const events: AuditEvent[] = []
  const idp = await startDevIdp({
    name: 'Initrode',
    accessTokenTtl: 60,
    acrValues: ['pwd', 'mfa'],
    users: [{ email: 'ivan@initrode.test', name: 'Ivan', organizationId: 'org_other' }],
    clients: [{ clientId: 'app-at-initrode', clientSecret, redirectUris: [`${baseUrl}/auth/callback`], postLogoutRedirectUris: [`${baseUrl}/`] }]
  })
  t.teardown(() => idp.close())
  const acme = await startTenant(t, 'Acme', { id: 'acme', organizationId: 'org_acme', domains: ['acme.test'] }, acmeUsers)
  const initrode = {
    id: 'initrode',
    organizationId: 'org_initrode',
    domains: ['initrode.test'],
    provider: oidcProvider({ issuer: idp.issuer, clientId: 'app-at-initrode', clientSecret, tokens: true })
  }
  const app = await connectionsApp(t, mapResolver([acme.connection, initrode]).resolve, {
    now: clock.now,
    onAuditEvent: (event) => { events.push(event) },
    routes: (app) => {
      app.get('/api/token', { preHandler: requireUser() }, async (request) => ({ token: await app.sso.accessToken(request) }))
      app.get('/mfa', { preHandler: requireUser({ acr: 'mfa' }) }, async (request) => ({ page: 'mfa', user: request.user }))
    }
  })
  const browser = new Browser(app, baseUrl)
  const landed = await loginThroughIdp(browser, 'ivan@initrode.test', '/auth/login?returnTo=%2Fdashboard&email=ivan%40initrode.test')
  t.equal(landed.url, `${baseUrl}/dashboard`, 'signed in through the Initrode connection')
  return { app, idp, clock, browser, events }
}

test('app.sso.accessToken(): the connection\'s token, valid at its IdP, renewed by that connection near expiry', async (t) => {
  const { app, idp, clock, browser, events } = await setup(t)
  const cookie = browser.cookieHeader(baseUrl)
  const first = (await app.inject({ url: '/api/token', headers: { ...json, cookie } })).json()
  t.equal(await userinfoStatus(idp, first.token), 200, 'the IdP accepts it')
  clock.advance(45_000)
  const renewed = (await app.inject({ url: '/api/token', headers: { ...json, cookie } })).json()
  t.not(renewed.token, first.token, 'renewed near expiry')
  t.equal(await userinfoStatus(idp, renewed.token), 200, 'the renewed token is valid at the connection\'s IdP')
  const me = (await app.inject({ url: '/api/me', headers: { ...json, cookie } })).json()
  t.match(me, { organizationId: 'org_initrode', connectionId: 'initrode', provider: 'oidc' }, 'still the connection\'s user')
  await new Promise(resolve => setImmediate(resolve))
  t.match(events.filter(event => event.type === 'session.refreshed'), [{ connectionId: 'initrode', organizationId: 'org_initrode' }], 'the renewal is one audit event')
})

test('a step-up requirement sends the user back to their own connection with acr_values, and the new sign-in passes', async (t) => {
  const { browser } = await setup(t)
  const first = await browser.request('/mfa', { headers: { accept: 'text/html' } })
  t.equal(first.status, 302)
  t.equal(first.headers.location, '/auth/login?returnTo=%2Fmfa&acr_values=mfa&connection=initrode', 'at the connection, not at the work-email page')
  const landed = await loginThroughIdp(browser, 'ivan@initrode.test', String(first.headers.location))
  t.equal(landed.url, `${baseUrl}/mfa`)
  t.match(JSON.parse(landed.body), { page: 'mfa', user: { connectionId: 'initrode' } })
})

/**
 * Logout with `connections()`: the browser goes to the end-session endpoint of the connection
 * the session came from, and back-channel logout reaches the right connection, routed by a
 * per-connection URL (`/auth/backchannel-logout?connection=<id>`), so one tenant's IdP can only
 * end its own users' sessions. Real OpenID Providers, one per tenant; the hostile OP plays a
 * tenant whose IdP signs whatever it likes.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { SignJWT } from 'jose'
import { memoryStore, oidcProvider } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, freePort, loginThroughIdp } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { connectionsApp, mapResolver, startTenants, type Tenant } from './fixtures/tenants.ts'
import { buildApp, devIdp } from './fixtures/app.ts'

const json = { accept: 'application/json' }

async function signedIn (app: Awaited<ReturnType<typeof connectionsApp>>, origin: string, email: string) {
  const browser = new Browser(app, origin, json)
  await loginThroughIdp(browser, email, `/auth/login?email=${encodeURIComponent(email)}&returnTo=%2F`)
  const cookie = browser.cookieHeader(`${origin}/`)
  return { browser, cookie }
}

/** The IdP's own "sign out" (as from its portal), confirmed. */
async function logoutAtIdp (browser: Browser, tenant: Tenant) {
  const confirm = await browser.navigate(`${tenant.idp.issuer}/session/end?client_id=${tenant.idp.clientId}`)
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1]!
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)![1]!
  await browser.navigate(new URL(action, confirm.url).href, { form: { xsrf, logout: 'yes' } })
}

test('logout goes to the end-session endpoint of the connection the session came from', async (t) => {
  const { acme, globex } = await startTenants(t)
  const app = await connectionsApp(t, mapResolver([acme.connection, globex.connection]).resolve)
  for (const [email, tenant] of [['alice@acme.test', acme], ['bob@globex.test', globex]] as const) {
    const { browser } = await signedIn(app, baseUrl, email)
    const out = await browser.request('/auth/logout', { method: 'POST' })
    const location = new URL(String(out.headers.location))
    t.equal(location.origin + location.pathname, `${tenant.idp.issuer}/session/end`, `${email} → ${tenant.name}'s IdP`)
    t.equal(location.searchParams.get('client_id'), tenant.idp.clientId)
    t.equal(location.searchParams.get('post_logout_redirect_uri'), `${baseUrl}/`)
  }
  const local = await signIn(app, { email: 'demo@example.test' })
  const out = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: local } })
  t.equal(out.headers.location, '/', 'a user the app signed in itself logs out locally')
})

test('back-channel logout per connection URL: each tenant\'s IdP ends its own users\' sessions only', async (t) => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const { acme, globex } = await startTenants(t, { baseUrl: origin, backchannel: true })
  const app = await connectionsApp(t, mapResolver([acme.connection, globex.connection]).resolve, { baseUrl: origin, store: memoryStore(), listen: true })
  const alice = await signedIn(app, origin, 'alice@acme.test')
  const bob = await signedIn(app, origin, 'bob@globex.test')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice.cookie } })).statusCode, 200)

  await logoutAtIdp(alice.browser, acme)
  await sleep(100)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice.cookie } })).statusCode, 401, 'Acme\'s IdP ended Alice\'s session')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: bob.cookie } })).statusCode, 200, 'Bob (Globex) is still signed in')
})

test('a logout token of tenant A\'s IdP sent to tenant B\'s back-channel URL is refused, and ends nobody\'s session', async (t) => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  // Acme's IdP is (mis)configured with Globex's URL: its tokens reach Globex's connection.
  const { acme, globex } = await startTenants(t, { baseUrl: origin, backchannel: 'globex' })
  const logs: string[] = []
  const app = await connectionsApp(t, mapResolver([acme.connection, globex.connection]).resolve, {
    baseUrl: origin, store: memoryStore(), listen: true, fastify: { logger: { level: 'info', stream: { write: (line: string) => { logs.push(line) } } } }
  })
  const alice = await signedIn(app, origin, 'alice@acme.test')
  await logoutAtIdp(alice.browser, acme)
  await sleep(100)
  t.match(logs.join(''), /FST_SSO_BACKCHANNEL_LOGOUT_INVALID/, 'Globex\'s connection refused the token')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice.cookie } })).statusCode, 200, 'and it ended nothing')
})

test('a hostile tenant\'s IdP naming a subject another tenant uses ends only its own user of that subject', async (t) => {
  const { acme, globex } = await startTenants(t)
  const op = await startMaliciousOp(t)
  const evil = { id: 'evil', organizationId: 'org_evil', domains: ['acme.test'], provider: oidcProvider({ issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret }) }
  const app = await connectionsApp(t, mapResolver([acme.connection, globex.connection, evil]).resolve, { store: memoryStore() })
  const eve = await signedIn(app, baseUrl, 'eve@acme.test') // Acme's user with the subject shared-subject
  const zed = await signedIn(app, baseUrl, 'zed@globex.test') // Globex's user with the same subject

  const events = { 'http://schemas.openid.net/event/backchannel-logout': {} }
  const token = (claims: Record<string, unknown>) => new SignJWT({ events, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: op.keys.rs256.kid, typ: 'logout+jwt' })
    .setIssuer(op.issuer).setAudience(op.clientId).setIssuedAt().setJti(`j-${Math.random()}`).sign(op.keys.rs256.privateKey)
  const post = async (url: string, logoutToken: string) => app.inject({
    method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...json }, payload: `logout_token=${encodeURIComponent(logoutToken)}`
  })
  const own = await post('/auth/backchannel-logout?connection=evil', await token({ sub: 'shared-subject' }))
  t.equal(own.statusCode, 200, 'a valid token for its own connection')
  const elsewhere = await post('/auth/backchannel-logout?connection=acme', await token({ sub: 'shared-subject' }))
  t.equal(elsewhere.statusCode, 400, 'the hostile IdP\'s token does not verify at Acme\'s connection')
  for (const url of ['/auth/backchannel-logout', '/auth/backchannel-logout?connection=nobody']) {
    const res = await post(url, await token({ sub: 'shared-subject' }))
    t.equal(res.statusCode, 400, url)
    t.equal(res.json().code, 'FST_SSO_BACKCHANNEL_LOGOUT_INVALID')
  }
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: eve.cookie } })).statusCode, 200, 'Eve (Acme) is still signed in')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: zed.cookie } })).statusCode, 200, 'Zed (Globex) is still signed in')
})

test('app.sso.invalidateConnection() without connections(): a coded error', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  await t.rejects(app.sso.invalidateConnection('acme'), { code: 'FST_SSO_INVALID_ARGUMENT', message: /connections\(/ })
})

/**
 * Cross-tenant attacks on `connections()`, one test per attack, each against real OpenID
 * Providers (one development IdP per tenant, over real HTTP). The attacker controls one tenant's
 * IdP (Acme's here: its admin can create any account there and set any claim) or holds a code,
 * token or state of one tenant's login; nothing of it may reach another tenant, and no refused
 * answer leaves a session behind.
 */
import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, loginThroughIdp, stopBeforeCallback } from './fixtures/app.ts'
import { connectionsApp, mapResolver, startTenants } from './fixtures/tenants.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { attemptLogin } from './fixtures/login-attempt.ts'
import { oidcProvider } from '../src/index.ts'

type T = Parameters<typeof startTenants>[0] & { equal: Function, same: Function }

async function setup (t: Parameters<typeof startTenants>[0], options: Parameters<typeof connectionsApp>[2] = {}) {
  const { acme, globex } = await startTenants(t)
  const resolver = mapResolver([acme.connection, globex.connection])
  const app = await connectionsApp(t, resolver.resolve, options)
  return { acme, globex, resolver, app }
}

/** The signed-in user of this browser (null: no session). */
async function userOf (browser: Browser) {
  return JSON.parse((await browser.request('/')).body).user
}

/** The state our `/auth/login` sent to the IdP (the browser now holds that login's transaction). */
async function startLogin (browser: Browser, query: string): Promise<string> {
  const res = await browser.request(`/auth/login?${query}`)
  return new URL(String(res.headers.location)).searchParams.get('state')!
}

async function assertNoSession (t: T, browser: Browser) {
  t.equal(await userOf(browser), null, 'no session')
  t.equal(browser.jar.get('localhost')?.get('sso'), undefined, 'no session cookie')
}

test('tenant A\'s IdP asserting an email of tenant B → 403, no session', async (t) => {
  const { app } = await setup(t)
  const browser = new Browser(app, baseUrl)
  // The login is routed to Acme (its domain); at Acme's IdP the attacker picks an account its
  // admin created with Globex's address.
  const page = await loginThroughIdp(browser, 'bob@globex.test', '/auth/login?organization=org_acme&returnTo=%2Fdashboard')
  t.equal(page.status, 403)
  t.match(page.body, /FST_SSO_EMAIL_DOMAIN_NOT_ALLOWED/)
  t.match(page.body, /does not belong to this organization/)
  await assertNoSession(t as T, browser)
})

test('allowGuestDomains: the same login signs in as a guest of tenant A, never as tenant B\'s user', async (t) => {
  const { acme, globex } = await startTenants(t)
  const resolver = mapResolver([{ ...acme.connection, allowGuestDomains: true }, globex.connection])
  const app = await connectionsApp(t, resolver.resolve)
  const browser = new Browser(app, baseUrl)
  const page = await loginThroughIdp(browser, 'bob@globex.test', '/auth/login?organization=org_acme&returnTo=%2F')
  const { user } = JSON.parse(page.body)
  t.match(user, { email: 'bob@globex.test', emailVerified: false, organizationId: 'org_acme', connectionId: 'acme', claims: { guest: true } })
  t.equal(user.id, 'acme:acme-made-bob', 'an Acme user id, unrelated to Globex\'s Bob')
  const member = await loginThroughIdp(new Browser(app, baseUrl), 'alice@acme.test', '/auth/login?organization=org_acme&returnTo=%2F')
  const alice = JSON.parse(member.body).user
  t.equal(alice.emailVerified, true, 'members of the connection\'s domains are verified')
  t.equal(alice.claims?.guest, undefined, 'and are not guests')
})

test('an organization taken from a claim the tenant\'s IdP controls: ignored, the connection\'s organization wins', async (t) => {
  const { app } = await setup(t)
  const browser = new Browser(app, baseUrl)
  // mallory@acme.test's org_id claim at Acme's IdP says org_globex.
  const page = await loginThroughIdp(browser, 'mallory@acme.test', '/auth/login?email=mallory%40acme.test&returnTo=%2F')
  const { user } = JSON.parse(page.body)
  t.equal(user.organizationId, 'org_acme')
  t.equal(user.connectionId, 'acme')
  t.notOk(JSON.stringify(user).includes('org_globex'), 'the claimed organization is nowhere on the user')
})

test('a code of tenant B\'s IdP replayed into a login started for tenant A → 401, no session', async (t) => {
  const { app, acme, globex } = await setup(t)
  // The attacker completes a login at Globex's IdP and keeps its callback (code, state, iss).
  const { callbackPath } = await stopBeforeCallback(new Browser(app, baseUrl), 'bob@globex.test', '/auth/login?email=bob%40globex.test')
  const stolen = new URL(callbackPath, baseUrl).searchParams
  t.equal(stolen.get('iss'), globex.idp.issuer)

  // As sent: Globex's code and iss with the state of a login this browser started for Acme.
  const victim = new Browser(app, baseUrl, { accept: 'application/json' })
  const state = await startLogin(victim, 'email=alice%40acme.test')
  const res = await victim.request(`/auth/callback?code=${stolen.get('code')}&state=${state}&iss=${encodeURIComponent(stolen.get('iss')!)}`)
  t.equal(res.status, 401)
  t.equal(JSON.parse(res.body).code, 'FST_SSO_TOKEN_REJECTED', 'Acme\'s connection refuses an answer issued by Globex\'s IdP')
  await assertNoSession(t as T, victim)

  // With the iss rewritten to Acme's, the code reaches Acme's token endpoint, which never issued it.
  const rewritten = new Browser(app, baseUrl, { accept: 'application/json' })
  const state2 = await startLogin(rewritten, 'email=alice%40acme.test')
  const res2 = await rewritten.request(`/auth/callback?code=${stolen.get('code')}&state=${state2}&iss=${encodeURIComponent(acme.idp.issuer)}`)
  t.equal(res2.status, 400)
  t.equal(JSON.parse(res2.body).code, 'FST_SSO_INVALID_GRANT')
  await assertNoSession(t as T, rewritten)
})

test('the state of tenant A\'s login with tenant B\'s callback (?connection=globex) → 401 before any code is exchanged, no session', async (t) => {
  const { app } = await setup(t)
  const bob = new Browser(app, baseUrl, { accept: 'application/json' })
  const { callbackPath } = await stopBeforeCallback(bob, 'bob@globex.test', '/auth/login?email=bob%40globex.test')
  const stolen = new URL(callbackPath, baseUrl).searchParams
  const browser = new Browser(app, baseUrl, { accept: 'application/json' })
  const state = await startLogin(browser, 'email=alice%40acme.test')
  const res = await browser.request(`/auth/callback?connection=globex&code=${stolen.get('code')}&state=${state}&iss=${encodeURIComponent(stolen.get('iss')!)}`)
  t.equal(res.status, 401)
  t.equal(JSON.parse(res.body).code, 'FST_SSO_CONNECTION_MISMATCH')
  await assertNoSession(t as T, browser)
  // The code was not spent: Globex's login still completes in the browser that started it.
  const finished = await bob.navigate(callbackPath)
  t.equal(JSON.parse(finished.body).user?.email, 'bob@globex.test')
})

test('tenant B\'s callback in a browser that started only a login for tenant A (login CSRF across tenants) → 400, no session', async (t) => {
  const { app } = await setup(t)
  const attacker = new Browser(app, baseUrl)
  const { callbackPath } = await stopBeforeCallback(attacker, 'bob@globex.test', '/auth/login?email=bob%40globex.test')
  const victim = new Browser(app, baseUrl, { accept: 'application/json' })
  await startLogin(victim, 'email=alice%40acme.test')
  const res = await victim.request(callbackPath)
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'FST_SSO_STATE_MISMATCH')
  await assertNoSession(t as T, victim)
})

test('two tenants\' IdPs using the same subject for different people: two different user ids (no account merge)', async (t) => {
  const { app } = await setup(t)
  const atAcme = JSON.parse((await loginThroughIdp(new Browser(app, baseUrl), 'eve@acme.test', '/auth/login?email=eve%40acme.test&returnTo=%2F')).body).user
  const atGlobex = JSON.parse((await loginThroughIdp(new Browser(app, baseUrl), 'zed@globex.test', '/auth/login?email=zed%40globex.test&returnTo=%2F')).body).user
  t.equal(atAcme.id, 'acme:shared-subject')
  t.equal(atGlobex.id, 'globex:shared-subject')
})

test('an IdP-initiated callback naming an OpenID Connect connection → 400, the code is never exchanged', async (t) => {
  const { app } = await setup(t)
  const alice = new Browser(app, baseUrl, { accept: 'application/json' })
  const { callbackPath } = await stopBeforeCallback(alice, 'alice@acme.test', '/auth/login?email=alice%40acme.test')
  const stolen = new URL(callbackPath, baseUrl).searchParams
  const res = await new Browser(app, baseUrl, { accept: 'application/json' }).request(`/auth/callback?connection=acme&code=${stolen.get('code')}&iss=${encodeURIComponent(stolen.get('iss')!)}`)
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'FST_SSO_TRANSACTION_MISSING')
  const finished = await alice.navigate(callbackPath)
  t.equal(JSON.parse(finished.body).user?.email, 'alice@acme.test', 'the code was still unspent')
})

test('a hostile OP as one tenant\'s IdP: its forged email, email_verified and organization claims give it nothing of another tenant', async (t) => {
  const { acme, globex } = await startTenants(t)
  const op = await startMaliciousOp(t)
  const evil = { id: 'evil', organizationId: 'org_evil', domains: ['evil.test'], provider: oidcProvider({ issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret }) }
  const resolver = mapResolver([acme.connection, globex.connection, evil])
  const app = await connectionsApp(t, resolver.resolve)

  op.behaviour.claims = { sub: 'bob', email: 'bob@globex.test', email_verified: true, org_id: 'org_globex' }
  const impersonation = await attemptLogin(app, { accept: 'application/json' }, '/auth/login?email=x%40evil.test')
  t.equal(impersonation.callback.status, 403)
  t.equal(JSON.parse(impersonation.callback.body).code, 'FST_SSO_EMAIL_DOMAIN_NOT_ALLOWED')
  t.equal(JSON.parse((await impersonation.browser.request('/')).body).user, null, 'no session')

  op.behaviour.claims = { sub: 'mallory', email: 'mallory@evil.test', org_id: 'org_globex', organization: 'org_acme' }
  const own = await attemptLogin(app, { accept: 'application/json' }, '/auth/login?email=x%40evil.test&returnTo=%2F')
  const user = JSON.parse((await own.browser.request('/')).body).user
  t.match(user, { id: 'evil:mallory', organizationId: 'org_evil', connectionId: 'evil' })

  // Its ID token, minted for the evil connection, cannot finish a login started for Acme.
  op.behaviour.claims = { iss: acme.idp.issuer, email: 'alice@acme.test' }
  const browser = new Browser(app, baseUrl, { accept: 'application/json' })
  const state = await startLogin(browser, 'email=alice%40acme.test')
  const authorize = await browser.request(`${op.issuer}/authorize?redirect_uri=${encodeURIComponent(`${baseUrl}/auth/callback`)}&state=${state}`)
  const res = await browser.request(String(authorize.headers.location))
  t.equal(res.status, 401, 'Acme\'s connection refuses the hostile OP\'s answer')
  t.equal(JSON.parse((await browser.request('/')).body).user, null)
})

test('a connection disabled between login and callback → 403 at the callback, no session', async (t) => {
  const { app, resolver } = await setup(t)
  const browser = new Browser(app, baseUrl)
  const { callbackPath } = await stopBeforeCallback(browser, 'alice@acme.test', '/auth/login?email=alice%40acme.test')
  resolver.table.set('acme', { ...resolver.table.get('acme')!, enabled: false })
  await app.sso.invalidateConnection('acme')
  const res = await browser.request(callbackPath)
  t.equal(res.status, 403)
  t.match(res.body, /FST_SSO_CONNECTION_DISABLED/)
  await assertNoSession(t as T, browser)
})

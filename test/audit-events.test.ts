/**
 * Every login, failed login, logout, revocation (with who revoked), refresh and failed refresh is
 * one audit event with the contract's fields, given to `onAuditEvent`, published on
 * `fastify-sso:<type>` and logged at info level; protected requests emit none.
 */
import { test, type Test } from 'tap'
import Fastify from 'fastify'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { createServer } from 'node:http'
import ssoPlugin, { directorySync, LoginDeniedError, memoryStore, oidcProvider, requireUser, workosAuthKit, workosSso, type AuditEvent, type SsoPluginOptions } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, devIdp, loginThroughIdp, secret, stopBeforeCallback, testClock } from './fixtures/app.ts'
import { captureLog, recordAuditChannels } from './fixtures/observe.ts'
import { clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { deliver, directoryUser, eventBody, webhookSecret } from './fixtures/webhook.ts'
import { createUser, oktaUser, patch, scimApp } from './fixtures/scim.ts'

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const aliceAtAcme = { userId: 'user_alice_acme_test', email: 'alice@acme.test', organizationId: 'org_acme', provider: 'oidc' }

/** An OIDC app on the development IdP whose audit events are recorded three ways. */
async function observedApp (t: Test, options: Partial<SsoPluginOptions> = {}) {
  const idp = await devIdp(t)
  const log = captureLog()
  const events: AuditEvent[] = []
  const app = Fastify({ logger: log.logger })
  await app.register(ssoPlugin, {
    baseUrl,
    provider: oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }),
    session: { secret },
    onAuditEvent: (event) => { events.push(event) },
    ...options
  } as SsoPluginOptions)
  app.get('/api/me', { preHandler: requireUser() }, async (request) => request.user)
  app.post('/admin/revoke', async (request) => { await app.sso.revoke({ email: 'alice@acme.test' }, request); return 'revoked' })
  t.teardown(() => app.close())
  await app.ready()
  const channel = recordAuditChannels(t)
  /** The onAuditEvent deliveries, once they have run (they run after the reply). */
  const delivered = async () => { await new Promise(resolve => setImmediate(resolve)); return events }
  const logged = () => log.lines.filter(line => line.audit).map(line => ({ level: line.level, audit: line.audit as AuditEvent, reqId: line.reqId }))
  return { app, idp, events, delivered, channel, logged, browser: new Browser(app, baseUrl, { accept: 'text/html', 'user-agent': 'AuditTest/1.0' }) }
}

test('a login is one `login` event: the user, the provider, the request; the same event on the channel, in onAuditEvent and in the info log', async (t) => {
  const { browser, delivered, channel, logged } = await observedApp(t)
  await loginThroughIdp(browser)
  const [event, ...more] = await delivered()
  t.same(more, [], 'one event')
  t.match(event, { type: 'login', ...aliceAtAcme, ip: '127.0.0.1', userAgent: 'AuditTest/1.0' })
  t.match(event!.at, isoTime)
  t.match(event!.requestId, /^req-/)
  t.ok(Object.isFrozen(event), 'subscribers cannot change what the others receive')
  t.equal(channel[0], event, 'published on fastify-sso:login: the same object')
  const [line] = logged()
  t.equal(line?.level, 30, 'logged at info level')
  t.same(line?.audit, event)
  t.equal(line?.reqId, event!.requestId, 'in the request\'s log context')
})

test('failed logins carry their FST_SSO_* code and a short reason, and who when the callback got that far', async (t) => {
  const { app, browser, delivered } = await observedApp(t, {
    onLogin: (user) => { if (user.email.startsWith('bob')) throw LoginDeniedError('Bob may not sign in here.') }
  })
  // A callback whose state matches no login started in this browser.
  const { callbackPath } = await stopBeforeCallback(new Browser(app, baseUrl))
  await browser.request(callbackPath)
  // A user the application refuses.
  await loginThroughIdp(browser, 'bob@globex.test')
  // The IdP's own refusal.
  await browser.request('/auth/callback?error=access_denied&error_description=User+cancelled')
  const events = await delivered()
  t.same(events.map(event => event.type), ['login.failed', 'login.failed', 'login.failed'])
  t.match(events[0], { code: 'FST_SSO_TRANSACTION_MISSING', provider: 'oidc', reason: 'The login transaction cookie is missing' })
  t.notOk(events[0]!.userId, 'nobody known yet')
  t.match(events[1], { code: 'FST_SSO_LOGIN_DENIED', reason: 'Bob may not sign in here.', userId: 'user_bob_globex_test', email: 'bob@globex.test', organizationId: 'org_globex' })
  t.match(events[2], { code: 'FST_SSO_IDP_ERROR', reason: /access_denied: User cancelled/ })
  for (const event of events) t.ok(event.reason!.length <= 200, 'short')
})

test('a failed /login (nowhere to route the user) is a `login.failed` too', async (t) => {
  const api = await startWorkOS(t)
  const events: AuditEvent[] = []
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: true }), { onAuditEvent: (event) => { events.push(event) } })
  const res = await app.inject({ url: '/auth/login?email=someone@unknown.test', headers: { accept: 'application/json' } })
  t.equal(res.statusCode, 400)
  await new Promise(resolve => setImmediate(resolve))
  t.match(events, [{ type: 'login.failed', code: 'FST_SSO_UNKNOWN_DOMAIN', provider: 'workos-sso' }])
})

test('a WorkOS login that comes back from another organization: the failure names the organization it was started for', async (t) => {
  const api = await startWorkOS(t)
  const events: AuditEvent[] = []
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: true }), { onAuditEvent: (event) => { events.push(event) } })
  const browser = new Browser(app, baseUrl, { accept: 'application/json' })
  // The user edits the organization in the WorkOS URL and signs in at Globex's IdP.
  const start = await browser.request('/auth/login?email=alice%40acme.test')
  const edited = new URL(String(start.headers.location))
  edited.searchParams.set('organization', 'org_globex')
  api.signInAs = 'bob@globex.test'
  t.equal((await browser.navigate(edited.href)).status, 403)
  await new Promise(resolve => setImmediate(resolve))
  t.match(events, [{ type: 'login.failed', code: 'FST_SSO_ORGANIZATION_MISMATCH', organizationId: 'org_acme', provider: 'workos-sso' }])
})

test('logout: a `logout` event and the revocation it records (source logout), both naming the user', async (t) => {
  const { browser, delivered, channel } = await observedApp(t)
  await loginThroughIdp(browser)
  await browser.request('/auth/logout', { method: 'POST' })
  const events = (await delivered()).slice(1)
  t.match(events, [
    { type: 'logout', ...aliceAtAcme },
    { type: 'session.revoked', source: 'logout', ...aliceAtAcme }
  ])
  t.equal(events[0]!.requestId, events[1]!.requestId, 'the same request')
  t.same(channel.slice(1).map(event => event.type), ['logout', 'session.revoked'])
})

test('a new login in a signed-in browser revokes the previous session: source login', async (t) => {
  const { browser, delivered } = await observedApp(t)
  await loginThroughIdp(browser)
  // Signing in again (the IdP session is still alive: no form this time).
  await browser.navigate('/auth/login?returnTo=/')
  const events = await delivered()
  t.same(events.map(event => [event.type, event.source, event.email]), [
    ['login', undefined, 'alice@acme.test'],
    ['login', undefined, 'alice@acme.test'],
    ['session.revoked', 'login', 'alice@acme.test'] // recorded once the store has it
  ])
})

test('app.sso.revoke(): source api, with the admin request when given, without one from a job', async (t) => {
  const { app, delivered } = await observedApp(t)
  await app.inject({ method: 'POST', url: '/admin/revoke', headers: { 'user-agent': 'AdminConsole' } })
  await app.sso.revoke({ userId: 'bob@globex.test' })
  const events = await delivered()
  t.match(events[0], { type: 'session.revoked', source: 'api', email: 'alice@acme.test', userAgent: 'AdminConsole', ip: '127.0.0.1' })
  t.match(events[0]!.requestId, /^req-/)
  t.match(events[1], { type: 'session.revoked', source: 'api', userId: 'bob@globex.test' })
  t.notOk('requestId' in events[1]!, 'no request: no request id, address or user agent')
  t.notOk('ip' in events[1]!)
})

test('a deprovisioning webhook revokes with source webhook: one event per user', async (t) => {
  const events: AuditEvent[] = []
  const app = await buildApp(t, { issuer: 'http://127.0.0.1:9', clientId: 'c', clientSecret: 's' }, { onAuditEvent: (event) => { events.push(event) } }, app => {
    app.register(directorySync, { secret: webhookSecret, onEvent: async () => {} })
  })
  await deliver(app, eventBody('dsync.user.deleted', directoryUser('bob@globex.test')))
  await new Promise(resolve => setImmediate(resolve))
  t.match(events, [{ type: 'session.revoked', source: 'webhook', email: 'bob@globex.test', ip: '127.0.0.1' }])
  t.equal(events.length, 1)
})

test('SCIM deprovisioning revokes with source scim, within the token\'s organization, naming the SCIM request', async (t) => {
  const events: AuditEvent[] = []
  const { call } = await scimApp(t, {}, { onAuditEvent: (event) => { events.push(event) } })
  const id = await createUser(call, oktaUser('bob@acme.test'))
  t.equal((await call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }))).statusCode, 200)
  await new Promise(resolve => setImmediate(resolve))
  const revoked = events.filter(event => event.type === 'session.revoked')
  t.ok(revoked.length >= 1)
  t.match(revoked[0], { source: 'scim', email: 'bob@acme.test', organizationId: 'org_acme', ip: '127.0.0.1' })
  t.ok(revoked.every(event => event.source === 'scim' && event.organizationId === 'org_acme' && typeof event.requestId === 'string'))
})

test('a back-channel logout revokes with source backchannel', async (t) => {
  // A tiny OP: discovery and a JWKS, enough for the logout token's signature (no login needed).
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwk = { ...await exportJWK(publicKey), kid: 'k1', alg: 'RS256', use: 'sig' }
  const op = createServer((request, response) => {
    const issuer = `http://127.0.0.1:${(op.address() as { port: number }).port}`
    const body = request.url === '/jwks' ? { keys: [jwk] } : { issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'] }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>(resolve => op.listen(0, '127.0.0.1', resolve))
  t.teardown(() => op.close())
  const issuer = `http://127.0.0.1:${(op.address() as { port: number }).port}`
  const events: AuditEvent[] = []
  const app = await buildApp(t, { issuer, clientId: 'app', clientSecret: 'app-secret' }, { store: memoryStore(), onAuditEvent: (event) => { events.push(event) } })
  const token = await new SignJWT({ sub: 'alice-sub', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt' }).setIssuer(issuer).setAudience('app').setIssuedAt().setJti('jti-1').sign(privateKey)
  const res = await app.inject({ method: 'POST', url: '/auth/backchannel-logout', payload: `logout_token=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(res.statusCode, 200)
  await new Promise(resolve => setImmediate(resolve))
  t.match(events, [{ type: 'session.revoked', source: 'backchannel', userId: 'alice-sub' }])
})

test('refresh: `session.refreshed` when the access token is renewed, `session.refresh_failed` with its code when WorkOS refuses', async (t) => {
  const clock = testClock()
  const api = await startWorkOS(t)
  api.now = clock.now
  const events: AuditEvent[] = []
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }), { now: clock.now, onAuditEvent: (event) => { events.push(event) } })
  const browser = new Browser(app, baseUrl, { accept: 'application/json' })
  await browser.navigate('/auth/login')
  clock.advance(301_000)
  t.equal((await browser.request('/api/me')).status, 200)
  clock.advance(301_000)
  for (const session of api.sessions.values()) session.ended = true // signed out at WorkOS
  t.equal((await browser.request('/api/me')).status, 401)
  await new Promise(resolve => setImmediate(resolve))
  const user = { userId: /^user_/, email: 'alice@acme.test', organizationId: 'org_acme', provider: 'workos-authkit' }
  t.match(events, [
    { type: 'login', ...user },
    { type: 'session.refreshed', ...user },
    { type: 'session.refresh_failed', ...user, code: 'FST_SSO_INVALID_GRANT', reason: /token refresh/ }
  ])
  t.equal(events.length, 3)
})

test('protected requests emit nothing: events are for the auth routes and refreshes', async (t) => {
  const { browser, delivered, channel } = await observedApp(t)
  await loginThroughIdp(browser)
  for (let i = 0; i < 5; i++) t.equal((await browser.request('/api/me')).status, 200)
  t.equal((await delivered()).length, 1, 'only the login')
  t.equal(channel.length, 1)
})

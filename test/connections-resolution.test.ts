/**
 * How `connections()` resolves connections and keeps their providers: answers cached for
 * `cacheTtl`, one `resolve` call for concurrent misses, one lazily built provider instance per
 * connection (discovery fetched once by it), at most `maxInstances` kept (the least recently used
 * closed first), `app.sso.invalidateConnection(id)`, and every way `resolve` can fail: a coded
 * error, never a crash or a hang.
 */
import { test } from 'tap'
import { Writable } from 'node:stream'
import { connections, oidcProvider, type ConnectionLookup, type SsoConnection } from '../src/index.ts'
import ssoPlugin from '../src/index.ts'
import Fastify from 'fastify'
import { baseUrl, secret, testClock } from './fixtures/app.ts'
import { startMaliciousOp, type MaliciousOp } from './fixtures/malicious-op.ts'
import { attemptLogin } from './fixtures/login-attempt.ts'
import { connectionsApp, mapResolver, recorded } from './fixtures/tenants.ts'

const json = { accept: 'application/json' }
const discovery = '/.well-known/openid-configuration'

/** A connection on the hostile OP (which signs mallory@acme.test in by default). */
function opConnection (op: MaliciousOp, id: string, extra: Partial<SsoConnection> = {}): SsoConnection {
  return { id, organizationId: `org_${id}`, domains: [`${id}.test`, 'acme.test'], provider: oidcProvider({ issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret }), ...extra }
}

async function signedInUser (app: Parameters<typeof attemptLogin>[0], query: string) {
  const attempt = await attemptLogin(app, json, `/auth/login?${query}&returnTo=%2F`)
  return JSON.parse((await attempt.browser.request('/')).body).user
}

test('answers are cached for cacheTtl; the provider instance (and its discovery) is built once and kept', async (t) => {
  const op = await startMaliciousOp(t)
  const clock = testClock()
  const resolver = mapResolver([opConnection(op, 'acme')])
  const app = await connectionsApp(t, resolver.resolve, { now: clock.now, connections: { cacheTtl: 60 } })

  for (let i = 0; i < 3; i++) t.equal((await signedInUser(app, 'email=mallory%40acme.test')).connectionId, 'acme')
  t.same(resolver.calls, [{ domain: 'acme.test' }], 'resolved once for three logins (and their callbacks)')
  t.equal(op.calls(discovery).length, 1, 'discovery fetched once')

  clock.advance(61_000)
  await signedInUser(app, 'email=mallory%40acme.test')
  t.same(resolver.calls, [{ domain: 'acme.test' }, { domain: 'acme.test' }], 'resolved again after cacheTtl')
  t.equal(op.calls(discovery).length, 1, 'the same provider object keeps its instance and its discovery')

  // The admin changed the connection: resolve now builds a new provider object.
  resolver.table.set('acme', opConnection(op, 'acme'))
  clock.advance(61_000)
  await signedInUser(app, 'email=mallory%40acme.test')
  t.equal(op.calls(discovery).length, 2, 'a new provider object gets a new instance')
})

test('concurrent logins for a connection not yet cached resolve it once', async (t) => {
  const op = await startMaliciousOp(t)
  const resolver = mapResolver([opConnection(op, 'acme')])
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const app = await connectionsApp(t, async (by) => { await gate; return resolver.resolve(by) })
  const logins = Array.from({ length: 10 }, () => app.inject({ url: '/auth/login?email=mallory%40acme.test', headers: json }))
  await new Promise(resolve => setTimeout(resolve, 20))
  release()
  const answers = await Promise.all(logins)
  t.same(answers.map(answer => answer.statusCode), Array(10).fill(302))
  t.equal(resolver.calls.length, 1, 'one resolve call')
  t.equal(op.calls(discovery).length, 1, 'one discovery')
})

test('live instances are bounded: the least recently used connection is closed first, and comes back when used again', async (t) => {
  const op = await startMaliciousOp(t)
  const events: string[] = []
  const list = ['a', 'b', 'c'].map(id => {
    const connection = opConnection(op, id)
    return { ...connection, provider: recorded(connection.provider, events, id) }
  })
  const resolver = mapResolver(list)
  const app = await connectionsApp(t, resolver.resolve, { connections: { maxInstances: 2 } })
  await signedInUser(app, 'connection=a')
  await signedInUser(app, 'connection=b')
  await signedInUser(app, 'connection=a') // a is now the most recently used
  t.same(events, ['setup a', 'setup b'])
  await signedInUser(app, 'connection=c')
  t.same(events, ['setup a', 'setup b', 'close b', 'setup c'], 'b, the least recently used, is closed to make room for c')
  t.equal((await signedInUser(app, 'connection=b')).connectionId, 'b', 'b signs in again, with a new instance')
  t.same(events.slice(4), ['close a', 'setup b'])
  await app.close()
  t.same(events.slice(6).sort(), ['close b', 'close c'], 'the app closes the instances still kept')
})

test('app.sso.invalidateConnection(id) drops a connection at once, and forgets unknown domains', async (t) => {
  const op = await startMaliciousOp(t)
  const events: string[] = []
  const acme = opConnection(op, 'acme')
  const resolver = mapResolver([{ ...acme, provider: recorded(acme.provider, events, 'acme') }])
  const app = await connectionsApp(t, resolver.resolve, { connections: { cacheTtl: 3600 } })
  t.equal((await app.inject({ url: '/auth/login?email=mallory%40acme.test', headers: json })).statusCode, 302)
  t.equal((await app.inject({ url: '/auth/login?email=x%40globex.test', headers: json })).statusCode, 400, 'unknown, and remembered as such')

  resolver.table.set('acme', { ...resolver.table.get('acme')!, enabled: false })
  resolver.table.set('globex', opConnection(op, 'globex', { domains: ['globex.test'] }))
  t.equal((await app.inject({ url: '/auth/login?email=mallory%40acme.test', headers: json })).statusCode, 302, 'still cached')
  await app.sso.invalidateConnection('acme')
  t.same(events, ['setup acme', 'close acme'], 'its instance is closed')
  const disabled = await app.inject({ url: '/auth/login?email=mallory%40acme.test', headers: json })
  t.equal(disabled.statusCode, 403, 'the change applies to the next login')
  t.equal((await app.inject({ url: '/auth/login?email=x%40globex.test', headers: json })).statusCode, 302, 'the new connection is found at once')
  await t.rejects(app.sso.invalidateConnection(''), { code: 'FST_SSO_INVALID_ARGUMENT' })
})

test('resolve throwing → 503 with a coded error; its message is logged, never shown', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const app = await connectionsApp(t, async () => { throw new Error('connect ECONNREFUSED db.internal:5432') }, { fastify: { logger: { level: 'error', stream } } })
  const res = await app.inject({ url: '/auth/login?email=alice%40acme.test', headers: json })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'FST_SSO_CONNECTION_LOOKUP_FAILED')
  t.notMatch(res.body, /ECONNREFUSED/)
  t.match(lines.join(''), /ECONNREFUSED/, 'the cause is in the log')
  const page = await app.inject({ url: '/auth/login?email=alice%40acme.test', headers: { accept: 'text/html' } })
  t.equal(page.statusCode, 503)
  t.match(page.body, /could not be read; please try again/)
})

test('resolve slower than 10 s → 503, never a hang', async (t) => {
  const app = await connectionsApp(t, () => new Promise<never>(() => {}))
  const res = await app.inject({ url: '/auth/login?email=alice%40acme.test', headers: json })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { code: 'FST_SSO_CONNECTION_LOOKUP_FAILED', message: /10 seconds/ })
})

test('a malformed connection from resolve → a coded error naming the bad field, logged; the app keeps serving', async (t) => {
  const op = await startMaliciousOp(t)
  const good = opConnection(op, 'acme')
  const nested = connections({ resolve: () => null })
  const cases: Array<[string, unknown, RegExp]> = [
    ['a string', 'acme', /returned string/],
    ['no id', { ...good, id: undefined }, /`id` must be/],
    ['an id that is not URL-safe', { ...good, id: 'acme corp' }, /`id` must be/],
    ['a misspelt field', { ...good, enable: false }, /`enable` is not a connection field/],
    ['no organizationId', { ...good, organizationId: '' }, /`organizationId` must be/],
    ['domains not a list', { ...good, domains: 'acme.test' }, /`domains` must be an array/],
    ['a domain that is not one', { ...good, domains: ['*.acme.test'] }, /`domains` must hold domain names/],
    ['a domain with a trailing dot', { ...good, domains: ['acme.test.'] }, /`domains` must hold domain names/],
    ['the looked-up domain missing', { ...good, domains: ['other.test'] }, /`domains` does not include acme\.test/],
    ['no provider', { ...good, provider: { issuer: op.issuer } }, /`provider` must be a provider/],
    ['connections() inside connections()', { ...good, provider: nested }, /`provider` cannot be connections\(\)/],
    ['enabled not a boolean', { ...good, enabled: 'no' }, /`enabled` must be true, false or absent/],
    ['a provider with a wrong option', { ...good, provider: oidcProvider({ issuer: 'ftp://idp.acme.test', clientId: 'x' }) }, /oidcProvider\.issuer/]
  ]
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  let answer: unknown
  const app = await connectionsApp(t, () => answer as SsoConnection, { fastify: { logger: { level: 'error', stream } } })
  for (const [what, value, message] of cases) {
    answer = value
    const res = await app.inject({ url: '/auth/login?email=alice%40acme.test', headers: json })
    t.equal(res.statusCode, 500, what)
    t.match(res.json(), { code: 'FST_SSO_CONNECTION_INVALID', message }, what)
  }
  t.match(lines.join(''), /FST_SSO_CONNECTION_INVALID/, 'logged')
  answer = { ...good, id: 'globex' }
  const other = await app.inject({ url: '/auth/login?connection=acme', headers: json })
  t.match(other.json(), { code: 'FST_SSO_CONNECTION_INVALID', message: /`id` is not the connection asked for/ }, 'resolve answering another connection than asked')
  answer = { ...good, domains: ['ACME.test'] }
  t.equal((await app.inject({ url: '/auth/login?email=alice%40acme.test', headers: json })).statusCode, 302, 'a good answer works right after (domains are compared lower-cased)')
})

test('connections() options are checked at register', async (t) => {
  const register = async (options: unknown): Promise<void> => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(ssoPlugin, { baseUrl, session: { secret }, provider: connections(options as never) }).ready()
  }
  await t.rejects(register({}), { code: 'FST_SSO_INVALID_OPTION', message: /connections\.resolve` is required/ })
  await t.rejects(register({ resolve: () => null, cacheTtl: -1 }), { message: /connections\.cacheTtl` must be a positive whole number of seconds/ })
  await t.rejects(register({ resolve: () => null, maxInstances: 0 }), { message: /connections\.maxInstances/ })
  await t.rejects(register({ resolve: () => null, ttl: 5 }), { message: /connections\.ttl` is not a known option/ })
  await t.rejects(register('resolve'), { message: /`connections` must be an object/ })
})

test('nothing is resolved or built at start-up', async (t) => {
  const calls: ConnectionLookup[] = []
  const app = await connectionsApp(t, (by) => { calls.push(by); return null })
  t.ok(app.hasRoute({ method: 'GET', url: '/auth/callback' }))
  t.ok(app.hasRoute({ method: 'POST', url: '/auth/callback' }), 'callbacks may be posted (SAML connections)')
  t.same(calls, [])
})

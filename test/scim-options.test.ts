/**
 * The `scim` plugin's options fail `ready()` with FST_SSO_INVALID_OPTION naming what to fix, and
 * the token helpers store and compare hashes, never tokens.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import { createScimToken, hashScimToken, memoryScimRepository, scim, scimTokenVerifier, type ScimOptions } from '../src/index.ts'
import { createUser, oktaUser, scimClient } from './fixtures/scim.ts'

async function register (options: unknown) {
  const app = Fastify()
  try {
    await app.register(scim, options as ScimOptions)
    await app.ready()
  } finally {
    await app.close()
  }
}

test('wrong options fail ready() with a message that names the option', async (t) => {
  const authenticate = async () => null
  const repository = memoryScimRepository()
  const cases: Array<[unknown, RegExp]> = [
    [{ repository }, /`scim.authenticate` is required/],
    [{ authenticate: 'token', repository }, /`scim.authenticate` must be a function/],
    [{ authenticate }, /`scim.repository` is required/],
    [{ authenticate, repository: { get () {} } }, /`scim.repository` is required: memoryScimRepository\(\), or an object with get, list, create, update, delete/],
    [{ authenticate, repository, prefix: 'scim' }, /`scim.prefix` must be a path/],
    [{ authenticate, repository, bodyLimit: 0 }, /`scim.bodyLimit` must be a positive whole number/],
    [{ authenticate, repository, baseUrl: 'http://example.com' }, /`scim.baseUrl` must use https/],
    [{ authenticate, repository, onEvent: true }, /`scim.onEvent` must be a function/],
    [{ authenticate, repository, tokens: [] }, /`scim.tokens` is not a known option/]
  ]
  for (const [options, message] of cases) await t.rejects(register(options), { code: 'FST_SSO_INVALID_OPTION', message }, String(message))
})

test('scimTokenVerifier: tokens stored as SHA-256 (base64url or hex), the tenant for a match, null otherwise', async (t) => {
  const acme = createScimToken()
  const globex = createScimToken()
  t.match(acme.token, /^scim_[A-Za-z0-9_-]{43}$/)
  t.equal(acme.hash, hashScimToken(acme.token))
  t.not(acme.hash, acme.token)
  const hex = Buffer.from(globex.hash, 'base64url').toString('hex')
  const verify = scimTokenVerifier({ [acme.hash]: 'org_acme', [hex]: { organizationId: 'org_globex', directoryId: 'dir_globex' } })
  t.same(await verify(acme.token), { organizationId: 'org_acme' })
  t.same(await verify(globex.token), { organizationId: 'org_globex', directoryId: 'dir_globex' })
  t.equal(await verify(acme.hash), null, 'the stored hash is not a token')
  t.equal(await verify(`${acme.token}x`), null)
  t.equal(await verify(''), null)
})

test('scimTokenVerifier refuses a raw token where a hash belongs, without echoing it', async (t) => {
  const { token } = createScimToken()
  t.throws(() => scimTokenVerifier({ [token]: 'org_acme' }), { code: 'FST_SSO_INVALID_OPTION', message: /SHA-256 of a token/ })
  try {
    scimTokenVerifier({ [token]: 'org_acme' })
  } catch (err) {
    t.notMatch((err as Error).message, token.slice(5, 15), 'the token does not reach the message')
  }
  t.throws(() => scimTokenVerifier({ [hashScimToken(token)]: '' }), { code: 'FST_SSO_INVALID_OPTION', message: /organization id/ })
})

test('scim works without fastify-sso (a provisioning-only service): relative locations, nothing to revoke', async (t) => {
  const { token, hash } = createScimToken()
  const app = Fastify()
  await app.register(scim, { authenticate: scimTokenVerifier({ [hash]: 'org_acme' }), repository: memoryScimRepository() })
  t.teardown(() => app.close())
  const call = scimClient(app, token)
  const id = await createUser(call, oktaUser('solo@acme.test'))
  const res = await call('PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'active', value: false }] })
  t.equal(res.statusCode, 200)
  t.equal(res.json().meta.location, `/scim/v2/Users/${id}`)
  t.equal((await call('DELETE', `/Users/${id}`)).statusCode, 204)
})

test('an authenticate() that answers something else than a tenant or null is a 500 (a bug in the app), logged', async (t) => {
  const app = Fastify()
  await app.register(scim, { authenticate: async () => ({ organization: 'org_acme' }) as never, repository: memoryScimRepository() })
  t.teardown(() => app.close())
  const res = await scimClient(app, 'any')('GET', '/Users')
  t.equal(res.statusCode, 500)
  t.equal(res.json().status, '500')
})

test('the prefix option moves the endpoints; the app\'s own JSON routes are untouched by SCIM\'s parser and errors', async (t) => {
  const { token, hash } = createScimToken()
  const app = Fastify()
  app.post('/api/echo', async (request) => request.body)
  await app.register(scim, { prefix: '/provisioning/scim', authenticate: scimTokenVerifier({ [hash]: 'org_acme' }), repository: memoryScimRepository() })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/provisioning/scim/ServiceProviderConfig', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 200)
  const echo = await app.inject({ method: 'POST', url: '/api/echo', payload: { a: 1 } })
  t.same(echo.json(), { a: 1 })
  const appError = await app.inject({ method: 'POST', url: '/api/echo', headers: { 'content-type': 'application/json' }, payload: '{' })
  t.equal(appError.json().code, 'FST_ERR_CTP_INVALID_JSON_BODY', 'Fastify\'s own error for the app\'s routes')
  t.equal((await app.inject({ url: '/elsewhere' })).json().error, 'Not Found', 'the app\'s 404 is Fastify\'s, not SCIM\'s')
})

/**
 * SCIM deprovisioning across instances sharing one Redis: a user deactivated or deleted through
 * SCIM on instance B is signed out on instance A within a second, and only within the token's
 * organization.
 */
import { test } from 'tap'
import { memoryScimRepository, redisStore, scim, scimTokenVerifier } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { buildApp, unreachableIdp } from './fixtures/app.ts'
import { createUser, oktaUser, patch, scimClient, tenants } from './fixtures/scim.ts'
import { redisAvailable, redisUrl, skipReason, testPrefix, within } from './fixtures/redis.ts'

async function pair (t: Parameters<typeof buildApp>[0]) {
  const prefix = testPrefix(t)
  const storeA = redisStore({ url: redisUrl!, prefix })
  const storeB = redisStore({ url: redisUrl!, prefix })
  t.teardown(async () => { await storeA.close!(); await storeB.close!() })
  const repository = memoryScimRepository() // the app's database, shared by both instances
  const withScim = (app: import('fastify').FastifyInstance) => { app.register(scim, { authenticate: scimTokenVerifier(tenants), repository }) }
  const a = await buildApp(t, unreachableIdp, { store: storeA }, withScim)
  const b = await buildApp(t, unreachableIdp, { store: storeB }, withScim)
  return { a, b, call: scimClient(b) }
}

if (!redisAvailable()) {
  test(skipReason, { skip: true }, () => {})
} else {
  test('SCIM active:false on B signs the user out on A within a second; another organization\'s namesake stays', async (t) => {
    const { a, call } = await pair(t)
    const id = await createUser(call, oktaUser('leaver@shared.test'))
    const acme = await signIn(a, { email: 'leaver@shared.test', organizationId: 'org_acme' })
    const globex = await signIn(a, { email: 'leaver@shared.test', organizationId: 'org_globex' })
    t.equal((await call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }))).statusCode, 200)
    const elapsed = await within(1500, async () => (await a.inject({ url: '/api/me', headers: { cookie: acme } })).statusCode === 401)
    t.ok(elapsed <= 1000, `signed out on A after ${elapsed} ms`)
    t.equal((await a.inject({ url: '/api/me', headers: { cookie: globex } })).statusCode, 200)
  })

  test('SCIM DELETE on B signs the user out on A within a second', async (t) => {
    const { a, call } = await pair(t)
    const id = await createUser(call, oktaUser('gone@acme.test'))
    const cookie = await signIn(a, { email: 'gone@acme.test', organizationId: 'org_acme' })
    t.equal((await call('DELETE', `/Users/${id}`)).statusCode, 204)
    const elapsed = await within(1500, async () => (await a.inject({ url: '/api/me', headers: { cookie } })).statusCode === 401)
    t.ok(elapsed <= 1000, `signed out on A after ${elapsed} ms`)
  })
}

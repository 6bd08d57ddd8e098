/**
 * Deprovisioning through SCIM: `active: false` (PATCH in both dialects, or PUT) and DELETE end the
 * user's sessions at once, within the token's organization only; reactivation lets the user sign
 * in again; and the events are the ones `directorySync` delivers, so one handler serves both.
 */
import { test } from 'tap'
import { directorySync, memoryScimRepository, memoryStore, scim, scimTokenVerifier, type DirectorySyncEvent } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { buildApp, testClock, unreachableIdp } from './fixtures/app.ts'
import { createUser, entraUser, globex, oktaUser, patch, scimApp, scimClient, tenants } from './fixtures/scim.ts'
import { deliver, directoryUser, eventBody, webhookSecret } from './fixtures/webhook.ts'

const me = (app: import('fastify').FastifyInstance, cookie: string) => app.inject({ url: '/api/me', headers: { cookie } }).then(res => res.statusCode)

test('PATCH active false (Okta) signs the user out; the namesake in another organization stays signed in', async (t) => {
  const { app, call } = await scimApp(t)
  const id = await createUser(call, oktaUser('bob@shared.test'))
  const acmeBob = await signIn(app, { email: 'Bob@Shared.test', organizationId: 'org_acme' })
  const globexBob = await signIn(app, { email: 'bob@shared.test', organizationId: 'org_globex' })
  const acmeAlice = await signIn(app, { email: 'alice@acme.test', organizationId: 'org_acme' })
  t.equal((await call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }))).statusCode, 200)
  t.equal(await me(app, acmeBob), 401, 'signed out at once')
  t.equal(await me(app, globexBob), 200, 'another organization\'s user of the same email keeps the session')
  t.equal(await me(app, acmeAlice), 200)
})

test('PATCH "active": "False" (Entra ID) and PUT active false sign out by email and by externalId (idpId)', async (t) => {
  const { app, call } = await scimApp(t)
  const carolId = await createUser(call, entraUser('carol@acme.test'))
  const carol = await signIn(app, { email: 'carol@acme.test', organizationId: 'org_acme' })
  await call('PATCH', `/Users/${carolId}`, patch({ op: 'Replace', path: 'active', value: 'False' }))
  t.equal(await me(app, carol), 401)

  const daveId = await createUser(call, oktaUser('dave@acme.test', { externalId: 'okta-dave' }))
  const dave = await signIn(app, { email: 'dave@personal.test', idpId: 'okta-dave', organizationId: 'org_acme' })
  const globexDave = await signIn(app, { email: 'dave@globex.test', idpId: 'okta-dave', organizationId: 'org_globex' })
  t.equal((await call('PUT', `/Users/${daveId}`, oktaUser('dave@acme.test', { externalId: 'okta-dave', active: false }))).statusCode, 200)
  t.equal(await me(app, dave), 401, 'matched by idpId although the email differs')
  t.equal(await me(app, globexDave), 200, 'same idpId in another organization: untouched')
})

test('DELETE signs the user out, within the organization only; Globex deleting its own namesake signs out nobody at Acme', async (t) => {
  const { app, call } = await scimApp(t)
  const acmeId = await createUser(call, oktaUser('erin@shared.test'))
  const globexId = await createUser(call, oktaUser('erin@shared.test'), globex.token)
  const acmeErin = await signIn(app, { email: 'erin@shared.test', organizationId: 'org_acme' })
  const globexErin = await signIn(app, { email: 'erin@shared.test', organizationId: 'org_globex' })
  t.equal((await call('DELETE', `/Users/${globexId}`, undefined, { token: globex.token })).statusCode, 204)
  t.equal(await me(app, globexErin), 401)
  t.equal(await me(app, acmeErin), 200, 'the attack of creating and deleting a victim\'s namesake reaches no one outside Globex')
  t.equal((await call('DELETE', `/Users/${acmeId}`)).statusCode, 204)
  t.equal(await me(app, acmeErin), 401)
})

test('a PUT without active keeps the user deactivated; reactivation lets the user sign in again', async (t) => {
  const clock = testClock()
  const { app, call } = await scimApp(t, { now: clock.now }, { now: clock.now })
  const id = await createUser(call, oktaUser('fay@acme.test'))
  const before = await signIn(app, { email: 'fay@acme.test', organizationId: 'org_acme' })
  await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))
  const { active: _active, ...withoutActive } = oktaUser('fay@acme.test', { title: 'Engineer' })
  t.equal((await call('PUT', `/Users/${id}`, withoutActive)).json().active, false, 'omitting active does not reactivate')
  t.equal(await me(app, before), 401)
  clock.advance(1000)
  t.equal((await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: true }))).json().active, true)
  const after = await signIn(app, { email: 'fay@acme.test', organizationId: 'org_acme' })
  t.equal(await me(app, after), 200, 'a session started after the reactivation is valid')
  t.equal(await me(app, before), 401, 'the old one stays revoked')
})

test('a revocation the store cannot record fails the request (503) and stores nothing, so the client retries', async (t) => {
  const inner = memoryStore()
  let down = false
  const store = { ...inner, async publish (feed: string, entry: string, ttlMs: number) { if (down) throw new Error('store down'); return inner.publish(feed, entry, ttlMs) } }
  const { call } = await scimApp(t, {}, { store })
  const id = await createUser(call, oktaUser('gus@acme.test'))
  down = true
  const res = await call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }))
  t.equal(res.statusCode, 503)
  t.equal(res.json().status, '503')
  t.equal((await call('GET', `/Users/${id}`)).json().active, true, 'nothing stored')
  down = false
  t.equal((await call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }))).json().active, false)
})

test('one onEvent handler serves WorkOS webhooks and SCIM: the same event types and data shape', async (t) => {
  const received: DirectorySyncEvent[] = []
  const onEvent = async (event: DirectorySyncEvent) => { received.push(event) }
  const both = await buildApp(t, unreachableIdp, {}, app => {
    app.register(directorySync, { secret: webhookSecret, onEvent })
    app.register(scim, { authenticate: scimTokenVerifier(tenants), repository: memoryScimRepository(), onEvent })
  })
  const scimCall = scimClient(both)
  const id = await createUser(scimCall, oktaUser('hal@acme.test'))
  await scimCall('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { active: false } }))
  await scimCall('DELETE', `/Users/${id}`)
  await deliver(both, eventBody('dsync.user.created', directoryUser('ida@acme.test')))
  await deliver(both, eventBody('dsync.user.updated', directoryUser('ida@acme.test', { state: 'inactive', previous_attributes: { state: 'active' } })))
  await deliver(both, eventBody('dsync.user.deleted', directoryUser('ida@acme.test', { state: 'inactive' })))

  t.same(received.map(event => event.event), ['dsync.user.created', 'dsync.user.updated', 'dsync.user.deleted', 'dsync.user.created', 'dsync.user.updated', 'dsync.user.deleted'])
  const shape = (event: DirectorySyncEvent) => ({ envelope: Object.keys(event).filter(key => key !== 'context').sort(), data: Object.keys(event.data as object).sort() })
  for (let i = 0; i < 3; i++) {
    t.same(shape(received[i]!).envelope, shape(received[i + 3]!).envelope, `${received[i]!.event}: the same envelope`)
    const scimKeys = shape(received[i]!).data
    const workosKeys = shape(received[i + 3]!).data
    t.same(workosKeys.filter(key => !scimKeys.includes(key)), [], `${received[i]!.event}: every field WorkOS sends, SCIM sends too`)
  }
  t.match(received[1], { data: { object: 'directory_user', organizationId: 'org_acme', email: 'hal@acme.test', state: 'inactive', previousAttributes: { state: 'active' } } })
  t.match(received[2], { data: { state: 'inactive' }, context: { source: 'scim' } })
})

test('an onEvent that throws answers 500 (the client retries); the change is stored', async (t) => {
  let fail = true
  const { call } = await scimApp(t, { onEvent: async () => { if (fail) throw new Error('downstream queue unavailable') } })
  const res = await call('POST', '/Users', oktaUser('ivy@acme.test'))
  t.equal(res.statusCode, 500)
  t.equal(res.json().status, '500')
  t.notMatch(res.json().detail, /downstream queue/)
  fail = false
  t.equal((await call('GET', `/Users?filter=${encodeURIComponent('userName eq "ivy@acme.test"')}`)).json().totalResults, 1)
})

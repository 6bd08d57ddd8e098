import { test } from 'tap'
import { directorySync } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { buildApp, unreachableIdp } from './fixtures/app.ts'
import { deliver, directoryUser, eventBody, webhookSecret } from './fixtures/webhook.ts'

async function appWithSync (t: Parameters<typeof buildApp>[0]) {
  const events: unknown[] = []
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.register(directorySync, { secret: webhookSecret, onEvent: async (event) => { events.push(event) } })
  })
  return { app, events }
}

test('dsync.user.deleted ends the user\'s sessions: the next request is 401 / 302', async (t) => {
  const { app } = await appWithSync(t)
  const bob = await signIn(app, { email: 'Bob@Globex.test', idpId: 'okta-bob', organizationId: 'org_acme' })
  const alice = await signIn(app, { email: 'alice@acme.test', organizationId: 'org_acme' })
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: bob } })).statusCode, 200)
  const res = await deliver(app, eventBody('dsync.user.deleted', directoryUser('bob@globex.test', { state: 'inactive' })))
  t.equal(res.statusCode, 200)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: bob } })).statusCode, 401)
  t.equal((await app.inject({ url: '/dashboard', headers: { cookie: bob, accept: 'text/html' } })).statusCode, 302)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice } })).statusCode, 200, 'others keep their sessions')
})

test('a user updated to inactive is revoked (matched by idpId too); an active update is not', async (t) => {
  const { app } = await appWithSync(t)
  const carol = await signIn(app, { email: 'carol@personal.test', idpId: 'idp-carol', organizationId: 'org_acme' })
  const dave = await signIn(app, { email: 'dave@acme.test', organizationId: 'org_acme' })
  await deliver(app, eventBody('dsync.user.updated', directoryUser('dave@acme.test', { state: 'active', previous_attributes: { first_name: 'D' } })))
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: dave } })).statusCode, 200, 'an active update keeps the session')
  await deliver(app, eventBody('dsync.user.updated', directoryUser('carol@acme.test', { state: 'inactive', idp_id: 'idp-carol', previous_attributes: { state: 'active' } })))
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: carol } })).statusCode, 401, 'matched by idpId although the email differs')
})

test('attack: another organization\'s directory deletes a user with the victim\'s email and IdP id; the victim stays signed in', async (t) => {
  const { app } = await appWithSync(t)
  // Globex's admin creates, in Globex's own directory, a user with Acme's Alice's email and IdP id, then deletes it.
  const alice = await signIn(app, { email: 'alice@acme.test', idpId: 'okta-alice', organizationId: 'org_acme' })
  const globexNamesake = await signIn(app, { email: 'alice@acme.test', idpId: 'okta-alice', organizationId: 'org_globex' })
  const res = await deliver(app, eventBody('dsync.user.deleted', directoryUser('alice@acme.test', { organization_id: 'org_globex', idp_id: 'okta-alice', state: 'inactive' })))
  t.equal(res.statusCode, 200)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: alice } })).statusCode, 200, 'Acme\'s Alice keeps her session')
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: globexNamesake } })).statusCode, 401, 'the Globex user of that email is signed out')
})

test('a directory without an organization (an old WorkOS setup) revokes across the app', async (t) => {
  const { app } = await appWithSync(t)
  const erin = await signIn(app, { email: 'erin@acme.test', organizationId: 'org_acme' })
  await deliver(app, eventBody('dsync.user.deleted', directoryUser('erin@acme.test', { organization_id: null })))
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: erin } })).statusCode, 401)
})

test('without fastify-sso the webhook works and revokes nothing', async (t) => {
  const { webhookApp } = await import('./fixtures/webhook.ts')
  const { app, events } = await webhookApp(t)
  t.equal((await deliver(app, eventBody('dsync.user.deleted', directoryUser('x@acme.test')))).statusCode, 200)
  t.equal(events.length, 1)
})

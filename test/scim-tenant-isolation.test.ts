/**
 * Each token belongs to one organization: with Globex's token, Acme's users and groups do not
 * exist (404, exactly as for an id nobody has), whatever the attempt. One test per attempt.
 */
import { test, type Test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { createUser, globex, groupSchema, oktaUser, patch, scimApp } from './fixtures/scim.ts'

async function twoTenants (t: Test) {
  const scim = await scimApp(t)
  const aliceId = await createUser(scim.call, oktaUser('alice@acme.test'))
  const acmeGroup = (await scim.call('POST', '/Groups', { schemas: [groupSchema], displayName: 'Acme staff', members: [{ value: aliceId }] })).json().id as string
  const asGlobex = (method: string, url: string, body?: unknown) => scim.call(method, url, body, { token: globex.token })
  return { ...scim, aliceId, acmeGroup, asGlobex }
}

const sameAsMissing = async (t: Test, attempt: Promise<{ statusCode: number, json: () => any }>, missing: Promise<{ statusCode: number, json: () => any }>) => {
  const [a, m] = await Promise.all([attempt, missing])
  t.equal(a.statusCode, 404)
  t.same({ status: a.json().status, scimType: a.json().scimType }, { status: m.json().status, scimType: m.json().scimType }, 'answered exactly as for an id nobody has')
}

test('attack: another tenant reads a user or group by id', async (t) => {
  const { asGlobex, aliceId, acmeGroup } = await twoTenants(t)
  await sameAsMissing(t, asGlobex('GET', `/Users/${aliceId}`), asGlobex('GET', '/Users/00000000-0000-4000-8000-000000000000'))
  await sameAsMissing(t, asGlobex('GET', `/Groups/${acmeGroup}`), asGlobex('GET', '/Groups/00000000-0000-4000-8000-000000000000'))
})

test('attack: another tenant lists or filters for a user', async (t) => {
  const { asGlobex, aliceId, acmeGroup, events } = await twoTenants(t)
  for (const filter of ['userName eq "alice@acme.test"', `id eq "${aliceId}"`, 'emails.value co "acme"', 'externalId pr', 'userName sw "a"']) {
    const res = await asGlobex('GET', `/Users?filter=${encodeURIComponent(filter)}`)
    t.equal(res.statusCode, 200)
    t.equal(res.json().totalResults, 0, filter)
  }
  t.equal((await asGlobex('GET', '/Users')).json().totalResults, 0)
  t.equal((await asGlobex('GET', `/Groups?filter=${encodeURIComponent(`members.value eq "${aliceId}"`)}`)).json().totalResults, 0)
  t.equal((await asGlobex('GET', `/Groups?filter=${encodeURIComponent(`id eq "${acmeGroup}"`)}`)).json().totalResults, 0)
  t.equal(events.length, 3, 'Globex saw nothing happen')
})

test('attack: another tenant PATCHes or PUTs a user or group', async (t) => {
  const { asGlobex, call, aliceId, acmeGroup } = await twoTenants(t)
  await sameAsMissing(t, asGlobex('PATCH', `/Users/${aliceId}`, patch({ op: 'replace', value: { active: false } })), asGlobex('PATCH', '/Users/nobody', patch({ op: 'replace', value: { active: false } })))
  t.equal((await asGlobex('PUT', `/Users/${aliceId}`, oktaUser('alice@acme.test', { active: false }))).statusCode, 404)
  t.equal((await asGlobex('PATCH', `/Groups/${acmeGroup}`, patch({ op: 'remove', path: 'members' }))).statusCode, 404)
  const alice = (await call('GET', `/Users/${aliceId}`)).json()
  t.equal(alice.active, true)
  t.equal(alice.meta.version, 'W/"1"')
  t.equal((await call('GET', `/Groups/${acmeGroup}`)).json().members.length, 1)
})

test('attack: another tenant DELETEs a user or group; the user stays signed in', async (t) => {
  const { app, asGlobex, call, aliceId, acmeGroup } = await twoTenants(t)
  const session = await signIn(app, { email: 'alice@acme.test', organizationId: 'org_acme' })
  await sameAsMissing(t, asGlobex('DELETE', `/Users/${aliceId}`), asGlobex('DELETE', '/Users/nobody'))
  t.equal((await asGlobex('DELETE', `/Groups/${acmeGroup}`)).statusCode, 404)
  t.equal((await call('GET', `/Users/${aliceId}`)).statusCode, 200)
  t.equal((await call('GET', `/Groups/${acmeGroup}`)).statusCode, 200)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: session } })).statusCode, 200)
})

test('attack: another tenant adds a user of Acme to its own group', async (t) => {
  const { asGlobex, aliceId, events } = await twoTenants(t)
  const globexGroup = (await asGlobex('POST', '/Groups', { schemas: [groupSchema], displayName: 'Globex staff' })).json().id
  await sameAsMissing(t,
    asGlobex('PATCH', `/Groups/${globexGroup}`, patch({ op: 'add', path: 'members', value: [{ value: aliceId }] })),
    asGlobex('PATCH', `/Groups/${globexGroup}`, patch({ op: 'add', path: 'members', value: [{ value: 'nobody' }] })))
  await sameAsMissing(t,
    asGlobex('POST', '/Groups', { schemas: [groupSchema], displayName: 'Sneaky', members: [{ value: aliceId }] }),
    asGlobex('POST', '/Groups', { schemas: [groupSchema], displayName: 'Sneaky', members: [{ value: 'nobody' }] }))
  await sameAsMissing(t,
    asGlobex('PUT', `/Groups/${globexGroup}`, { schemas: [groupSchema], displayName: 'Globex staff', members: [{ value: aliceId }] }),
    asGlobex('PUT', `/Groups/${globexGroup}`, { schemas: [groupSchema], displayName: 'Globex staff', members: [{ value: 'nobody' }] }))
  t.equal((await asGlobex('GET', `/Groups/${globexGroup}`)).json().members, undefined, 'the group is unchanged')
  t.notOk(events.some(event => event.event === 'dsync.group.user_added' && (event.data as { group: { organizationId: string } }).group.organizationId === 'org_globex'))
  t.equal((await asGlobex('GET', '/Groups')).json().totalResults, 1, 'no group was created with a foreign member')
})

test('the same userName may exist in two organizations, each its own', async (t) => {
  const { asGlobex, call, aliceId } = await twoTenants(t)
  const created = await asGlobex('POST', '/Users', oktaUser('alice@acme.test'))
  t.equal(created.statusCode, 201)
  t.not(created.json().id, aliceId)
  t.equal((await call('GET', '/Users')).json().totalResults, 1)
})

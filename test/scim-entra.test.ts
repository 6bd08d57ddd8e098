/**
 * Microsoft Entra ID's provisioning service, request by request as its SCIM validator and the
 * "Develop a SCIM endpoint" tutorial show them: capitalised ops (`Replace`, `Add`, `Remove`),
 * booleans as strings (`"False"`), filtered paths (`emails[type eq "work"].value`), the manager as
 * a bare id, and the group membership probe `id eq … and members.value eq …`.
 */
import { test } from 'tap'
import { createUser, enterpriseSchema, entraUser, groupSchema, patch, scimApp } from './fixtures/scim.ts'

const filter = (text: string) => encodeURIComponent(text)

test('Entra ID user cycle: probe, create, match, PATCH in Entra\'s dialect, disable with "False", delete', async (t) => {
  const { call, events } = await scimApp(t)
  const userName = 'Test_User_dfeef4c5@acme.test'

  t.equal((await call('GET', `/Users?filter=${filter(`userName eq "${userName}"`)}`)).json().totalResults, 0)
  const created = await call('POST', '/Users', entraUser(userName))
  t.equal(created.statusCode, 201)
  const user = created.json()
  t.match(user, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', enterpriseSchema], userName, externalId: 'Test_User_dfeef4c5', [enterpriseSchema]: { department: 'Engineering' } })
  t.notOk(user[enterpriseSchema].manager, 'an empty manager is unassigned')

  t.equal((await call('GET', `/Users?filter=${filter(`userName eq "${userName}"`)}`)).json().Resources[0].id, user.id)
  t.equal((await call('GET', `/Users?filter=${filter('externalId eq "Test_User_dfeef4c5"')}`)).json().Resources[0].id, user.id)
  t.equal((await call('GET', `/Users?filter=${filter('externalId eq "test_user_dfeef4c5"')}`)).json().totalResults, 0, 'externalId is case-exact')

  const manager = await createUser(call, entraUser('boss@acme.test'))
  const updated = await call('PATCH', `/Users/${user.id}`, patch(
    { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updated@acme.test' },
    { op: 'Replace', path: 'name.familyName', value: 'Updated' },
    { op: 'Add', path: `${enterpriseSchema}:employeeNumber`, value: '4711' },
    { op: 'Replace', path: `${enterpriseSchema}:manager`, value: manager },
    { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
    { op: 'Replace', path: 'displayName', value: 'Updated User' }
  ))
  t.equal(updated.statusCode, 200)
  t.match(updated.json(), {
    emails: [{ type: 'work', value: 'updated@acme.test', primary: true }],
    name: { familyName: 'Updated', givenName: 'Test_User_dfeef4c5' },
    displayName: 'Updated User',
    phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
    [enterpriseSchema]: { department: 'Engineering', employeeNumber: '4711', manager: { value: manager } }
  })

  const disabled = await call('PATCH', `/Users/${user.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }))
  t.equal(disabled.statusCode, 200)
  t.equal(disabled.json().active, false, '"False" is false')
  t.equal((await call('GET', `/Users?filter=${filter('active eq false')}`)).json().Resources[0].id, user.id)

  t.equal((await call('DELETE', `/Users/${user.id}`)).statusCode, 204)
  t.equal((await call('GET', `/Users/${user.id}`)).statusCode, 404)
  t.equal((await call('DELETE', `/Users/${user.id}`)).statusCode, 404)

  const mine = events.filter(event => (event.data as { id?: string }).id === user.id).map(event => event.event)
  t.same(mine, ['dsync.user.created', 'dsync.user.updated', 'dsync.user.updated', 'dsync.user.deleted'])
})

test('Entra ID group cycle: find, create, membership probe, Add/Remove members with value lists, rename, delete', async (t) => {
  const { call, events } = await scimApp(t)
  const alice = await createUser(call, entraUser('alice@acme.test'))
  const carol = await createUser(call, entraUser('carol@acme.test'))

  t.equal((await call('GET', `/Groups?excludedAttributes=members&filter=${filter('displayName eq "Group_1"')}`)).json().totalResults, 0)
  const created = await call('POST', '/Groups', { schemas: [groupSchema], externalId: 'ext-group-1', displayName: 'Group_1', members: [], meta: { resourceType: 'Group' } })
  t.equal(created.statusCode, 201)
  const group = created.json()
  t.equal(group.externalId, 'ext-group-1')

  const member = (user: string) => `/Groups?excludedAttributes=members&filter=${filter(`id eq "${group.id}" and members.value eq "${user}"`)}`
  t.equal((await call('GET', member(alice))).json().totalResults, 0)
  const added = await call('PATCH', `/Groups/${group.id}`, patch({ op: 'Add', path: 'members', value: [{ value: alice }, { value: carol }] }))
  t.equal(added.statusCode, 200)
  const probe = (await call('GET', member(alice))).json()
  t.equal(probe.totalResults, 1)
  t.equal(probe.Resources[0].members, undefined, 'excludedAttributes=members leaves the members out')

  const removed = await call('PATCH', `/Groups/${group.id}`, patch({ op: 'Remove', path: 'members', value: [{ value: alice }] }))
  t.same(removed.json().members, [{ value: carol }])
  t.equal((await call('GET', member(alice))).json().totalResults, 0)

  const renamed = await call('PATCH', `/Groups/${group.id}`, patch({ op: 'Replace', path: 'displayName', value: 'Group_1 renamed' }))
  t.equal(renamed.json().displayName, 'Group_1 renamed')
  const read = await call('GET', `/Groups/${group.id}?excludedAttributes=members`)
  t.same(Object.keys(read.json()).sort(), ['displayName', 'externalId', 'id', 'meta', 'schemas'])

  t.equal((await call('DELETE', `/Groups/${group.id}`)).statusCode, 204)
  t.same(events.filter(event => event.event.startsWith('dsync.group.')).map(event => event.event), [
    'dsync.group.created', 'dsync.group.user_added', 'dsync.group.user_added', 'dsync.group.user_removed', 'dsync.group.updated', 'dsync.group.deleted'
  ])
})

test('a deleted user leaves every group that listed them (dsync.group.user_removed, then dsync.user.deleted)', async (t) => {
  const { call, events } = await scimApp(t)
  const alice = await createUser(call, entraUser('alice@acme.test'))
  const carol = await createUser(call, entraUser('carol@acme.test'))
  const one = (await call('POST', '/Groups', { schemas: [groupSchema], displayName: 'One', members: [{ value: alice }, { value: carol }] })).json()
  const two = (await call('POST', '/Groups', { schemas: [groupSchema], displayName: 'Two', members: [{ value: alice }] })).json()
  events.length = 0
  t.equal((await call('DELETE', `/Users/${alice}`)).statusCode, 204)
  t.same((await call('GET', `/Groups/${one.id}`)).json().members, [{ value: carol }])
  t.equal((await call('GET', `/Groups/${two.id}`)).json().members, undefined)
  t.same(events.map(event => event.event), ['dsync.group.user_removed', 'dsync.group.user_removed', 'dsync.user.deleted'])
  t.match(events[0], { data: { user: { id: alice, email: 'alice@acme.test' } } })
})

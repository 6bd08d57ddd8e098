/**
 * Okta's SCIM 2.0 provisioning, request by request as Okta sends them (Okta's SCIM 2.0 reference):
 * the userName probe before a create, create, read, paged import, PUT for profile updates, PATCH
 * `{ "op": "replace", "value": { "active": false } }` to deactivate, and group push.
 */
import { test } from 'tap'
import { createUser, groupSchema, oktaUser, patch, scimApp, userSchema } from './fixtures/scim.ts'

const filter = (text: string) => encodeURIComponent(text)

test('Okta user lifecycle: probe, create, read, import pages, PUT, deactivate and reactivate by PATCH', async (t) => {
  const { call, events } = await scimApp(t)

  const probe = await call('GET', `/Users?filter=${filter('userName eq "dana@acme.test"')}&startIndex=1&count=100`)
  t.equal(probe.statusCode, 200)
  t.match(probe.headers['content-type'], /^application\/scim\+json/)
  t.same(probe.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] })

  const created = await call('POST', '/Users', oktaUser('dana@acme.test'))
  t.equal(created.statusCode, 201)
  const dana = created.json()
  t.match(dana, {
    schemas: [userSchema], id: String, externalId: '00udana', userName: 'dana@acme.test', active: true,
    name: { givenName: 'Dana', familyName: 'Example' }, emails: [{ primary: true, value: 'dana@acme.test', type: 'work' }],
    meta: { resourceType: 'User', created: String, lastModified: String, version: 'W/"1"' }
  })
  t.equal(dana.password, undefined, 'the password Okta sends is never stored nor returned')
  t.equal(dana.groups, undefined, 'groups is read-only on a User')
  t.equal(created.headers.location, `http://localhost:3000/scim/v2/Users/${dana.id}`)
  t.equal(dana.meta.location, created.headers.location)
  t.equal(created.headers.etag, 'W/"1"')

  const found = await call('GET', `/Users?filter=${filter('userName eq "DANA@acme.test"')}&startIndex=1&count=100`)
  t.equal(found.json().totalResults, 1, 'userName is compared case-insensitively')
  t.equal(found.json().Resources[0].id, dana.id)

  const read = await call('GET', `/Users/${dana.id}`)
  t.equal(read.statusCode, 200)
  t.same(read.json(), dana)

  for (const name of ['erin', 'frank', 'gina']) await createUser(call, oktaUser(`${name}@acme.test`))
  const page1 = (await call('GET', '/Users?startIndex=1&count=2')).json()
  const page2 = (await call('GET', '/Users?startIndex=3&count=2')).json()
  t.match(page1, { totalResults: 4, itemsPerPage: 2, startIndex: 1 })
  t.match(page2, { totalResults: 4, itemsPerPage: 2, startIndex: 3 })
  t.same([...page1.Resources, ...page2.Resources].map((user: { userName: string }) => user.userName),
    ['dana@acme.test', 'erin@acme.test', 'frank@acme.test', 'gina@acme.test'], 'pages in creation order, none twice')
  t.equal((await call('GET', '/Users?startIndex=5&count=2')).json().Resources.length, 0)

  const put = await call('PUT', `/Users/${dana.id}`, oktaUser('dana@acme.test', { id: dana.id, name: { givenName: 'Dana', familyName: 'Renamed' }, title: 'CTO' }))
  t.equal(put.statusCode, 200)
  t.match(put.json(), { name: { familyName: 'Renamed' }, title: 'CTO', meta: { version: 'W/"2"' } })

  const deactivated = await call('PATCH', `/Users/${dana.id}`, patch({ op: 'replace', value: { active: false } }))
  t.equal(deactivated.statusCode, 200)
  t.equal(deactivated.json().active, false)
  const reactivated = await call('PATCH', `/Users/${dana.id}`, patch({ op: 'replace', value: { active: true } }))
  t.equal(reactivated.json().active, true)

  const danaEvents = events.filter(event => (event.data as { id?: string }).id === dana.id)
  t.same(danaEvents.map(event => event.event), ['dsync.user.created', 'dsync.user.updated', 'dsync.user.updated', 'dsync.user.updated'])
  t.match(danaEvents[1], { data: { lastName: 'Renamed', previousAttributes: { lastName: 'Example' } } })
  t.match(danaEvents[2], { data: { state: 'inactive', previousAttributes: { state: 'active' } } })
  t.match(danaEvents[3], { data: { state: 'active', previousAttributes: { state: 'inactive' } } })
})

test('Okta group push: create, find by displayName, rename, add and remove members, delete', async (t) => {
  const { call, events } = await scimApp(t)
  const dana = await createUser(call, oktaUser('dana@acme.test'))
  const erin = await createUser(call, oktaUser('erin@acme.test'))

  t.equal((await call('GET', `/Groups?filter=${filter('displayName eq "Engineering"')}&startIndex=1&count=100`)).json().totalResults, 0)
  const created = await call('POST', '/Groups', { schemas: [groupSchema], displayName: 'Engineering', members: [] })
  t.equal(created.statusCode, 201)
  const group = created.json()
  t.match(group, { schemas: [groupSchema], id: String, displayName: 'Engineering', meta: { resourceType: 'Group' } })
  t.equal((await call('GET', `/Groups?filter=${filter('displayName eq "engineering"')}`)).json().Resources[0].id, group.id)

  // Okta repeats the group's id in its rename.
  const renamed = await call('PATCH', `/Groups/${group.id}`, patch({ op: 'replace', value: { id: group.id, displayName: 'Engineers' } }))
  t.equal(renamed.statusCode, 200)
  t.equal(renamed.json().displayName, 'Engineers')

  const added = await call('PATCH', `/Groups/${group.id}`, patch({ op: 'add', path: 'members', value: [{ value: dana, display: 'dana@acme.test' }, { value: erin, display: 'erin@acme.test' }] }))
  t.same(added.json().members.map((member: { value: string }) => member.value), [dana, erin])
  const removed = await call('PATCH', `/Groups/${group.id}`, patch({ op: 'remove', path: `members[value eq "${dana}"]` }))
  t.same(removed.json().members.map((member: { value: string }) => member.value), [erin])

  t.equal((await call('DELETE', `/Groups/${group.id}`)).statusCode, 204)
  t.equal((await call('GET', `/Groups/${group.id}`)).statusCode, 404)

  const groupEvents = events.filter(event => event.event.startsWith('dsync.group.'))
  t.same(groupEvents.map(event => event.event), [
    'dsync.group.created', 'dsync.group.updated', 'dsync.group.user_added', 'dsync.group.user_added', 'dsync.group.user_removed', 'dsync.group.deleted'
  ])
  t.match(groupEvents[1], { data: { name: 'Engineers', previousAttributes: { name: 'Engineering' } } })
  t.match(groupEvents[2], { data: { directoryId: 'org_acme', user: { id: dana, email: 'dana@acme.test', organizationId: 'org_acme' }, group: { id: group.id, name: 'Engineers' } } })
  t.match(groupEvents[4], { data: { user: { id: dana }, group: { id: group.id } } })
})

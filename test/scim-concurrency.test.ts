/**
 * Concurrent PATCHes on one record never lose an update: serialised per record in one process,
 * and guarded by the record's version across processes (the second writer re-reads and
 * re-applies). Concurrent creates of one userName: one wins, the others get 409.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { memoryScimRepository, type ScimRepository } from '../src/index.ts'
import { createUser, groupSchema, oktaUser, patch, scimApp } from './fixtures/scim.ts'

test('30 concurrent PATCHes adding members to one group: all 30 are members, version 31', async (t) => {
  const { call } = await scimApp(t)
  const users = await Promise.all(Array.from({ length: 30 }, (_, i) => createUser(call, oktaUser(`member${i}@acme.test`))))
  const group = (await call('POST', '/Groups', { schemas: [groupSchema], displayName: 'Everyone' })).json().id
  const results = await Promise.all(users.map(user => call('PATCH', `/Groups/${group}`, patch({ op: 'Add', path: 'members', value: [{ value: user }] }))))
  t.same(results.map(res => res.statusCode), users.map(() => 200))
  const stored = (await call('GET', `/Groups/${group}`)).json()
  t.same(stored.members.map((member: { value: string }) => member.value).sort(), [...users].sort())
  t.equal(stored.meta.version, 'W/"31"')
})

test('concurrent PATCHes of different attributes of one user all take effect', async (t) => {
  const { call } = await scimApp(t)
  const id = await createUser(call, oktaUser('kim@acme.test'))
  const changes = { title: 'CTO', nickName: 'K', locale: 'de-DE', timezone: 'Europe/Berlin', userType: 'Employee', preferredLanguage: 'de', profileUrl: 'https://acme.test/kim' }
  await Promise.all(Object.entries(changes).map(([path, value]) => call('PATCH', `/Users/${id}`, patch({ op: 'replace', path, value }))))
  t.match((await call('GET', `/Users/${id}`)).json(), changes)
})

test('two instances sharing a repository: concurrent PATCHes are re-applied on a version conflict, none lost', async (t) => {
  const shared = memoryScimRepository()
  // Reads that take a while, so that the two instances read the same version before either writes.
  const slow: ScimRepository = { ...shared, async get (...args) { const record = await shared.get(...args); await sleep(5); return record } }
  const a = await scimApp(t, { repository: slow })
  const b = await scimApp(t, { repository: slow })
  const users = await Promise.all(Array.from({ length: 10 }, (_, i) => createUser(a.call, oktaUser(`m${i}@acme.test`))))
  const group = (await a.call('POST', '/Groups', { schemas: [groupSchema], displayName: 'Shared' })).json().id
  const results = await Promise.all(users.map((user, i) => (i % 2 ? a : b).call('PATCH', `/Groups/${group}`, patch({ op: 'add', path: 'members', value: [{ value: user }] }))))
  const statuses = results.map(res => res.statusCode)
  t.ok(statuses.every(status => status === 200 || status === 409), `every answer is 200, or 409 after repeated conflicts (${statuses.join(',')})`)
  const stored = (await a.call('GET', `/Groups/${group}`)).json()
  const expected = users.filter((_, i) => statuses[i] === 200)
  t.same(stored.members.map((member: { value: string }) => member.value).sort(), expected.sort(), 'exactly the acknowledged members, none lost')
  t.ok(expected.length >= 8, 'conflicts are retried, not merely refused')
})

test('concurrent creates of one userName: one 201, the others 409 uniqueness', async (t) => {
  const { call } = await scimApp(t)
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => call('POST', '/Users', oktaUser(i % 2 ? 'Lee@acme.test' : 'lee@ACME.test'))))
  t.same(results.map(res => res.statusCode).sort(), [201, 409, 409, 409, 409, 409, 409, 409])
  t.equal((await call('GET', '/Users')).json().totalResults, 1)
})

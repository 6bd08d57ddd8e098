/**
 * Whatever a client sends to the SCIM endpoints, the answer is a SCIM answer below 500: random
 * requests built from real bodies mutated with hostile values (seeded, so a failure reproduces),
 * and the prototype-pollution paths that scim-patch 0.8.3 would follow (GHSA-9m6g-wc8r-q59c,
 * GHSA-2mhw-wcx5-v3xj), one test each.
 */
import { test } from 'tap'
import { createUser, entraUser, enterpriseSchema, groupSchema, oktaUser, patch, scimApp } from './fixtures/scim.ts'
import { prng } from './fixtures/prng.ts'


const nasty: unknown[] = [
  '', ' ', '"', '\\', '\u0000', '😀', 'x'.repeat(3000), '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'constructor.prototype.polluted', '__proto__.polluted', 'toString.polluted', 'emails[type eq "work"', 'emails[type eq "work"]].value',
  'members[value eq "x"].display', 'name.givenName.deeper', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  `${enterpriseSchema}:manager.value`, 'urn:x', 'userName eq', 'not (', ')', '[', ']', '()', 'and', 'or', 'True', 'False',
  0, -1, 1.5, 1e308, true, false, null, [], [[]], {}, { value: null }, [{ value: {} }], { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } }
]
const attributes = ['userName', 'name', 'name.givenName', 'emails', 'emails[type eq "work"].value', 'active', 'displayName', 'externalId', 'members', 'phoneNumbers', enterpriseSchema, `${enterpriseSchema}:department`, 'id', 'meta', 'groups', 'password', 'schemas']
const ops = ['add', 'Add', 'replace', 'Replace', 'remove', 'Remove', 'REPLACE', 'copy', '', null, 1]

test('600 random requests against every SCIM endpoint: never a 5xx, always the SCIM error schema on a refusal', async (t) => {
  const { call } = await scimApp(t, { bodyLimit: 64 * 1024 })
  const userId = await createUser(call, entraUser('fuzz@acme.test'))
  const groupId = (await call('POST', '/Groups', { schemas: [groupSchema], displayName: 'Fuzz', members: [{ value: userId }] })).json().id
  const random = prng(20261202)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const mutate = (value: Record<string, unknown>): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...value }
    for (let i = Math.floor(random() * 3); i >= 0; i--) copy[pick(attributes)] = pick(nasty)
    return copy
  }
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown) => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })

  const statuses = new Map<number, number>()
  for (let i = 0; i < 600; i++) {
    const kind = pick(['Users', 'Groups'])
    const method = pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'PATCH'])
    const real = kind === 'Users' ? userId : groupId
    // The real records are never deleted, so that most requests reach them.
    const id = method === 'DELETE' ? pick(['nobody', encodeURIComponent(String(pick(nasty))).slice(0, 90) || 'x']) : pick([real, real, real, 'nobody'])
    let url = `/${kind}${method === 'POST' || (method === 'GET' && random() < 0.5) ? '' : `/${id}`}`
    if (method === 'GET' && random() < 0.7) {
      url += `?${pick(['filter', 'startIndex', 'count', 'attributes', 'excludedAttributes', 'sortBy'])}=${encodeURIComponent(String(pick([...nasty, 'userName eq "fuzz@acme.test"', 'members.value eq "x" or displayName co "F"'])))}`
    }
    let body: unknown
    if (method === 'POST' || method === 'PUT') body = random() < 0.2 ? pick(['{', '[', 'null', '"x"', '{"a":1}{']) : mutate(kind === 'Users' ? entraUser('fuzz2@acme.test') : { displayName: 'G', members: [{ value: userId }] })
    if (method === 'PATCH') {
      body = random() < 0.1
        ? pick(['{', '{"Operations":1}', '{"Operations":[null]}', JSON.stringify({ Operations: [{ op: 'add', value: pick(nasty) }] })])
        : patch(...Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
          const op: Record<string, unknown> = { op: pick(ops) }
          if (random() < 0.8) op.path = pick([...attributes, ...nasty])
          if (random() < 0.8) op.value = random() < 0.3 ? { [pick(attributes)]: pick(nasty) } : pick(nasty)
          return op
        }))
    }
    const headers = random() < 0.1 ? { 'content-type': pick(['text/plain', 'application/xml', 'application/scim+json; charset=latin1']) } : undefined
    const res = await call(method, url, body, { headers })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode >= 500) t.fail(`${method} ${url} ${JSON.stringify(body)?.slice(0, 300)} → ${res.statusCode} ${res.body}`)
    if (res.statusCode >= 400) {
      const error = res.json()
      if (error.schemas?.[0] !== 'urn:ietf:params:scim:api:messages:2.0:Error' || error.status !== String(res.statusCode)) t.fail(`not a SCIM error: ${res.statusCode} ${res.body}`)
    }
  }
  t.same(unhandled, [])
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
  t.ok((statuses.get(200) ?? 0) + (statuses.get(201) ?? 0) > 20, `some requests succeed too: ${JSON.stringify([...statuses])}`)
})

const pollutionPaths = [
  'constructor.prototype.polluted', '__proto__.polluted', 'toString.polluted', 'hasOwnProperty.polluted',
  'urn:ietf:params:scim:schemas:extension:custom:2.0:User:constructor.prototype', 'urn:ietf:params:scim:schemas:extension:custom:2.0:User:toString.polluted',
  'name.constructor', 'emails[constructor eq "x"].value'
]

for (const path of pollutionPaths) {
  test(`attack: prototype pollution through the PATCH path ${path}`, async (t) => {
    const { call } = await scimApp(t)
    const id = await createUser(call, oktaUser('victim@acme.test'))
    for (const body of [patch({ op: 'add', path, value: { polluted: 'yes' } }), patch({ op: 'replace', path, value: 'yes' }), patch({ op: 'add', value: { [path]: 'yes' } })]) {
      const res = await call('PATCH', `/Users/${id}`, body)
      t.equal(res.statusCode, 400)
      t.equal(res.json().scimType, 'invalidPath')
    }
    t.equal(({} as Record<string, unknown>).polluted, undefined)
    t.equal((Object.prototype.toString as unknown as Record<string, unknown>).polluted, undefined)
    t.equal((await call('GET', `/Users/${id}`)).json().meta.version, 'W/"1"')
  })
}

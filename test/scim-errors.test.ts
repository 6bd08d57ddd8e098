/**
 * Every refusal is a SCIM error (`urn:ietf:params:scim:api:messages:2.0:Error`, `status` as a
 * string, `scimType` where RFC 7644 §3.12 defines one), with the right status; and the discovery
 * endpoints say what is supported.
 */
import { test, type Test } from 'tap'
import { memoryScimRepository } from '../src/index.ts'
import { createUser, errorSchema, oktaUser, patch, scimApp } from './fixtures/scim.ts'

function scimError (t: Test, res: { statusCode: number, headers: Record<string, unknown>, json: () => any }, status: number, scimType?: string) {
  t.equal(res.statusCode, status)
  t.match(res.headers['content-type'], /^application\/scim\+json/)
  const body = res.json()
  t.same(body.schemas, [errorSchema])
  t.equal(body.status, String(status), 'status is a string')
  t.equal(body.scimType, scimType)
  t.type(body.detail, 'string')
  t.notMatch(JSON.stringify(body), /at .*\.ts:\d+/, 'no stack trace')
  return body
}

test('400 invalidSyntax: malformed JSON, prototype poisoning, an empty body; invalidValue: bad values', async (t) => {
  const { call } = await scimApp(t)
  scimError(t, await call('POST', '/Users', '{"userName": "x@acme.test",'), 400, 'invalidSyntax')
  scimError(t, await call('POST', '/Users', '{"userName":"x@acme.test","__proto__":{"admin":true}}'), 400, 'invalidSyntax')
  scimError(t, await call('POST', '/Users', '{"userName":"x@acme.test","constructor":{"prototype":{"admin":true}}}'), 400, 'invalidSyntax')
  scimError(t, await call('POST', '/Users', ''), 400, 'invalidSyntax')
  scimError(t, await call('POST', '/Users', '[]'), 400, 'invalidValue')
  scimError(t, await call('POST', '/Users', { name: { givenName: 'No userName' } }), 400, 'invalidValue')
  scimError(t, await call('POST', '/Users', oktaUser('x@acme.test', { active: 'maybe' })), 400, 'invalidValue')
  scimError(t, await call('POST', '/Users', oktaUser('x@acme.test', { emails: ['not-an-object'] })), 400, 'invalidValue')
  scimError(t, await call('POST', '/Users', oktaUser('x@acme.test', { userName: 'x'.repeat(400) })), 400, 'invalidValue')
  scimError(t, await call('POST', '/Groups', { displayName: 'G', members: [{ display: 'no value' }] }), 400, 'invalidValue')
  scimError(t, await call('GET', '/Users?count=ten'), 400, 'invalidValue')
  scimError(t, await call('GET', '/Users?filter=a&filter=b'), 400, 'invalidValue')
})

test('400 invalidFilter: malformed filters and filters on attributes or operators this provider does not support', async (t) => {
  const { call } = await scimApp(t)
  for (const filter of ['userName eq', 'userName eq "unterminated', '(userName eq "a"', 'userName eq "a" junk', 'title eq "CTO"', 'userName gt "a"', 'active eq "yes"', 'userName eq 42', 'x'.repeat(3000)]) {
    const body = scimError(t, await call('GET', `/Users?filter=${encodeURIComponent(filter)}`), 400, 'invalidFilter')
    t.ok(body.detail.length < 400, 'the detail does not echo a huge filter')
  }
})

test('400 invalidPath / noTarget / mutability / invalidSyntax on PATCH', async (t) => {
  const { call } = await scimApp(t)
  const id = await createUser(call, oktaUser('dana@acme.test'))
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'nickNam', value: 'x' })), 400, 'invalidPath')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'emails[type eq "work"].nope', value: 'x' })), 400, 'invalidPath')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'emails[type eq', value: 'x' })), 400, 'invalidPath')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'urn:example:unknown:schema:attr', value: 'x' })), 400, 'invalidPath')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { 'name.nope': 'x' } })), 400, 'invalidPath')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'remove' })), 400, 'noTarget')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'id', value: 'other' })), 400, 'mutability')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'frobnicate', path: 'title', value: 'x' })), 400, 'invalidSyntax')
  scimError(t, await call('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] }), 400, 'invalidSyntax')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: 'perhaps' })), 400, 'invalidValue')
  scimError(t, await call('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'userName' })), 400, 'invalidValue')
  const unchanged = (await call('GET', `/Users/${id}`)).json()
  t.equal(unchanged.meta.version, 'W/"1"', 'no refused PATCH changed the user')
})

test('401 without a valid bearer token, with WWW-Authenticate; the body is never read', async (t) => {
  const { call } = await scimApp(t)
  for (const headers of [{} as Record<string, string>, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer' }, { authorization: 'Bearer ' }, { authorization: 'Bearer wrong-token' }, { authorization: `Bearer ${'x'.repeat(5000)}` }]) {
    const res = await call('GET', '/Users', undefined, { token: null, headers })
    scimError(t, res, 401)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="SCIM"')
  }
  scimError(t, await call('POST', '/Users', '{not json', { token: 'wrong' }), 401)
  scimError(t, await call('GET', '/ServiceProviderConfig', undefined, { token: null }), 401)
})

test('404 for an unknown id or endpoint, 409 uniqueness for a taken userName, 412 for a stale If-Match, 415, 501', async (t) => {
  const { call } = await scimApp(t)
  scimError(t, await call('GET', '/Users/no-such-id'), 404)
  scimError(t, await call('PATCH', '/Users/no-such-id', patch({ op: 'replace', path: 'title', value: 'x' })), 404)
  scimError(t, await call('GET', '/Nope'), 404)
  scimError(t, await call('GET', `/Users/${'x'.repeat(99)}`), 404)

  const dana = await createUser(call, oktaUser('dana@acme.test'))
  const erin = await createUser(call, oktaUser('erin@acme.test'))
  scimError(t, await call('POST', '/Users', oktaUser('DANA@acme.test')), 409, 'uniqueness')
  scimError(t, await call('PUT', `/Users/${erin}`, oktaUser('dana@ACME.test')), 409, 'uniqueness')
  scimError(t, await call('PATCH', `/Users/${erin}`, patch({ op: 'replace', path: 'userName', value: 'Dana@Acme.test' })), 409, 'uniqueness')
  t.equal((await call('PATCH', `/Users/${dana}`, patch({ op: 'replace', path: 'userName', value: 'Dana@Acme.test' }))).statusCode, 200, 'a user may change the case of their own userName')

  scimError(t, await call('PATCH', `/Users/${erin}`, patch({ op: 'replace', path: 'title', value: 'x' }), { headers: { 'if-match': 'W/"7"' } }), 412)
  t.equal((await call('PATCH', `/Users/${erin}`, patch({ op: 'replace', path: 'title', value: 'x' }), { headers: { 'if-match': 'W/"1"' } })).statusCode, 200)

  scimError(t, await call('POST', '/Users', 'userName=x', { headers: { 'content-type': 'text/plain' } }), 415)
  scimError(t, await call('POST', '/Bulk', { Operations: [] }), 501)
})

test('413 over the body limit', async (t) => {
  const { call } = await scimApp(t, { bodyLimit: 4096 })
  scimError(t, await call('POST', '/Users', oktaUser('big@acme.test', { title: 'x'.repeat(5000) })), 413)
  t.equal((await call('POST', '/Users', oktaUser('small@acme.test'))).statusCode, 201)
})

test('a failing repository is a 500 SCIM error without details; the cause is in the log', async (t) => {
  const repository = { ...memoryScimRepository(), async list () { throw new Error('connection to db-primary:5432 refused') } }
  const { call } = await scimApp(t, { repository })
  const body = scimError(t, await call('GET', '/Users'), 500)
  t.notMatch(body.detail, /db-primary/)
})

test('discovery: ServiceProviderConfig, ResourceTypes and Schemas say what is supported', async (t) => {
  const { call } = await scimApp(t)
  const config = (await call('GET', '/ServiceProviderConfig')).json()
  t.match(config, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 1000 },
    changePassword: { supported: false }, sort: { supported: false }, etag: { supported: true },
    authenticationSchemes: [{ type: 'oauthbearertoken' }]
  })
  const types = (await call('GET', '/ResourceTypes')).json()
  t.equal(types.totalResults, 2)
  t.match(types.Resources, [{ id: 'User', endpoint: '/Users', schemaExtensions: [{ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' }] }, { id: 'Group', endpoint: '/Groups' }])
  t.match((await call('GET', '/ResourceTypes/Group')).json(), { id: 'Group', schema: 'urn:ietf:params:scim:schemas:core:2.0:Group' })
  const schemas = (await call('GET', '/Schemas')).json()
  t.same(schemas.Resources.map((schema: { id: string }) => schema.id), [
    'urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:Group', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
  ])
  const user = (await call('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')).json()
  t.match(user.attributes.find((attribute: { name: string }) => attribute.name === 'userName'), { required: true, uniqueness: 'server', caseExact: false })
  t.match(user.attributes.find((attribute: { name: string }) => attribute.name === 'emails'), { multiValued: true, subAttributes: [{ name: 'value' }, { name: 'display' }, { name: 'type' }, { name: 'primary', type: 'boolean' }] })
})

/**
 * The SCIM benchmark measures what it says: each create is a new user (never a 409 from a
 * repeated userName), each lookup finds exactly one of the server's users, and a wrong token is
 * refused. No timing here (that is `npm run bench`'s job).
 */
import { test } from 'tap'
import { startServer } from '../bench/processes.ts'
import { variants, requestFor, scimUserName, type Variant } from '../bench/variants.ts'

test('scim: creates are new users, lookups find one user among the server\'s, and an unknown token is refused', async (t) => {
  const create = variants.find(candidate => candidate.scim === 'create')!
  const lookup = variants.find(candidate => candidate.scim === 'lookup')!
  const server = await startServer(lookup.server.script, ['--users=50']) // one server for both: the same plugin and repository
  t.teardown(() => server.stop())
  const base = `http://127.0.0.1:${server.port}`
  const build = (variant: Variant) => {
    const request = requestFor(variant, '', undefined)
    const setup = request.setupRequest as (request: object, context: object) => object
    return () => setup({ headers: {} }, {}) as unknown as { method: string, path?: string, headers: Record<string, string>, body?: string }
  }
  const nextCreate = build(create)
  const ids = new Set<string>()
  for (let i = 0; i < 3; i++) {
    const request = nextCreate()
    const res = await fetch(`${base}${create.path}`, { method: request.method, headers: request.headers, body: request.body })
    t.equal(res.status, 201, 'each create is a new user (a repeated userName would be a 409)')
    ids.add((await res.json() as { id: string }).id)
  }
  t.equal(ids.size, 3)
  const nextLookup = build(lookup)
  nextLookup()
  const request = nextLookup() // the second user of the rotation
  const found = await fetch(`${base}${request.path}`, { headers: request.headers })
  t.equal(found.status, 200)
  t.match(await found.json(), { totalResults: 1, Resources: [{ userName: scimUserName(1) }] })
  t.equal((await fetch(`${base}${request.path}`, { headers: { authorization: 'Bearer wrong' } })).status, 401)
})

/**
 * The SCIM endpoints with the memory repository, one tenant, and fastify-sso registered (so a
 * deprovisioning would revoke sessions). `--users=N` first creates N users through the
 * repository, for the lookup variant to filter among; `onEvent` counts the events.
 */
import Fastify from 'fastify'
import ssoPlugin, { hashScimToken, memoryScimRepository, scim, scimTokenVerifier, type ScimRecord } from '../../src/index.ts'
import { announce } from './ready.ts'
import { benchScimToken, benchSsoOptions } from './config.ts'
import { scimUser, scimUserName } from '../variants.ts'

const users = Number(process.argv.find(arg => arg.startsWith('--users='))?.slice('--users='.length) ?? 0)
const repository = memoryScimRepository()
const at = new Date().toISOString()
for (let n = 0; n < users; n++) {
  const attributes = JSON.parse(scimUser(n)) as Record<string, unknown>
  delete attributes.schemas
  const record: ScimRecord = { type: 'User', id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, organizationId: 'org_bench', userName: scimUserName(n), displayName: `User ${n}`, externalId: `ext-${n}`, active: true, version: 1, created: at, lastModified: at, attributes }
  await repository.create(record)
}

const app = Fastify({ logger: false })
await app.register(ssoPlugin, benchSsoOptions())
let events = 0
await app.register(scim, { authenticate: scimTokenVerifier({ [hashScimToken(benchScimToken)]: 'org_bench' }), repository, onEvent: () => { events++ } })
app.get('/events', async () => ({ events }))
await app.listen({ port: 0, host: '127.0.0.1' })
await announce(app.server, () => app.close())

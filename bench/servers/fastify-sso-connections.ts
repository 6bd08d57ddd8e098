/**
 * fastify-sso with `connections()` over a Map of many connection rows (what an app's table lookup
 * costs at best); `resolve` builds each connection's `oidcProvider`, on the OpenID Provider stub,
 * from its row. Connection `i` is `tenant-<i>` with the domain `tenant-<i>.example` (plus the
 * stub's email domain, so its users pass the domain check).
 *
 *   --issuer=URL --client-id=ID --client-secret=SECRET   the OpenID Provider stub
 *   --connections=N      connections in the Map (default 10,000)
 *   --max-instances=N    connections() maxInstances (default: the plugin's)
 *   --count-instances    count provider instances set up and closed (a Proxy around each: not for timing)
 *   --single             one oidcProvider instead of connections() (the same server otherwise: the baseline)
 *
 * `GET /__stats` answers the heap after a full garbage collection and, with --count-instances, how
 * many provider instances are alive (set up and not yet closed).
 */
import Fastify from 'fastify'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import ssoPlugin, { connections, oidcProvider, type ConnectionLookup, type SsoConnection, type SsoProvider } from '../../src/index.ts'
import { announce } from './ready.ts'
import { benchClaims } from '../profile.ts'

const flags = new Map(process.argv.slice(2).map(arg => arg.replace(/^--/, '').split('=') as [string, string]))
const count = flags.has('single') ? 0 : Number(flags.get('connections') ?? 10_000)
const maxInstances = flags.has('max-instances') ? Number(flags.get('max-instances')) : undefined
const countInstances = flags.has('count-instances')
const idp = { issuer: flags.get('issuer')!, clientId: flags.get('client-id')!, clientSecret: flags.get('client-secret')! }
const stubDomain = benchClaims.email.split('@')[1]!

// A full GC before reading the heap, set up only when asked (memory runs): reaching `gc` without a
// command-line flag takes a second V8 context, which the timed runs must not carry.
const gc = (): void => {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

let alive = 0
/** Counts the instances a provider sets up and the ones closed (the LRU's evictions). */
function counted (provider: SsoProvider): SsoProvider {
  return {
    name: provider.name,
    setup (context) {
      const instance = provider.setup(context)
      alive++
      return new Proxy(instance, {
        get (target, key) {
          if (key === 'close') return async () => { alive--; await target.close?.() }
          const value = Reflect.get(target, key, target)
          return typeof value === 'function' ? value.bind(target) : value
        }
      })
    }
  }
}

/** The app's table: plain rows, as a database would return them. */
interface Row { id: string, tenantId: string, domains: string[], issuer: string, clientId: string, clientSecret: string }
const byId = new Map<string, Row>()
const byDomain = new Map<string, Row>()
const byOrganization = new Map<string, Row>()
for (let i = 0; i < count; i++) {
  const row: Row = { id: `tenant-${i}`, tenantId: `org_tenant_${i}`, domains: [`tenant-${i}.example`, stubDomain], ...idp }
  byId.set(row.id, row)
  byDomain.set(row.domains[0]!, row)
  byOrganization.set(row.tenantId, row)
}
/** What an app's `resolve` does: find the row, build its connection. */
const resolve = (by: ConnectionLookup): SsoConnection | null => {
  const row = 'domain' in by ? byDomain.get(by.domain) : 'organization' in by ? byOrganization.get(by.organization) : byId.get(by.connection)
  if (!row) return null
  const provider = oidcProvider({ issuer: row.issuer, clientId: row.clientId, clientSecret: row.clientSecret })
  return { id: row.id, organizationId: row.tenantId, domains: row.domains, provider: countInstances ? counted(provider) : provider }
}

const app = Fastify({ logger: false })
await app.register(ssoPlugin, {
  baseUrl: 'http://localhost:3000',
  provider: flags.has('single') ? oidcProvider(idp) : connections({ resolve, ...(maxInstances ? { maxInstances } : {}) }),
  session: { secret: 'a benchmark secret of at least thirty-two characters' }
})
app.get('/protected', async (request) => ({ hello: request.user?.email }))
app.get('/__stats', async () => {
  gc()
  return { heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, alive }
})
await app.listen({ port: 0, host: '127.0.0.1' })
await announce(app.server, () => app.close())

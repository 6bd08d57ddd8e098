/**
 * `connections()` at scale: the login redirect with 10,000 connections behind a Map-backed
 * `resolve` against the same redirect of a single-provider app, and the server's memory after
 * logins across 1,000 distinct connections, bounded by `maxInstances`.
 *
 * Run alone with `node bench/connections.ts` (BENCH_WRITE=1 replaces its section of
 * bench/RESULTS.md); `npm run bench` runs it too. Both servers talk to the OpenID Provider stub
 * in this process, so the stub's work never counts against their CPU.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { startMaliciousOp, type MaliciousOp } from '../test/fixtures/malicious-op.ts'
import { cpuMicros, startServer, type ServerProcess } from './processes.ts'
import { benchClaims } from './profile.ts'
import { median } from './stats.ts'

export interface ConnectionsSettings {
  /** Connections in the app's Map. */
  connections: number
  /** Tenants whose users log in during the redirect measurement (all cached). */
  hotTenants: number
  /** Fresh pairs of server processes. */
  rounds: number
  /** Alternating measurement windows per round, for each server. */
  pairs: number
  seconds: number
  /** Distinct connections logged in through for the memory figure. */
  distinct: number
  /** `maxInstances` of the memory run. */
  maxInstances: number
}

export interface RedirectSample { rps: number, cpuUs: number }

export interface ConnectionsResult {
  settings: ConnectionsSettings
  single: RedirectSample[]
  many: RedirectSample[]
  memory: {
    /** Heap after a full GC, bytes: at start, after logins across `maxInstances` connections, after `distinct`. */
    start: number
    afterBound: number
    afterDistinct: number
    /** Provider instances alive after `distinct` logins. */
    alive: number
    /** The same `distinct` logins with room for every instance: heap, bytes, and instances alive. */
    unbounded: number
    unboundedAlive: number
  }
}

const loginPath = (tenant: number) => `/auth/login?returnTo=%2Fprotected&email=user%40tenant-${tenant}.example`

/** The stub's flags for a server (bench/servers/fastify-sso-connections.ts, also the single-provider baseline with --single). */
const idpArgs = (op: MaliciousOp) => [`--issuer=${op.issuer}`, `--client-id=${op.clientId}`, `--client-secret=${op.clientSecret}`]

/** Login redirects (302 to the IdP) for `seconds`, rotating over the hot tenants; server CPU per request. */
async function redirects (server: ServerProcess, hot: number, seconds: number): Promise<RedirectSample> {
  let next = 0
  let wrong = 0
  const before = cpuMicros(server.pid)
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: `http://127.0.0.1:${server.port}`,
      connections: 10,
      duration: seconds,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: loginPath(next++ % hot), headers: { accept: 'text/html' } }) }]
    }, (err, done) => { err ? reject(err) : resolve(done) })
    instance.on('response', (_client, status) => { if (status !== 302) wrong++ })
  })
  const used = cpuMicros(server.pid) - before
  if (wrong > 0 || result.errors > 0) throw new Error(`login redirect: ${wrong} answers other than 302, ${result.errors} errors`)
  return { rps: result.requests.total / result.duration, cpuUs: used / result.requests.total }
}

/** One complete login through a tenant's connection: /auth/login, the stub's authorize, /auth/callback. */
async function fullLogin (origin: string, op: MaliciousOp, tenant: number): Promise<void> {
  const start = await fetch(`${origin}${loginPath(tenant)}`, { redirect: 'manual', headers: { accept: 'text/html' } })
  const authorize = start.headers.get('location')
  if (start.status !== 302 || !authorize?.startsWith(op.issuer)) throw new Error(`login: ${start.status} ${await start.text()}`)
  const back = await fetch(authorize, { redirect: 'manual' })
  const callback = new URL(back.headers.get('location') ?? '')
  const cookie = start.headers.getSetCookie().map(line => line.split(';')[0]).join('; ')
  const done = await fetch(`${origin}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { accept: 'text/html', cookie } })
  if (done.status !== 302) throw new Error(`callback: ${done.status} ${await done.text()}`)
  op.requests.length = 0 // the stub records every request: keep its memory flat
}

async function loginsAcross (origin: string, op: MaliciousOp, from: number, to: number, concurrency = 4): Promise<void> {
  let next = from
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < to) await fullLogin(origin, op, next++) }))
}

async function stats (server: ServerProcess): Promise<{ heapUsed: number, alive: number }> {
  return await (await fetch(`http://127.0.0.1:${server.port}/__stats`)).json() as { heapUsed: number, alive: number }
}

export async function measureConnections (settings: ConnectionsSettings, log: (line: string) => void = () => {}): Promise<ConnectionsResult> {
  const op = await startMaliciousOp()
  op.behaviour.claims = benchClaims
  const single: RedirectSample[] = []
  const many: RedirectSample[] = []
  try {
    // Both servers run side by side and are measured in alternating windows: the machine's load
    // drifts (other processes share it), and each pair of neighbouring windows sees the same drift.
    for (let round = 1; round <= settings.rounds; round++) {
      log(`connections round ${round}/${settings.rounds}`)
      const one = await startServer('fastify-sso-connections.ts', [...idpArgs(op), '--single'])
      const many10k = await startServer('fastify-sso-connections.ts', [...idpArgs(op), `--connections=${settings.connections}`])
      try {
        for (let warm = 0; warm < 2; warm++) { // JIT, every hot connection resolved and discovered
          await redirects(one, settings.hotTenants, settings.seconds)
          await redirects(many10k, settings.hotTenants, settings.seconds)
        }
        for (let pair = 0; pair < settings.pairs; pair++) {
          const order = pair % 2 === 0 ? [one, many10k] : [many10k, one]
          for (const server of order) (server === one ? single : many).push(await redirects(server, settings.hotTenants, settings.seconds))
        }
      } finally {
        await one.stop()
        await many10k.stop()
      }
    }

    log(`connections memory: logins across ${settings.distinct} connections, maxInstances ${settings.maxInstances}`)
    const bounded = await startServer('fastify-sso-connections.ts', [...idpArgs(op), `--connections=${settings.connections}`, `--max-instances=${settings.maxInstances}`, '--count-instances'])
    let memory: ConnectionsResult['memory']
    try {
      const origin = `http://127.0.0.1:${bounded.port}`
      const start = await stats(bounded)
      await loginsAcross(origin, op, 0, settings.maxInstances)
      const afterBound = await stats(bounded)
      await loginsAcross(origin, op, settings.maxInstances, settings.distinct)
      const afterDistinct = await stats(bounded)
      memory = { start: start.heapUsed, afterBound: afterBound.heapUsed, afterDistinct: afterDistinct.heapUsed, alive: afterDistinct.alive, unbounded: 0, unboundedAlive: 0 }
    } finally {
      await bounded.stop()
    }
    const roomy = await startServer('fastify-sso-connections.ts', [...idpArgs(op), `--connections=${settings.connections}`, `--max-instances=${settings.distinct}`, '--count-instances'])
    try {
      await loginsAcross(`http://127.0.0.1:${roomy.port}`, op, 0, settings.distinct)
      const after = await stats(roomy)
      memory.unbounded = after.heapUsed
      memory.unboundedAlive = after.alive
    } finally {
      await roomy.stop()
    }
    return { settings, single, many, memory }
  } finally {
    await op.close()
  }
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`
const int = (value: number) => Math.round(value).toLocaleString('en-US')

/** The "Connections" section of bench/RESULTS.md. */
export function connectionsSection (result: ConnectionsResult): string {
  const { settings, memory } = result
  const singleCpu = median(result.single.map(s => s.cpuUs))
  const manyCpu = median(result.many.map(s => s.cpuUs))
  const singleRps = median(result.single.map(s => s.rps))
  const manyRps = median(result.many.map(s => s.rps))
  // The median of the ratios of neighbouring windows (same load), not the ratio of the medians.
  const cpuRatio = median(result.many.map((sample, i) => sample.cpuUs / result.single[i]!.cpuUs))
  const rpsRatio = median(result.many.map((sample, i) => sample.rps / result.single[i]!.rps))
  const perInstance = (memory.unbounded - memory.start) / Math.max(1, memory.unboundedAlive)
  return `## Connections

\`connections()\` with ${int(settings.connections)} connections behind a Map-backed \`resolve\` (rows, from which \`resolve\` builds each
connection's \`oidcProvider\`), against the same server with one \`oidcProvider\`, both on the OpenID Provider stub: \`GET /auth/login?email=user@tenant-<n>.example\` (302 to the IdP:
transaction cookie, state, nonce, PKCE) rotating over ${settings.hotTenants} tenants. ${settings.rounds} rounds, each with a fresh process of both servers measured in
${settings.pairs} alternating pairs of ${settings.seconds} s windows after a warm-up; medians of ${result.single.length} windows each.

| login redirect | req/s | server CPU µs/req |
|---|---:|---:|
| single provider | ${int(singleRps)} | ${singleCpu.toFixed(1)} |
| \`connections()\`, ${int(settings.connections)} connections | ${int(manyRps)} | ${manyCpu.toFixed(1)} |
| ratio (median of neighbouring windows) | **${rpsRatio.toFixed(2)}** | **${cpuRatio.toFixed(2)}** (goal ≤ 1.10: ${cpuRatio <= 1.1 ? 'met' : '**missed**'}) |

Memory (V8 heap after a full garbage collection) of the ${int(settings.connections)}-connection app, after complete logins
(login, IdP, callback: discovery and JWKS fetched by each connection's instance):

| | heap | provider instances alive |
|---|---:|---:|
| at start (the Map of ${int(settings.connections)} connection rows, nothing resolved) | ${mb(memory.start)} | 0 |
| \`maxInstances: ${settings.maxInstances}\`, after logins across ${int(settings.maxInstances)} connections | ${mb(memory.afterBound)} | ${int(Math.min(settings.maxInstances, memory.alive))} |
| \`maxInstances: ${settings.maxInstances}\`, after logins across ${int(settings.distinct)} connections | ${mb(memory.afterDistinct)} | ${int(memory.alive)} |
| \`maxInstances: ${int(settings.distinct)}\`, after logins across ${int(settings.distinct)} connections | ${mb(memory.unbounded)} | ${int(memory.unboundedAlive)} |

With the bound, ${int(settings.distinct)} connections cost what ${int(settings.maxInstances)} do (${mb(memory.afterDistinct - memory.afterBound)} apart); each live
instance holds about ${(perInstance / 1024).toFixed(0)} KB (its discovery document, key set and configuration).
`
}

const start = '<!-- bench:connections:start -->'
const end = '<!-- bench:connections:end -->'

/** The section between its markers, for RESULTS.md. */
export function markedSection (result: ConnectionsResult): string {
  return `${start}\n${connectionsSection(result)}${end}`
}

/** Replaces (or appends) the section in bench/RESULTS.md. */
export function writeSection (result: ConnectionsResult): void {
  const url = new URL('./RESULTS.md', import.meta.url)
  const text = readFileSync(url, 'utf8')
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  const updated = from >= 0 && to > from ? text.slice(0, from) + markedSection(result) + text.slice(to + end.length) : `${text.trimEnd()}\n\n${markedSection(result)}\n`
  writeFileSync(url, updated)
}

export const defaultConnectionsSettings = (quick: boolean): ConnectionsSettings => ({
  connections: 10_000,
  hotTenants: 100,
  rounds: quick ? 1 : 3,
  pairs: quick ? 2 : 6,
  seconds: quick ? 2 : 3,
  distinct: 1000,
  maxInstances: 100
})

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.env.BENCH_QUICK === '1'
  const result = await measureConnections(defaultConnectionsSettings(quick), line => process.stderr.write(`${line}\n`))
  console.log(connectionsSection(result))
  if (process.env.BENCH_WRITE === '1') {
    writeSection(result)
    process.stderr.write('wrote the Connections section of bench/RESULTS.md\n')
  }
}

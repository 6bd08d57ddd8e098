/**
 * `npm run bench`: fastify-sso against a bare Fastify route and the alternatives, in one run.
 *
 * Every variant is a server in its own process (a new one each round), loaded by autocannon from
 * this process after a warm-up; rounds interleave the variants in a new shuffled order each time,
 * and ratios compare each variant with the bare route of the same round. Then the plugin's CPU per login, the
 * session cookie sizes and `connections()` at scale (bench/connections.ts). A full run writes bench/RESULTS.md and the README's summary table.
 *
 *   BENCH_QUICK=1         one short round, nothing written (under 2 minutes)
 *   BENCH_ROUNDS, BENCH_DURATION (s), BENCH_WARMUP (s), BENCH_CONNECTIONS, BENCH_SEED
 *   BENCH_ONLY=a,b        only these variants (bare is always measured)
 *   BENCH_WRITE=0|1       write RESULTS.md and the README table (default: 1 unless quick)
 *   BENCH_CPU_PROF=<dir>  V8 CPU profiles of every server, for `--cpu-prof` analysis
 *   REDIS_URL             the Redis of the store variant (default redis://127.0.0.1:6379)
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { measure, type Sample } from './load.ts'
import { measureLogins } from './login.ts'
import { measureSamlCallbacks } from './saml-login.ts'
import { cookieSizes } from './cookie-sizes.ts'
import { defaultConnectionsSettings, markedSection, measureConnections } from './connections.ts'
import { startServer } from './processes.ts'
import { benchRedisUrl } from './servers/config.ts'
import { seededRandom, shuffle } from './stats.ts'
import { variants, type Variant } from './variants.ts'
import { cookieTable, loginLine, machineLine, samlLine, summarise, summaryTable, targets, targetTable, variantTable, type RunSettings, type VariantResult } from './report.ts'

const quick = process.env.BENCH_QUICK === '1'
const numberEnv = (name: string, fallback: number) => process.env[name] ? Number(process.env[name]) : fallback
const settings: RunSettings = {
  quick,
  rounds: numberEnv('BENCH_ROUNDS', quick ? 1 : 5),
  seconds: numberEnv('BENCH_DURATION', quick ? 3 : 8),
  warmup: numberEnv('BENCH_WARMUP', quick ? 1 : 2),
  connections: numberEnv('BENCH_CONNECTIONS', 10),
  seed: numberEnv('BENCH_SEED', Math.floor(Math.random() * 2 ** 31)),
  logins: quick ? 300 : 2000
}
const write = process.env.BENCH_WRITE ? process.env.BENCH_WRITE === '1' : !quick
const log = (line: string) => process.stderr.write(`${line}\n`)

async function redisAvailable (): Promise<boolean> {
  const client = new Redis(benchRedisUrl, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.ping() === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

const only = process.env.BENCH_ONLY?.split(',')
const notes: string[] = []
const selected: Variant[] = []
const hasRedis = await redisAvailable()
for (const variant of variants) {
  if (only && variant.id !== 'bare' && !only.includes(variant.id)) continue
  if (variant.needs === 'redis' && !hasRedis) {
    notes.push(`${variant.label}: left out, no Redis at ${benchRedisUrl} (set REDIS_URL).`)
    continue
  }
  selected.push(variant)
}

const results = new Map<string, VariantResult>(selected.map(variant => [variant.id, { variant, samples: [], ratios: [] }]))
const started = Date.now()

/** One variant once: a fresh server process, warmed up, measured, stopped. */
async function measureOnce (variant: Variant): Promise<Sample> {
  const server = await startServer(variant.server.script, variant.server.args)
  try {
    await measure(variant, server, settings.warmup, settings.connections) // JIT, caches, connections
    return await measure(variant, server, settings.seconds, settings.connections)
  } finally {
    await server.stop()
    if (server.file) rmSync(server.file, { force: true })
  }
}

// A new process per variant and round: how fast a Node process runs the same code differs from
// one process to the next (code placement, JIT decisions, up to 30 % here), so each round draws
// that luck afresh for every variant and the median sees through it.
const random = seededRandom(settings.seed)
for (let round = 1; round <= settings.rounds; round++) {
  const order = shuffle([...selected], random)
  log(`round ${round}/${settings.rounds}: ${order.map(variant => variant.id).join(', ')}`)
  const rps = new Map<string, number>()
  for (const variant of order) {
    const sample = await measureOnce(variant)
    results.get(variant.id)!.samples.push(sample)
    rps.set(variant.id, sample.rps)
  }
  for (const [id, value] of rps) results.get(id)!.ratios.push(value / rps.get('bare')!)
}

log(`logins (${settings.logins})…`)
const login = await measureLogins(settings.logins)
log(`SAML callbacks (${settings.logins})…`)
const saml = await measureSamlCallbacks(settings.logins)
log('session cookie sizes…')
const cookies = await cookieSizes(login.sessionCookie)
log('connections…')
const connectionsResult = await measureConnections(defaultConnectionsSettings(quick), log)

const summaries = [...results.values()].map(summarise)
const byId = new Map(summaries.map(summary => [summary.variant.id, summary]))
const targetList = targets(byId, login, cookies, saml)
const machine = machineLine(settings)

const report = `# Benchmark results

${machine}

Produced by \`npm run bench\` (bench/run.ts) in ${Math.round((Date.now() - started) / 1000)} s. "vs bare" is the throughput of the variant ÷ that of
the bare Fastify route in the same round (median of the rounds, and their range). Every route answers
the same small JSON body (the user's email); signed-in variants send a cookie holding the same
${'~'}400-byte profile. Server CPU is the server process's user + system time per request (from /proc),
which, unlike throughput, does not depend on how fast the load generator sharing the machine is.

## Requests

${variantTable(summaries)}
${notes.map(note => `\n- ${note}`).join('')}

## Targets

${targetTable(targetList)}

## Logins

${loginLine(login)}

${samlLine(saml)}

## Session cookie sizes

${cookieTable(cookies)}

${markedSection(connectionsResult)}
`

console.log(report)
if (write) {
  writeFileSync(new URL('./RESULTS.md', import.meta.url), report)
  const readmeUrl = new URL('../README.md', import.meta.url)
  const readme = readFileSync(readmeUrl, 'utf8')
  const start = '<!-- bench:summary:start -->'
  const end = '<!-- bench:summary:end -->'
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from >= 0 && to > from) {
    const table = `\n${machine}\n\n${summaryTable(summaries)}\n\n${targetTable(targetList)}\n`
    writeFileSync(readmeUrl, readme.slice(0, from + start.length) + table + readme.slice(to))
  }
  log('wrote bench/RESULTS.md and the README summary')
}
if (process.env.BENCH_STRICT === '1' && targetList.some(target => !target.met)) process.exitCode = 1

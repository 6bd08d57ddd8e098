/**
 * `npm run bench`: requests per second of each scenario, as a ratio to a bare Fastify route
 * measured in the same run on the same machine. Each server runs in its own process; autocannon
 * runs here. Set BENCH_DURATION (seconds, default 10) and BENCH_CONNECTIONS (default 50).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const duration = Number(process.env.BENCH_DURATION ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)

interface Scenario { name: string, server: string, path: string, withCookie: boolean, what: string, rotateCookies?: boolean }

const scenarios: Scenario[] = [
  { name: 'bare', server: 'bare', path: '/', withCookie: false, what: 'Fastify, one JSON route, no plugin' },
  { name: 'plugin, route ignores user', server: 'sso', path: '/', withCookie: true, what: 'fastify-sso registered, session cookie sent, route never reads request.user' },
  { name: 'plugin, reads request.user', server: 'sso', path: '/user', withCookie: true, what: 'unprotected route that reads request.user; a returning session (decoded-cookie cache hit)' },
  { name: 'plugin, requireUser()', server: 'sso', path: '/protected', withCookie: true, what: 'protected route, a returning session (cache hit)' },
  { name: 'requireUser(), 5k sessions', server: 'sessions-5000', path: '/protected', withCookie: true, rotateCookies: true, what: 'protected route, 5,000 distinct sessions in rotation (all fit in the decoded-cookie cache)' },
  { name: 'requireUser(), 50k sessions', server: 'sessions-50000', path: '/protected', withCookie: true, rotateCookies: true, what: 'protected route, 50,000 distinct sessions in rotation: nearly every request decrypts' },
  { name: 'requireUser(), 10k revocations', server: 'protected-10k-revocations', path: '/protected', withCookie: true, what: 'protected route with 10,000 revoked users in the revocation list' },
  { name: 'secure-session global hooks', server: 'secure-session-hooks', path: '/', withCookie: true, what: 'reference: @fastify/secure-session decrypting every request in its hooks' }
]

const cookiesFile = join(tmpdir(), `fastify-sso-bench-${process.pid}.json`)

/** CPU time (user + system, in ticks of 10 ms) the server process has used so far (Linux). */
function cpuTicks (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return Number.NaN
  }
}

async function startServer (scenario: string): Promise<{ port: number, cookie: string, pid: number, stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['bench/server.ts', scenario], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_COOKIES_FILE: cookiesFile } })
  const lines = createInterface({ input: child.stdout })
  for await (const line of lines) {
    const match = /^READY (\d+) ?(.*)$/.exec(line)
    if (match) {
      return {
        port: Number(match[1]),
        cookie: match[2] ?? '',
        pid: child.pid!,
        async stop () {
          child.kill('SIGTERM')
          await once(child, 'exit')
        }
      }
    }
  }
  throw new Error(`bench server ${scenario} did not start`)
}

/** Requests per second, and the server's CPU microseconds per request (independent of the load generator's own limits). */
async function measure (scenario: Scenario): Promise<{ rps: number, cpuUs: number }> {
  const server = await startServer(scenario.server)
  try {
    const url = `http://127.0.0.1:${server.port}${scenario.path}`
    const headers = scenario.withCookie && server.cookie ? { cookie: server.cookie } : undefined
    let requests: autocannon.Request[] | undefined
    if (scenario.rotateCookies) {
      const cookies = JSON.parse(readFileSync(cookiesFile, 'utf8')) as string[]
      let next = 0
      requests = [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, cookie: cookies[next++ % cookies.length]! } }) }]
    }
    await autocannon({ url, connections, duration: 2, headers, requests }) // warm-up (JIT)
    const before = cpuTicks(server.pid)
    const result = await autocannon({ url, connections, duration, headers, requests })
    const ticks = cpuTicks(server.pid) - before
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${scenario.name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
    return { rps: result.requests.average, cpuUs: ticks * 10_000 / result.requests.total }
  } finally {
    await server.stop()
  }
}

const results: Array<{ scenario: Scenario, rps: number, cpuUs: number }> = []
for (const scenario of scenarios) {
  process.stderr.write(`measuring ${scenario.name}…\n`)
  results.push({ scenario, ...await measure(scenario) })
}
rmSync(cookiesFile, { force: true })
const bare = results[0]!
console.log(`\nnode ${process.version}, ${connections} connections, ${duration} s per scenario\n`)
console.log('| scenario | req/s | vs bare | server CPU µs/req | vs bare | what |')
console.log('|---|---:|---:|---:|---:|---|')
for (const { scenario, rps, cpuUs } of results) {
  console.log(`| ${scenario.name} | ${Math.round(rps).toLocaleString('en')} | ${(rps / bare.rps).toFixed(2)} | ${cpuUs.toFixed(1)} | ${(bare.cpuUs / cpuUs).toFixed(2)} | ${scenario.what} |`)
}
console.log('\n"vs bare" is the throughput ratio (left) and the inverse ratio of server CPU per request (right): 1.00 costs nothing.')

/**
 * The plugin's own CPU per login: `/auth/login` then `/auth/callback` (code exchange, ID token
 * signature and claims, session cookie) in a server process, against an OpenID Provider stub in
 * the runner's process, so the OP's work never counts against the server's CPU time.
 */
import { startMaliciousOp } from '../test/fixtures/malicious-op.ts'
import { cpuMicros, startServer } from './processes.ts'
import { benchClaims } from './profile.ts'

export interface LoginResult {
  logins: number
  /** Server CPU per complete login (both requests), µs. */
  cpuUs: number
  /** Wall-clock logins per second with `concurrency` browsers. */
  perSecond: number
  concurrency: number
  /** The session cookie the last login set (`sso=…`), for the cookie-size table. */
  sessionCookie: string
}

/** `name=value` pairs of every Set-Cookie of a response, as a Cookie header. */
function cookiesOf (response: Response): string {
  return response.headers.getSetCookie().map(line => line.split(';')[0]).join('; ')
}

export async function measureLogins (logins: number, concurrency = 4): Promise<LoginResult> {
  const op = await startMaliciousOp()
  op.behaviour.claims = benchClaims
  const server = await startServer('fastify-sso.ts', [`--issuer=${op.issuer}`, `--client-id=${op.clientId}`, `--client-secret=${op.clientSecret}`])
  const origin = `http://127.0.0.1:${server.port}`
  let sessionCookie = ''

  async function login (): Promise<void> {
    const start = await fetch(`${origin}/auth/login?returnTo=%2Fprotected`, { redirect: 'manual', headers: { accept: 'text/html' } })
    const authorize = start.headers.get('location')
    if (start.status !== 302 || !authorize?.startsWith(op.issuer)) throw new Error(`login: ${start.status} ${authorize}`)
    const back = await fetch(authorize, { redirect: 'manual' })
    const callback = new URL(back.headers.get('location') ?? '')
    const done = await fetch(`${origin}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { accept: 'text/html', cookie: cookiesOf(start) } })
    if (done.status !== 302 || done.headers.get('location') !== '/protected') throw new Error(`callback: ${done.status} ${await done.text()}`)
    sessionCookie = done.headers.getSetCookie().find(line => line.startsWith('sso='))!.split(';')[0]!
    op.requests.length = 0 // the stub records every request: keep its memory flat
  }
  async function run (count: number): Promise<void> {
    let left = count
    await Promise.all(Array.from({ length: concurrency }, async () => { while (left-- > 0) await login() }))
  }

  try {
    await run(Math.min(200, logins)) // warm-up: JIT, discovery, JWKS
    const before = cpuMicros(server.pid)
    const started = performance.now()
    await run(logins)
    const seconds = (performance.now() - started) / 1000
    return { logins, cpuUs: (cpuMicros(server.pid) - before) / logins, perSecond: logins / seconds, concurrency, sessionCookie }
  } finally {
    await server.stop()
    await op.close()
  }
}

/**
 * The plugin's own CPU per SAML callback: the POST of the IdP's answer to `/auth/callback`
 * (base64 and XML parsing, the checks before the signature, node-saml's signature verification,
 * the checks on the signed assertion, the replay cache, the attribute mapping, the session cookie)
 * in a server process. The development SAML IdP signs the responses in the runner's process, so
 * its work never counts against the server's CPU time. The logins that create the pending
 * transactions (`/auth/login`: AuthnRequest, deflate, transaction cookie) are measured apart.
 *
 * Standalone: `node bench/saml-login.ts [callbacks]`.
 */
import { inflateRawSync } from 'node:zlib'
import { startDevSamlIdp } from '../src/testing/index.ts'
import { cpuMicros, startServer } from './processes.ts'

export interface SamlLoginResult {
  callbacks: number
  /** Server CPU per callback (the ACS), µs. */
  callbackCpuUs: number
  /** Server CPU per `/auth/login` (the AuthnRequest), µs. */
  loginCpuUs: number
  concurrency: number
}

interface Pending { cookie: string, relayState: string, requestId: string }

export async function measureSamlCallbacks (callbacks: number, concurrency = 4): Promise<SamlLoginResult> {
  const idp = await startDevSamlIdp({ app: { baseUrl: 'http://localhost:3000' } })
  const server = await startServer('fastify-sso-saml.ts', [`--metadata-url=${idp.metadataUrl}`])
  const origin = `http://127.0.0.1:${server.port}`

  async function login (): Promise<Pending> {
    const res = await fetch(`${origin}/auth/login?returnTo=%2Fprotected`, { redirect: 'manual' })
    const location = new URL(res.headers.get('location') ?? '')
    const request = inflateRawSync(Buffer.from(location.searchParams.get('SAMLRequest') ?? '', 'base64')).toString()
    const cookie = res.headers.getSetCookie().map(line => line.split(';')[0]).join('; ')
    return { cookie, relayState: location.searchParams.get('RelayState')!, requestId: /ID="([^"]+)"/.exec(request)![1]! }
  }
  async function callback (pending: Pending, SAMLResponse: string): Promise<void> {
    const res = await fetch(`${origin}/auth/callback`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: pending.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ SAMLResponse, RelayState: pending.relayState })
    })
    if (res.status !== 302 || res.headers.get('location') !== '/protected') throw new Error(`callback: ${res.status} ${await res.text()}`)
  }
  async function parallel<T> (items: T[], run: (item: T) => Promise<void>): Promise<void> {
    let next = 0
    await Promise.all(Array.from({ length: concurrency }, async () => { while (next < items.length) await run(items[next++]!) }))
  }
  async function round (count: number): Promise<{ loginUs: number, callbackUs: number }> {
    const pending: Pending[] = []
    let before = cpuMicros(server.pid)
    await parallel(Array.from({ length: count }), async () => { pending.push(await login()) })
    const loginUs = (cpuMicros(server.pid) - before) / count
    // Signed by the IdP here, in the runner, while the server idles.
    const answers = await Promise.all(pending.map(p => idp.loginResponse({ email: 'alice@acme.test', inResponseTo: p.requestId })))
    before = cpuMicros(server.pid)
    await parallel(pending.map((p, index) => [p, answers[index]!] as const), ([p, answer]) => callback(p, answer))
    return { loginUs, callbackUs: (cpuMicros(server.pid) - before) / count }
  }

  try {
    await round(Math.min(200, callbacks)) // warm-up: JIT, the IdP metadata
    const measured = await round(callbacks)
    return { callbacks, callbackCpuUs: measured.callbackUs, loginCpuUs: measured.loginUs, concurrency }
  } finally {
    await server.stop()
    await idp.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureSamlCallbacks(Number(process.argv[2] ?? 1000))
  console.log(`${result.callbacks} SAML callbacks: ${(result.callbackCpuUs / 1000).toFixed(2)} ms server CPU per callback; ${(result.loginCpuUs / 1000).toFixed(2)} ms per /auth/login`)
}

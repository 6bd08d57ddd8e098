/**
 * Random requests against every auth route and the guard: whatever comes in, the answer is a
 * 2xx/3xx/4xx or a 502, never another 5xx, never a hang, never an unhandled rejection.
 * Deterministic (seeded), so a failure reproduces.
 */
import { test, type Test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import type { FastifyInstance } from 'fastify'
import { directorySync, jwtProvider, memoryStore } from '../src/index.ts'
import { buildApp, devIdp, recordUnhandledRejections, unreachableIdp } from './fixtures/app.ts'
import { connectionsApp, mapResolver, startTenants } from './fixtures/tenants.ts'
import { prng } from './fixtures/prng.ts'


const nasty = [
  '', ' ', '%', '%%', '%00', '%0d%0a', '%E0%A4%A', '%ff', '\u0000', '\u202e', '😀', '"', "'", '<script>x</script>',
  '//evil.example', '/\\evil.example', 'javascript:alert(1)', '../../etc/passwd', 'a'.repeat(3000), '[]', '{}', 'null',
  '__proto__', 'constructor', 'toString', '=', '&', ';', 'http://127.0.0.1:9', 'x'.repeat(64)
]
const baseNames = ['state', 'code', 'error', 'error_description', 'iss', 'returnTo', 'email', 'login_hint', 'id_token', 'organization', 'connection', 'domain_hint', '__proto__', 'constructor']

async function fuzz (t: Test, app: FastifyInstance, seed: number, extraNames: string[] = [], extraValues: string[] = []) {
  const values = [...nasty, ...extraValues]
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  const login = await app.inject({ url: '/auth/login' })
  const txCookie = String(login.headers['set-cookie']).split(';')[0]!
  const names = [...baseNames, ...extraNames]
  const unhandled = recordUnhandledRejections(t)

  const random = prng(seed)
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!
  const encode = (value: string) => random() < 0.5 ? encodeURIComponent(value) : value.replace(/[#&\s]/g, '')
  const paths = ['/auth/login', '/auth/callback', '/auth/logout', '/auth/backchannel-logout', '/webhooks/workos-directory-sync', '/dashboard', '/api/me', '/admin', '/auth/', '/auth/callback/x']
  const methods = ['GET', 'GET', 'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']
  const counts = new Map<number, number>()
  for (let i = 0; i < 600; i++) {
    const query = Array.from({ length: Math.floor(random() * 5) }, () => `${pick(names)}=${encode(pick(values))}`).join('&')
    const headers: Record<string, string> = {}
    if (random() < 0.5) headers.accept = pick(['text/html', 'application/json', '*/*', '', 'text/html;q=0', pick(values)])
    if (random() < 0.3) headers.cookie = pick([cookie, txCookie, `${cookie}; ${txCookie}`, `sso=${encode(pick(values))}`, `sso-tx=${encode(pick(values))}`, pick(values)])
    if (random() < 0.2) headers.origin = pick(['null', 'http://localhost:3000', 'https://evil.example', pick(values)])
    if (random() < 0.2) headers['sec-fetch-site'] = pick(['same-origin', 'cross-site', 'none', pick(values)])
    if (random() < 0.1) headers['sec-fetch-mode'] = 'navigate'
    let payload: string | undefined
    const method = pick(methods)
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      headers['content-type'] = pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', pick(values)])
      payload = pick([query, '', '{"a":', JSON.stringify({ state: pick(values) }), pick(values)])
    }
    const url = `${pick(paths)}${query ? `?${query}` : ''}`
    const started = Date.now()
    const res = await app.inject({ method: method as 'GET', url, headers, payload })
    const elapsed = Date.now() - started
    counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1)
    if ((res.statusCode >= 500 && res.statusCode !== 502) || elapsed > 12_000) {
      t.fail(`${method} ${url.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)} → ${res.statusCode} in ${elapsed} ms: ${res.body.slice(0, 300)}`)
    }
    if (res.statusCode >= 400 && res.headers['content-type']?.toString().includes('text/html')) {
      if (/<script>x<\/script>/.test(res.body)) t.fail(`unescaped input in an HTML page: ${url}`)
    }
  }
  await new Promise(resolve => setTimeout(resolve, 50))
  t.same(unhandled, [], 'no unhandled rejection')
  t.comment(`status codes: ${JSON.stringify(Object.fromEntries(counts))}`)
  t.pass('600 fuzzed requests')
}

test('fuzzed requests never produce a 5xx other than 502, and never hang: OpenID Connect app with a store and directory sync', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp, { store: memoryStore() }, app => {
    app.register(directorySync, { secret: 'whsec_fuzz', onEvent: async () => {} })
  })
  await fuzz(t, app, 20261124, ['logout_token', 'RelayState'])
})

test('the same against a JWT-redirect app (GET and POST callbacks, unsolicited tokens allowed)', async (t) => {
  const app = await buildApp(t, unreachableIdp, {
    provider: jwtProvider({ loginUrl: 'https://idp.example.com/login', secret: 'a-fuzz-secret-that-is-at-least-32-bytes', algorithms: ['HS256'], stateParam: 'RelayState', returnToParam: 'redirect', allowUnsolicited: true })
  })
  await fuzz(t, app, 42, ['RelayState', 'redirect', 'id_token'])
})

test('the same against a multi-tenant app (connections() over two real OPs, a store for back-channel logout)', async (t) => {
  const { acme, globex } = await startTenants(t)
  const app = await connectionsApp(t, mapResolver([acme.connection, globex.connection]).resolve, { store: memoryStore() })
  await fuzz(t, app, 14, ['RelayState', 'logout_token', 'domain', 'email', 'connection', 'organization'], ['acme', 'globex', 'alice@acme.test', 'org_acme'])
})

import { test } from 'tap'
import Fastify from 'fastify'
import ssoPlugin, { jwtProvider, type JwtProviderOptions } from '../src/index.ts'
import { buildApp, cookiePair, json, secret, setCookie, unreachableIdp } from './fixtures/app.ts'
import { aliceClaims, jwksServer, loginUrl, rsaKey, sharedSecret, signHs256, signRs256 } from './fixtures/jwt-idp.ts'

async function jwtApp (t: Parameters<typeof buildApp>[0], options: Partial<JwtProviderOptions>) {
  return buildApp(t, unreachableIdp, { provider: jwtProvider({ loginUrl, algorithms: ['HS256'], secret: sharedSecret, ...options } as JwtProviderOptions) })
}

async function me (app: Awaited<ReturnType<typeof jwtApp>>, res: { headers: Record<string, unknown> }) {
  return (await app.inject({ url: '/api/me', headers: { cookie: cookiePair(setCookie(res.headers, 'sso')) } })).json()
}

test('/login redirects to loginUrl, keeping its query, adding only the state parameter', async (t) => {
  const app = await jwtApp(t, { stateParam: 'RelayState' })
  const res = await app.inject({ url: '/auth/login?returnTo=/reports&email=alice@acme.test' })
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, 'https://idp.example.com/jwt/login')
  t.equal(location.searchParams.get('app'), '42')
  t.match(location.searchParams.get('RelayState'), /^[\w-]{43}$/)
  t.same([...location.searchParams.keys()].sort(), ['RelayState', 'app'])
  const plain = await jwtApp(t, {})
  t.equal((await plain.inject({ url: '/auth/login' })).headers.location, loginUrl, 'without stateParam the URL is untouched')
})

test('without stateParam the browser\'s pending login is used, and its returnTo honoured', async (t) => {
  const app = await jwtApp(t, {})
  const login = await app.inject({ url: '/auth/login?returnTo=%2Freports' })
  const res = await app.inject({ url: `/auth/callback?id_token=${await signHs256(aliceClaims())}`, headers: { cookie: cookiePair(setCookie(login.headers, 'sso-tx')) } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/reports')
})

test('RS256 with a PEM, a JWK object and a KeyObject', async (t) => {
  const key = await rsaKey('k1')
  const { createPublicKey } = await import('node:crypto')
  for (const [index, publicKey] of [key.publicPem, key.publicJwk, createPublicKey(key.publicPem)].entries()) {
    const app = await jwtApp(t, { secret: undefined, publicKey, algorithms: ['RS256'], allowUnsolicited: true })
    const res = await app.inject({ url: `/auth/callback?id_token=${await signRs256(aliceClaims({ jti: `k${index}` }), key)}` })
    t.equal(res.statusCode, 302)
    t.match(await me(app, res), { id: 'alice' })
  }
})

test('JWKS: keys fetched over HTTP, a rotated key accepted after a refetch, an unknown kid refused', async (t) => {
  const first = await rsaKey('k1')
  const second = await rsaKey('k2')
  const jwks = await jwksServer(t, [first.publicJwk])
  const app = await jwtApp(t, { secret: undefined, jwksUri: jwks.url, algorithms: ['RS256'], allowUnsolicited: true })
  t.equal((await app.inject({ url: `/auth/callback?id_token=${await signRs256(aliceClaims(), first)}` })).statusCode, 302)
  jwks.state.keys = [first.publicJwk, second.publicJwk]
  t.equal((await app.inject({ url: `/auth/callback?id_token=${await signRs256(aliceClaims(), second)}` })).statusCode, 302, 'rotated key accepted')
  const stranger = await rsaKey('k3')
  const refused = await app.inject({ url: `/auth/callback?id_token=${await signRs256(aliceClaims(), stranger)}`, headers: json })
  t.equal(refused.statusCode, 401, refused.body)
  t.equal(refused.json().code, 'FST_SSO_TOKEN_REJECTED')
})

test('JWKS endpoint down: 502', async (t) => {
  const key = await rsaKey('k1')
  const jwks = await jwksServer(t, [key.publicJwk])
  jwks.state.down = true
  const app = await jwtApp(t, { secret: undefined, jwksUri: jwks.url, algorithms: ['RS256'], allowUnsolicited: true })
  const res = await app.inject({ url: `/auth/callback?id_token=${await signRs256(aliceClaims(), key)}`, headers: json })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'FST_SSO_IDP_UNAVAILABLE')
})

test('the IdP may POST the token as a form field', async (t) => {
  const app = await jwtApp(t, { stateParam: 'RelayState' })
  const login = await app.inject({ url: '/auth/login?returnTo=%2Fdashboard' })
  const state = new URL(String(login.headers.location)).searchParams.get('RelayState')!
  const res = await app.inject({
    method: 'POST',
    url: '/auth/callback',
    headers: { cookie: cookiePair(setCookie(login.headers, 'sso-tx')), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ id_token: await signHs256(aliceClaims()), RelayState: state }).toString()
  })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/dashboard')
  t.match(await me(app, res), { email: 'alice@acme.test' })
})

test('on https, a provider that accepts POST callbacks keeps its transaction cookie SameSite=None', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ssoPlugin, { baseUrl: 'https://app.example.com', provider: jwtProvider({ loginUrl, secret: sharedSecret, algorithms: ['HS256'] }), session: { secret } })
  const login = await app.inject({ url: '/auth/login' })
  t.match(setCookie(login.headers, '__Host-sso-tx'), /SameSite=None/)
  t.match(setCookie(login.headers, '__Host-sso-tx'), /Secure/)
})

test('unsolicited tokens: refused by default, accepted with allowUnsolicited (returnToParam same-origin only)', async (t) => {
  const strict = await jwtApp(t, {})
  const refused = await strict.inject({ url: `/auth/callback?id_token=${await signHs256(aliceClaims())}`, headers: json })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json().code, 'FST_SSO_TRANSACTION_MISSING')

  const open = await jwtApp(t, { allowUnsolicited: true, returnToParam: 'redirect' })
  const landed = await open.inject({ url: `/auth/callback?id_token=${await signHs256(aliceClaims({ jti: 'a' }))}&redirect=%2Freports` })
  t.equal(landed.statusCode, 302)
  t.equal(landed.headers.location, '/reports')
  const evil = await open.inject({ url: `/auth/callback?id_token=${await signHs256(aliceClaims({ jti: 'b' }))}&redirect=https%3A%2F%2Fevil.example` })
  t.equal(evil.headers.location, '/', 'a foreign redirect falls back to defaultReturnTo')
  const evil2 = await open.inject({ url: `/auth/callback?id_token=${await signHs256(aliceClaims({ jti: 'c' }))}&redirect=%2F%2Fevil.example` })
  t.equal(evil2.headers.location, '/')
})

test('claim names are configurable', async (t) => {
  const app = await jwtApp(t, { allowUnsolicited: true, claims: { id: 'uid', email: 'mail', organizationId: 'tenant', roles: 'perms' } })
  const res = await app.inject({ url: `/auth/callback?id_token=${await signHs256(aliceClaims({ uid: 'u-1', mail: 'a@b.test', tenant: 'org_b', perms: ['x'] }))}` })
  const user = await me(app, res)
  t.match(user, { id: 'u-1', email: 'a@b.test', organizationId: 'org_b', roles: ['x'] })
  for (const mapped of ['uid', 'mail', 'tenant', 'perms']) t.notOk(mapped in (user.claims ?? {}), `${mapped} is on the user, not twice in claims`)
})

test('wrong options fail ready() with a coded error', async (t) => {
  const key = await rsaKey('k1')
  const cases: Array<[Partial<JwtProviderOptions>, RegExp]> = [
    [{ algorithms: undefined }, /jwtProvider.algorithms/],
    [{ algorithms: [] }, /jwtProvider.algorithms/],
    [{ algorithms: ['none'] }, /jwtProvider.algorithms/],
    [{ algorithms: ['RS256'] }, /jwtProvider.algorithms/],
    [{ secret: 'short' }, /at least 32 bytes/],
    [{ secret: undefined }, /exactly one key/],
    [{ publicKey: key.publicPem }, /exactly one key/],
    [{ secret: undefined, publicKey: key.publicPem, algorithms: ['HS256'] }, /jwtProvider.algorithms/],
    [{ secret: undefined, publicKey: 'not a pem', algorithms: ['RS256'] }, /jwtProvider.publicKey/],
    [{ secret: undefined, jwksUri: 'http://keys.example.com/jwks', algorithms: ['RS256'] }, /jwtProvider.jwksUri/],
    [{ loginUrl: 'idp' }, /jwtProvider.loginUrl/],
    [{ maxAge: 0 }, /jwtProvider.maxAge/],
    [{ tokenParam: 'a b' }, /jwtProvider.tokenParam/],
    [{ claims: { mail: 'x' } as never }, /jwtProvider.claims.mail/],
    [{ sekret: 'x' } as never, /jwtProvider.sekret/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    app.register(ssoPlugin, { baseUrl: 'http://localhost:3000', provider: jwtProvider({ loginUrl, secret: sharedSecret, algorithms: ['HS256'], ...options } as JwtProviderOptions), session: { secret } })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_SSO_INVALID_OPTION', message }, JSON.stringify(options).slice(0, 60))
    await app.close().catch(() => {})
  }
})

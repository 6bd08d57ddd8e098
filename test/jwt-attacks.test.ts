import { test } from 'tap'
import { jwtProvider, type JwtProviderOptions } from '../src/index.ts'
import { buildApp, cookiePair, setCookie, unreachableIdp } from './fixtures/app.ts'
import { aliceClaims, loginUrl, rsaKey, sharedSecret, signHs256, signRs256, unsigned } from './fixtures/jwt-idp.ts'

async function jwtApp (t: Parameters<typeof buildApp>[0], options: Partial<JwtProviderOptions> = {}) {
  return buildApp(t, unreachableIdp, { provider: jwtProvider({ loginUrl, secret: sharedSecret, algorithms: ['HS256'], stateParam: 'RelayState', ...options } as JwtProviderOptions) })
}

/** Starts a login, then sends `token` back to the callback like the IdP would. */
async function callback (app: Awaited<ReturnType<typeof jwtApp>>, token: string, extra = '') {
  const login = await app.inject({ url: '/auth/login' })
  const state = new URL(String(login.headers.location)).searchParams.get('RelayState')
  const cookie = cookiePair(setCookie(login.headers, 'sso-tx'))
  return app.inject({ url: `/auth/callback?id_token=${encodeURIComponent(token)}&RelayState=${state}${extra}`, headers: { cookie, accept: 'application/json' } })
}

function refused (t: { equal: (...a: any[]) => void, notOk: (...a: any[]) => void }, res: Awaited<ReturnType<typeof callback>>, status: number, code: string) {
  t.equal(res.statusCode, status)
  t.equal(res.json().code, code)
  t.notOk(setCookie(res.headers, 'sso'), 'no session')
}

test('the happy path: a valid HS256 token signs alice in', async (t) => {
  const app = await jwtApp(t)
  const res = await callback(app, await signHs256(aliceClaims()))
  t.equal(res.statusCode, 302)
  const me = await app.inject({ url: '/api/me', headers: { cookie: cookiePair(setCookie(res.headers, 'sso')) } })
  t.match(me.json(), { id: 'alice', email: 'alice@acme.test', firstName: 'Alice', lastName: 'Anders', name: 'Alice Anders', groups: ['admins'], provider: 'jwt' })
})

test('one test per attack, each a 401 with no session', async (t) => {
  const app = await jwtApp(t)
  const now = Math.floor(Date.now() / 1000)
  const rsa = await rsaKey('k1')
  const attacks: Array<[string, () => Promise<string> | string]> = [
    ['wrong secret', () => signHs256(aliceClaims(), 'another-secret-that-is-also-32-bytes-long!!')],
    ['alg: none', () => unsigned(aliceClaims())],
    ['RS256 token on an HS256 app', () => signRs256(aliceClaims(), rsa)],
    ['expired', () => signHs256(aliceClaims({ iat: now - 600, exp: now - 60 }))],
    ['issued in the future', () => signHs256(aliceClaims({ iat: now + 120, exp: now + 600 }))],
    ['not yet valid (nbf)', () => signHs256(aliceClaims({ nbf: now + 120 }))],
    ['missing exp', () => signHs256(aliceClaims({ exp: undefined }))],
    ['corrupted signature', async () => { const token = await signHs256(aliceClaims()); return token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA') }],
    ['garbage', () => 'not.a.jwt'],
    ['empty sub', () => signHs256(aliceClaims({ sub: '' }))],
    ['oversized token', () => signHs256(aliceClaims({ padding: 'x'.repeat(9000) }))]
  ]
  for (const [name, make] of attacks) {
    t.test(name, async (t) => refused(t, await callback(app, await make()), 401, 'FST_SSO_TOKEN_REJECTED'))
  }
})

test('wrong issuer or audience', async (t) => {
  const app = await jwtApp(t, { issuer: 'https://idp.example.com', audience: 'my-app' })
  refused(t, await callback(app, await signHs256(aliceClaims({ iss: 'https://evil.example', aud: 'my-app' }))), 401, 'FST_SSO_TOKEN_REJECTED')
  refused(t, await callback(app, await signHs256(aliceClaims({ iss: 'https://idp.example.com', aud: 'other-app' }))), 401, 'FST_SSO_TOKEN_REJECTED')
  t.equal((await callback(app, await signHs256(aliceClaims({ iss: 'https://idp.example.com', aud: 'my-app' })))).statusCode, 302)
})

test('maxAge: a token older than maxAge is refused even if not expired', async (t) => {
  const app = await jwtApp(t, { maxAge: 60 })
  const now = Math.floor(Date.now() / 1000)
  refused(t, await callback(app, await signHs256(aliceClaims({ iat: now - 300, exp: now + 300 }))), 401, 'FST_SSO_TOKEN_REJECTED')
})

test('algorithm confusion: an HS256 token "signed" with the RSA public key is refused', async (t) => {
  const rsa = await rsaKey('k1')
  const app = await jwtApp(t, { secret: undefined, publicKey: rsa.publicPem, algorithms: ['RS256'] })
  refused(t, await callback(app, await signHs256(aliceClaims(), new TextEncoder().encode(rsa.publicPem))), 401, 'FST_SSO_TOKEN_REJECTED')
  refused(t, await callback(app, unsigned(aliceClaims())), 401, 'FST_SSO_TOKEN_REJECTED')
  const other = await rsaKey('k1')
  refused(t, await callback(app, await signRs256(aliceClaims(), other)), 401, 'FST_SSO_TOKEN_REJECTED')
  t.equal((await callback(app, await signRs256(aliceClaims(), rsa))).statusCode, 302)
})

test('a token is accepted once: the replay is refused (with or without jti)', async (t) => {
  const app = await jwtApp(t)
  for (const claims of [aliceClaims({ jti: 'token-1' }), aliceClaims()]) {
    const token = await signHs256(claims)
    t.equal((await callback(app, token)).statusCode, 302)
    const replay = await callback(app, token)
    refused(t, replay, 401, 'FST_SSO_TOKEN_REJECTED')
    t.match(replay.json().message, /already used/)
  }
  const first = await signHs256(aliceClaims({ jti: 'same-jti' }))
  const second = await signHs256(aliceClaims({ jti: 'same-jti', email: 'other@acme.test' }))
  t.equal((await callback(app, first)).statusCode, 302)
  refused(t, await callback(app, second), 401, 'FST_SSO_TOKEN_REJECTED')
})

test('state mismatch: a token returned with another state is refused before it is verified', async (t) => {
  const app = await jwtApp(t)
  const login = await app.inject({ url: '/auth/login' })
  const cookie = cookiePair(setCookie(login.headers, 'sso-tx'))
  const token = await signHs256(aliceClaims())
  const res = await app.inject({ url: `/auth/callback?id_token=${token}&RelayState=forged`, headers: { cookie, accept: 'application/json' } })
  refused(t, res, 400, 'FST_SSO_STATE_MISMATCH')
  const noState = await app.inject({ url: `/auth/callback?id_token=${token}`, headers: { cookie, accept: 'application/json' } })
  refused(t, noState, 400, 'FST_SSO_STATE_MISMATCH')
})

test('a callback without a token: 400', async (t) => {
  const app = await jwtApp(t)
  const login = await app.inject({ url: '/auth/login' })
  const state = new URL(String(login.headers.location)).searchParams.get('RelayState')
  const res = await app.inject({ url: `/auth/callback?RelayState=${state}`, headers: { cookie: cookiePair(setCookie(login.headers, 'sso-tx')), accept: 'application/json' } })
  refused(t, res, 400, 'FST_SSO_INVALID_CALLBACK')
})

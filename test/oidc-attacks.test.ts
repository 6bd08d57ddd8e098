/**
 * Forged, replayed and tampered ID tokens and authorization responses, one test per attack,
 * against a hostile OpenID Provider (test/fixtures/malicious-op.ts). Each is refused with its
 * exact status and code, creates no session, consumes the transaction, and never reaches user-info
 * (the provider runs with `userinfo: true`, so a call would show).
 */
import { test } from 'tap'
import { clientId, clientSecret, createKey, defaultSub, signToken, startMaliciousOp, unsignedToken } from './fixtures/malicious-op.ts'
import { appFor, assertRefused, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'
import { baseUrl, html, json, type TapTest } from './fixtures/app.ts'
import { Browser } from './fixtures/browser.ts'

const rejected = [401, 'FST_SSO_TOKEN_REJECTED'] as const
const now = () => Math.floor(Date.now() / 1000)

async function setup (t: TapTest) {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { userinfo: true })
  return { op, app }
}

test('control: the unmodified OP signs in (so every refusal below is caused by its one change)', async (t) => {
  const { op, app } = await setup(t)
  const user = await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(user.id, defaultSub)
  t.equal(op.calls('/userinfo').length, 1)
})

test('wrong iss in the ID token → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { iss: 'https://evil.example' }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
  // A browser gets the same refusal as an escaped page.
  const page = (await attemptLogin(app, html)).callback
  t.equal(page.status, 401)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /Sign-in was rejected/)
  t.match(page.body, /FST_SSO_TOKEN_REJECTED/)
  t.match(page.body, /&quot;iss&quot;/, 'the message is escaped')
  t.match(page.body, /<a href="\/auth\/login">Sign in again<\/a>/)
})

test('wrong aud (a token minted for another client) → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { aud: 'another-client' }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('extra untrusted audience without azp → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { aud: [clientId, 'https://evil.example'] }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('several audiences with azp naming another client → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { aud: [clientId, 'another-client'], azp: 'another-client' }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('wrong nonce (a token from another login replayed) → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { nonce: 'nonce-of-another-login' }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('missing nonce → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { nonce: undefined }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('expired ID token → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { iat: now() - 400, exp: now() - 120 }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('iat more than 30 s in the future → 401 (within 30 s is clock skew, accepted)', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { iat: now() + 120 }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
  op.behaviour.claims = { iat: now() + 10 }
  await assertSignedIn(t, app, await attemptLogin(app))
})

test('iat older than 10 minutes (an old token, not yet expired) → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { iat: now() - 11 * 60, exp: now() + 3600 }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('missing sub → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { sub: undefined }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('sub longer than 255 characters → 401 (identifiers are never truncated)', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.claims = { sub: 'u'.repeat(256) }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('missing required claims (iss, aud, exp, iat) or a non-string sub → 401', async (t) => {
  for (const claims of [{ iss: undefined }, { aud: undefined }, { exp: undefined }, { iat: undefined }, { sub: 12345 }, { sub: '' }]) {
    await t.test(JSON.stringify(claims, (_key, value) => value === undefined ? null : value), async (t) => {
      const { op, app } = await setup(t)
      op.behaviour.claims = claims
      await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
    })
  }
})

test('alg: none (unsigned token) → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.idToken = (claims) => unsignedToken(claims, { alg: 'none', typ: 'JWT' })
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('HS256 signed with the client secret (algorithm confusion) → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.idToken = (claims) => signToken(claims, { alg: 'HS256', typ: 'JWT' }, new TextEncoder().encode(clientSecret))
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('RS256-pinned client receiving ES256 (a valid signature by a published key) → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.jwks = [op.keys.rs256.publicJwk, op.keys.es256.publicJwk]
  op.behaviour.signingKey = op.keys.es256
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('corrupted signature → 401', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.idToken = async (claims, header) => {
    const token = await signToken(claims, header, op.keys.rs256.privateKey)
    const flipped = token.at(-5) === 'A' ? 'B' : 'A'
    return token.slice(0, -5) + flipped + token.slice(-4)
  }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('signed by an attacker key under the published kid → 401', async (t) => {
  const { op, app } = await setup(t)
  const attacker = await createKey('RS256', op.keys.rs256.kid)
  op.behaviour.signingKey = attacker
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
})

test('unknown kid → JWKS fetched once more, then 401', async (t) => {
  const { op, app } = await setup(t)
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/jwks').length, 1, 'JWKS fetched for the first login')
  op.requests.length = 0
  op.behaviour.signingKey = await createKey('RS256', 'not-published')
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
  t.equal(op.calls('/jwks').length, 1, 'exactly one refetch for the unknown kid')
})

test('key rotation: a new kid published in the JWKS is accepted on the very next login', async (t) => {
  const { op, app } = await setup(t)
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/jwks').length, 1)
  const rotated = await createKey('RS256', 'rs-2')
  op.behaviour.jwks = [op.keys.rs256.publicJwk, rotated.publicJwk]
  op.behaviour.signingKey = rotated
  const tokenCalls = op.calls('/token').length
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/jwks').length, 2, 'the JWKS was fetched again for the new kid')
  t.equal(op.calls('/token').length, tokenCalls + 1, 'the code was sent once: the answer was validated again, not requested again')
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/jwks').length, 2, 'and cached afterwards')
})

test('key rotation also works when the OP writes its token_endpoint unnormalised', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discovery = { token_endpoint: `${op.issuer}/./token` } // fetched as …/token
  const app = await appFor(t, op)
  await assertSignedIn(t, app, await attemptLogin(app))
  const rotated = await createKey('RS256', 'rs-2')
  op.behaviour.jwks = [op.keys.rs256.publicJwk, rotated.publicJwk]
  op.behaviour.signingKey = rotated
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/jwks').length, 2)
})

test('an attacker key carried in the token header (jwk, jku, x5u) is ignored → 401', async (t) => {
  const { op, app } = await setup(t)
  const attacker = await createKey('RS256', 'attacker')
  op.behaviour.signingKey = attacker
  op.behaviour.header = { jwk: attacker.publicJwk, jku: `${op.issuer}/attacker-jwks`, x5u: `${op.issuer}/attacker.pem` }
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
  t.equal(op.calls('/attacker-jwks').length + op.calls('/attacker.pem').length, 0, 'header URLs never fetched')
})

test('RFC 9207: iss missing from the callback while the OP advertises it → 401, code never exchanged', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.callbackIss = null
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
  t.equal(op.calls('/token').length, 0, 'the code was not sent to any token endpoint')
})

test('RFC 9207: mismatched iss in the callback (mix-up attack) → 401, code never exchanged', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.callbackIss = 'https://honest-idp.example'
  await assertRefused(t, app, op, await attemptLogin(app), ...rejected)
  t.equal(op.calls('/token').length, 0, 'the code was not sent to any token endpoint')
})

test('RFC 9207: an OP that does not advertise iss may omit it', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.discovery = { authorization_response_iss_parameter_supported: undefined }
  op.behaviour.callbackIss = null
  await assertSignedIn(t, app, await attemptLogin(app))
})

test('an unsolicited callback (no login started here) → 400, the code is never exchanged', async (t) => {
  const { op, app } = await setup(t)
  const res = await app.inject({ url: `/auth/callback?code=abc&state=xyz&iss=${encodeURIComponent(op.issuer)}`, headers: json })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_SSO_TRANSACTION_MISSING')
  t.equal(op.calls('/token').length, 0)
})

test('code injection: a code issued to another login, replayed under the victim\'s state → PKCE makes the OP refuse it (400)', async (t) => {
  const { op, app } = await setup(t)
  // The attacker starts a login of their own and keeps its code instead of redeeming it.
  const attacker = new Browser(app, baseUrl)
  const attackerLogin = await attacker.request('/auth/login')
  const attackerCallback = await attacker.request(String(attackerLogin.headers.location))
  const stolenCode = new URL(String(attackerCallback.headers.location)).searchParams.get('code')!
  // The victim's login comes back with the attacker's code in place of their own.
  const browser = new Browser(app, baseUrl, json)
  const login = await browser.request('/auth/login?returnTo=%2Fdashboard')
  const authorize = await browser.request(String(login.headers.location))
  const callbackUrl = new URL(String(authorize.headers.location))
  callbackUrl.searchParams.set('code', stolenCode)
  const txCookie = browser.cookieHeader(baseUrl)
  const callback = await browser.request(callbackUrl.href)
  await assertRefused(t, app, op, { browser, login, callbackUrl: callbackUrl.href, txCookie, callback }, 400, 'FST_SSO_INVALID_GRANT')
  t.equal(op.calls('/token').length, 1, 'the OP saw the wrong PKCE verifier and refused')
})

test('IdP error=access_denied with a <script> description → 400, escaped, no session', async (t) => {
  const { op, app } = await setup(t)
  op.behaviour.authorizeError = { error: 'access_denied', error_description: '<script>alert(document.cookie)</script>' }
  const apiAttempt = await attemptLogin(app)
  await assertRefused(t, app, op, apiAttempt, 400, 'FST_SSO_IDP_ERROR')
  t.equal(op.calls('/token').length, 0)

  const page = (await attemptLogin(app, html)).callback
  t.equal(page.status, 400)
  t.match(page.headers['content-type'], /^text\/html/)
  t.notMatch(page.body, /<script/i, 'no raw <script> in the page')
  t.match(page.body, /&lt;script&gt;alert\(document\.cookie\)&lt;\/script&gt;/, 'the description is shown escaped')
  t.match(page.body, /FST_SSO_IDP_ERROR/)
  t.match(page.headers['content-security-policy'], /default-src 'none'/)
})

test('huge profile: a roles list of 5,000 entries is bounded, never a 500', async (t) => {
  const { op, app } = await setup(t)
  const roles = Array.from({ length: 5000 }, (_, i) => `role-${i}`)
  // The same list in a claim that maps onto no field stays raw, where it cannot fit.
  op.behaviour.claims = { roles, entitlements: roles }
  const attempt = await attemptLogin(app)
  // Documented bounds (src/user.ts): lists keep their first 100 short entries; raw claims that
  // would not fit in the cookie are left out; a profile still over 2 KB is a 502.
  const user = await assertSignedIn(t, app, attempt)
  t.same(user.roles, roles.slice(0, 100), 'the first 100 roles are kept')
  t.equal(user.claims, undefined, 'the raw claims were dropped')

  op.behaviour.claims = { roles: Array.from({ length: 5000 }, (_, i) => `a-rather-long-role-name-number-${i}`) }
  const tooLarge = await attemptLogin(app)
  t.equal(tooLarge.callback.status, 502)
  t.equal(JSON.parse(tooLarge.callback.body).code, 'FST_SSO_PROFILE_TOO_LARGE')
  t.notOk(tooLarge.browser.cookieHeader(baseUrl).includes('sso='), 'no session')
})

/**
 * The token endpoint misbehaving: a spent code is the user's to retry (400 with a fresh-login
 * link); anything else the IdP gets wrong is a 502, never another 5xx, and no session.
 */
import { test } from 'tap'
import { startMaliciousOp, type TokenOverride } from './fixtures/malicious-op.ts'
import { appFor, assertRefused, attemptLogin } from './fixtures/login-attempt.ts'
import { html, type TapTest } from './fixtures/app.ts'

async function refusedWith (t: TapTest, token: TokenOverride, status: number, code: string) {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { userinfo: true })
  op.behaviour.token = token
  const attempt = await attemptLogin(app)
  await assertRefused(t, app, op, attempt, status, code)
  t.equal(op.calls('/token').length, 1, 'one token request')
  return { op, app, attempt }
}

test('400 invalid_grant (code expired or already used) → 400 FST_SSO_INVALID_GRANT with a fresh-login link', async (t) => {
  const { app } = await refusedWith(t, { status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } }, 400, 'FST_SSO_INVALID_GRANT')
  const page = (await attemptLogin(app, html)).callback
  t.equal(page.status, 400)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /<a href="\/auth\/login">Sign in again<\/a>/, 'a link to start a fresh login')
  t.match(page.body, /FST_SSO_INVALID_GRANT/)
})

test('a real spent code: the OP refuses the second exchange of the same code → 400 FST_SSO_INVALID_GRANT', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  // Two pending logins in one browser; the OP hands out one code, replayed under the second state.
  const first = await attemptLogin(app)
  t.equal(first.callback.status, 302)
  const browser = first.browser
  const login = await browser.request('/auth/login?returnTo=%2Fdashboard')
  const state = new URL(String(login.headers.location)).searchParams.get('state')!
  const spent = new URL(first.callbackUrl!).searchParams.get('code')!
  const res = await browser.request(`/auth/callback?code=${spent}&state=${state}&iss=${encodeURIComponent(op.issuer)}`)
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'FST_SSO_INVALID_GRANT')
})

test('400 with another OAuth error (invalid_request) → 502', async (t) => {
  await refusedWith(t, { status: 400, body: { error: 'invalid_request' } }, 502, 'FST_SSO_IDP_UNAVAILABLE')
})

/** A message that names the fix (the client's credentials and tokenAuthMethod), not "unusable". */
function namesTheClientFix (t: TapTest, message: string) {
  t.match(message, /clientId and clientSecret/, 'points at the client credentials')
  t.match(message, /tokenAuthMethod/, 'and at tokenAuthMethod')
  t.notMatch(message, /unusable|WWW-Authenticate|challenge/i, 'not reported as a broken answer')
}

test('401 invalid_client (wrong client secret) → 502 naming the secret and tokenAuthMethod', async (t) => {
  const { attempt } = await refusedWith(t, { status: 401, body: { error: 'invalid_client' } }, 502, 'FST_SSO_IDP_UNAVAILABLE')
  namesTheClientFix(t, JSON.parse(attempt.callback.body).message)
})

test('401 with WWW-Authenticate: Basic and invalid_client (RFC 6749 §5.2) → 502 naming the secret and tokenAuthMethod', async (t) => {
  const { attempt } = await refusedWith(t, {
    status: 401,
    headers: { 'www-authenticate': 'Basic realm="glewlwyd"' },
    body: { error: 'invalid_client', error_description: 'Client authentication failed' }
  }, 502, 'FST_SSO_IDP_UNAVAILABLE')
  const message = JSON.parse(attempt.callback.body).message
  namesTheClientFix(t, message)
  t.match(message, /401 invalid_client/)
})

test('403 unauthorized_client → 502 naming the client, tokenAuthMethod and the grant', async (t) => {
  const { attempt } = await refusedWith(t, { status: 403, body: { error: 'unauthorized_client' } }, 502, 'FST_SSO_IDP_UNAVAILABLE')
  const message = JSON.parse(attempt.callback.body).message
  namesTheClientFix(t, message)
  t.match(message, /403 unauthorized_client/)
  t.match(message, /authorization code grant/)
})

test('invalid_code (a spent code, as Glewlwyd says it) → 400 FST_SSO_INVALID_GRANT like invalid_grant', async (t) => {
  for (const status of [400, 403]) {
    await t.test(`status ${status}`, t => refusedWith(t, { status, body: { error: 'invalid_code' } }, 400, 'FST_SSO_INVALID_GRANT'))
  }
})

test('500 → 502', async (t) => {
  await refusedWith(t, { status: 500, body: { error: 'server_error' } }, 502, 'FST_SSO_IDP_UNAVAILABLE')
})

test('an HTML page with status 200 (a proxy or captive portal) → 502', async (t) => {
  await refusedWith(t, { status: 200, body: '<html><body>Please sign in to the Wi-Fi</body></html>', contentType: 'text/html' }, 502, 'FST_SSO_IDP_UNAVAILABLE')
})

test('malformed JSON 200 (no access_token, not an object, not JSON) → 502', async (t) => {
  for (const token of [
    { body: { token_type: 'Bearer', id_token: 'x.y.z' } },
    { body: '[1, 2, 3]' },
    { body: '{"access_token": ' }
  ]) {
    await t.test(JSON.stringify(token.body), t => refusedWith(t, token, 502, 'FST_SSO_IDP_UNAVAILABLE'))
  }
})

test('a token response without an ID token → 401 (nothing to verify: no login)', async (t) => {
  await refusedWith(t, { body: { access_token: 'at', token_type: 'Bearer' } }, 401, 'FST_SSO_TOKEN_REJECTED')
})

test('a token endpoint that never answers → 502 after the 10 s request timeout', async (t) => {
  const started = Date.now()
  await refusedWith(t, { hang: true }, 502, 'FST_SSO_IDP_UNAVAILABLE')
  const seconds = (Date.now() - started) / 1000
  t.ok(seconds >= 9 && seconds < 14, `answered after ${seconds.toFixed(1)} s`)
})

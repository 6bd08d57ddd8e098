/**
 * No token, code, assertion, cookie or secret in anything an operator sees: real logins, failed
 * logins with codes and tokens in the URL, logouts, refreshes and revocations, then every output
 * (onAuditEvent payloads, the audit channels, the IdP trace channel, the full log at trace level)
 * is searched for every secret the flows used.
 */
import { test, type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import ssoPlugin, { jwtProvider, memoryStore, oidcProvider, requireUser, samlProvider, workosAuthKit, type AuditEvent, type SsoPluginOptions } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, devIdp, secret, stopBeforeCallback, testClock } from './fixtures/app.ts'
import { captureLog, recordAuditChannels, recordIdpTraces } from './fixtures/observe.ts'
import { apiKey, clientId, startWorkOS } from './fixtures/workos-api.ts'
import { loginAtIdp, postToAcs, samlIdp } from './fixtures/saml.ts'

const jwtSecret = 'the JWT IdP shared secret, 32+ bytes long'

/** An app whose every output is captured, and the secrets seen so far. */
async function observed (t: Test, options: Partial<SsoPluginOptions> & Pick<SsoPluginOptions, 'provider'>) {
  const log = captureLog()
  const delivered: AuditEvent[] = []
  const channel = recordAuditChannels(t)
  const traces = recordIdpTraces(t)
  const app = Fastify({ logger: log.logger })
  await app.register(ssoPlugin, { baseUrl, session: { secret }, onAuditEvent: (event) => { delivered.push(event) }, ...options })
  app.get('/api/me', { preHandler: requireUser() }, async (request) => request.user)
  t.teardown(() => app.close())
  await app.ready()
  const secrets = new Set<string>([secret])
  return {
    app,
    secrets,
    browser: new Browser(app, baseUrl, { accept: 'application/json' }),
    /** Every secret that was used, absent from every output; and the outputs had something in them. */
    async check (expectedTypes: string[], idpCalls = true) {
      await new Promise(resolve => setImmediate(resolve))
      const outputs: Record<string, string> = {
        'onAuditEvent payloads': JSON.stringify(delivered),
        'audit channel messages': JSON.stringify(channel),
        'IdP trace channel messages': traces.printed(),
        'the log at trace level': log.text()
      }
      t.same([...new Set(delivered.map(event => event.type))].sort(), [...expectedTypes].sort(), 'the flows produced these events')
      if (idpCalls) t.ok(traces.events.length > 0, 'IdP calls were traced')
      for (const value of secrets) {
        if (value.length < 8) throw new Error(`not a secret worth searching for: ${value}`)
        for (const [name, text] of Object.entries(outputs)) {
          t.notOk(text.includes(value) || text.includes(encodeURIComponent(value)), `not in ${name}: ${value.slice(0, 6)}…`)
        }
      }
    }
  }
}

/** The session and transaction cookie values the browser holds. */
function cookieValues (browser: Browser): string[] {
  return [...browser.cookies(baseUrl).values()].map(cookie => decodeURIComponent(cookie.value)).filter(value => value.length > 0)
}

test('OpenID Connect: logins, failed logins with codes in the URL, logout and revocation leave no secret in any output', async (t) => {
  const idp = await devIdp(t)
  const { app, browser, secrets, check } = await observed(t, {
    provider: oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, userinfo: true, keepIdToken: true }),
    store: memoryStore()
  })
  secrets.add(idp.clientSecret!)

  // A real login, its code, state and nonce noted on the way.
  const login = await browser.request('/auth/login?returnTo=%2Fapi%2Fme')
  secrets.add(new URL(String(login.headers.location)).searchParams.get('nonce')!)
  const { callbackPath } = await stopBeforeCallback(browser, 'alice@acme.test', login.url)
  const callback = new URL(callbackPath, baseUrl)
  secrets.add(callback.searchParams.get('code')!)
  secrets.add(callback.searchParams.get('state')!)
  for (const value of cookieValues(browser)) secrets.add(value)
  t.equal((await browser.navigate(callbackPath)).status, 200, 'signed in')
  for (const value of cookieValues(browser)) secrets.add(value)

  // The same callback again (a replayed code), and a made-up code on a fresh login's state.
  t.equal((await browser.request(callbackPath)).status, 400)
  const other = new Browser(app, baseUrl, { accept: 'application/json' })
  const second = await stopBeforeCallback(other, 'alice@acme.test')
  const forged = new URL(second.callbackPath, baseUrl)
  secrets.add(forged.searchParams.get('code')!)
  secrets.add(forged.searchParams.get('state')!)
  forged.searchParams.set('code', 'made-up-authorization-code-0123456789')
  secrets.add('made-up-authorization-code-0123456789')
  t.equal((await other.request(forged.pathname + forged.search)).status, 400, 'the IdP refuses the made-up code')
  // A token where a code belongs.
  t.equal((await browser.request('/auth/callback?id_token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.&state=x')).status, 400)
  secrets.add('eyJzdWIiOiJtYWxsb3J5In0')

  // Logout, then a revocation by the application.
  const again = await browser.navigate('/auth/login?returnTo=%2Fapi%2Fme')
  t.equal(again.status, 200, 'signed in again')
  for (const value of cookieValues(browser)) secrets.add(value)
  t.equal((await browser.request('/auth/logout', { method: 'POST' })).status, 302)
  await app.sso.revoke({ email: 'alice@acme.test' })

  await check(['login', 'login.failed', 'logout', 'session.revoked'])
})

test('WorkOS AuthKit: refresh tokens, codes and the API key stay out of every output, also when WorkOS refuses them', async (t) => {
  const clock = testClock()
  const api = await startWorkOS(t)
  api.now = clock.now
  const { browser, secrets, check } = await observed(t, { provider: workosAuthKit({ client: api.client(), clientId }), now: clock.now })
  secrets.add(apiKey)
  await browser.navigate('/auth/login?returnTo=%2Fapi%2Fme')
  const exchanged = api.calls('/user_management/authenticate')[0]!
  t.equal((await browser.request(`/auth/callback?code=${exchanged.body.code}&state=spent`)).status, 400, 'a spent code')
  for (const value of cookieValues(browser)) secrets.add(value)
  clock.advance(301_000)
  t.equal((await browser.request('/api/me')).status, 200, 'refreshed')
  for (const value of cookieValues(browser)) secrets.add(value)
  clock.advance(301_000)
  for (const session of api.sessions.values()) session.ended = true
  t.equal((await browser.request('/api/me')).status, 401, 'the refresh WorkOS refuses signs the user out')
  // The spent code, straight to the callback with a live login's state: WorkOS's error names the code.
  const start = await browser.request('/auth/login')
  const state = new URL(String(start.headers.location)).searchParams.get('state')!
  secrets.add(state)
  t.equal((await browser.request(`/auth/callback?code=${exchanged.body.code}&state=${state}`)).status, 400, 'WorkOS refuses the spent code')
  for (const call of api.requests) {
    for (const name of ['code', 'code_verifier', 'refresh_token', 'client_secret']) if (call.body[name]) secrets.add(call.body[name]!)
  }
  await check(['login', 'login.failed', 'session.refreshed', 'session.refresh_failed'])
})

test('a JWT IdP: tokens in the URL and in a form, valid, replayed and forged, stay out of every output', async (t) => {
  const { browser, secrets, check } = await observed(t, {
    provider: jwtProvider({ loginUrl: 'https://idp.example/sso', secret: jwtSecret, algorithms: ['HS256'], allowUnsolicited: true })
  })
  secrets.add(jwtSecret)
  const key = new TextEncoder().encode(jwtSecret)
  const token = await new SignJWT({ email: 'alice@acme.test' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().setExpirationTime('1m').sign(key)
  const forged = await new SignJWT({ email: 'mallory@acme.test' }).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setIssuedAt().setExpirationTime('1m').sign(new TextEncoder().encode('another secret, also 32 bytes or more'))
  for (const jwt of [token, forged]) for (const part of jwt.split('.')) secrets.add(part)
  t.equal((await browser.request(`/auth/callback?id_token=${token}`)).status, 302, 'signed in')
  t.equal((await browser.request(`/auth/callback?id_token=${token}`)).status, 401, 'replayed')
  t.equal((await browser.request('/auth/callback', { form: { id_token: forged } })).status, 401, 'forged')
  for (const value of cookieValues(browser)) secrets.add(value)
  await check(['login', 'login.failed'], false)
})

test('SAML: assertions posted to the ACS, accepted, replayed and tampered, stay out of every output', async (t) => {
  const idp = await samlIdp(t)
  const { browser, secrets, check } = await observed(t, { provider: samlProvider({ idp: { metadataUrl: idp.metadataUrl } }) })
  const posted = await loginAtIdp(browser, 'alice@acme.test', '/auth/login?returnTo=%2Fapi%2Fme')
  secrets.add(posted.SAMLResponse)
  secrets.add(posted.RelayState)
  // Pieces of the signed XML: the assertion's signature and digest values.
  for (const [, value] of posted.xml.matchAll(/<ds:(?:SignatureValue|DigestValue)>([^<]+)</g)) secrets.add(value!.replace(/\s/g, '').slice(0, 40))
  for (const value of cookieValues(browser)) secrets.add(value)
  t.equal((await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })).status, 200, 'signed in')
  for (const value of cookieValues(browser)) secrets.add(value)
  t.equal((await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })).status, 400, 'replayed')
  const tampered = Buffer.from(posted.xml.replace('alice@acme.test', 'mallory@acme.test')).toString('base64')
  secrets.add(tampered.slice(0, 60))
  t.not((await browser.request('/auth/callback', { form: { SAMLResponse: tampered, RelayState: posted.RelayState } })).status, 302, 'tampered: refused')
  await check(['login', 'login.failed'])
})

export type { FastifyInstance }

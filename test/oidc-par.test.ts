/**
 * Pushed authorization requests (RFC 9126): the login's parameters go to the IdP server to server,
 * the browser carries only `client_id` and `request_uri`. Against oidc-provider with PAR required
 * for the whole IdP (its metadata says so: automatic) or for one client (`par: true`).
 */
import { test } from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { clientJwks, oidcProvider } from '../src/index.ts'
import { startDevIdp, type DevIdpClient } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, json, loginThroughIdp, type TapTest } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor } from './fixtures/login-attempt.ts'

const secret = 'a-client-secret-for-the-par-tests'
const redirectUris = [`${baseUrl}/auth/callback`]

async function devIdp (t: TapTest, clients: DevIdpClient[], requirePushedAuthorizationRequests = false) {
  const idp = await startDevIdp({ clients, requirePushedAuthorizationRequests })
  t.teardown(() => idp.close())
  return idp
}

test('an IdP whose metadata requires PAR: the login is pushed without being asked to; the browser carries only client_id and request_uri', async (t) => {
  const idp = await devIdp(t, [{ clientId: 'app', clientSecret: secret, redirectUris }], true)
  const app = await buildApp(t, { issuer: idp.issuer, clientId: 'app', clientSecret: secret })
  const login = await app.inject({ url: '/auth/login?returnTo=%2Fdashboard&login_hint=alice%40acme.test' })
  t.equal(login.statusCode, 302)
  const location = new URL(String(login.headers.location))
  t.same([...location.searchParams.keys()].sort(), ['client_id', 'request_uri'], 'no state, nonce, PKCE challenge or hint in the URL')
  t.match(location.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/)
  const landed = await loginThroughIdp(new Browser(app, baseUrl))
  t.equal(landed.url, `${baseUrl}/dashboard`, 'signed in through the pushed request')
})

test('a client whose registration requires PAR: par: true signs in; without it the IdP refuses the login', async (t) => {
  const idp = await devIdp(t, [{ clientId: 'app', clientSecret: secret, redirectUris, requirePushedAuthorizationRequests: true }])
  const client = { issuer: idp.issuer, clientId: 'app', clientSecret: secret }
  const pushed = await buildApp(t, client, { provider: oidcProvider({ ...client, par: true }) })
  t.equal((await loginThroughIdp(new Browser(pushed, baseUrl))).url, `${baseUrl}/dashboard`)

  const plain = await buildApp(t, client)
  // oidc-provider sends the browser straight back with error=invalid_request: the app reports it.
  const refused = await new Browser(plain, baseUrl, json).navigate('/auth/login')
  t.equal(refused.status, 400)
  t.match(JSON.parse(refused.body), { code: 'FST_SSO_IDP_ERROR', message: /invalid_request: Pushed Authorization Request must be used/ })
})

test('PAR with private_key_jwt (the FAPI pairing): the pushed request authenticates with an assertion addressed to the PAR endpoint', async (t) => {
  const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const idp = await devIdp(t, [{
    clientId: 'app', tokenEndpointAuthMethod: 'private_key_jwt', jwks: await clientJwks(privateKey), redirectUris, requirePushedAuthorizationRequests: true
  }])
  const app = await buildApp(t, { issuer: idp.issuer, clientId: 'app' }, {
    provider: oidcProvider({ issuer: idp.issuer, clientId: 'app', privateKey, clientAssertionAudience: 'endpoint', par: true })
  })
  t.equal((await loginThroughIdp(new Browser(app, baseUrl))).url, `${baseUrl}/dashboard`)
})

test('the PAR endpoint refuses the client: /login answers 502 FST_SSO_IDP_UNAVAILABLE with what to check, no redirect', async (t) => {
  const idp = await devIdp(t, [{ clientId: 'app', clientSecret: secret, redirectUris }], true)
  const app = await buildApp(t, { issuer: idp.issuer, clientId: 'app', clientSecret: 'not-the-secret' })
  const login = await app.inject({ url: '/auth/login', headers: json })
  t.equal(login.statusCode, 502)
  t.equal(login.json().code, 'FST_SSO_IDP_UNAVAILABLE')
  t.match(login.json().message, /client credentials.*clientSecret/s)
  t.equal(login.headers['set-cookie'], undefined, 'no transaction cookie for a login that never left')
})

test('par: true with an IdP that offers no PAR endpoint: 502 saying so', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op, { par: true })
  const login = await app.inject({ url: '/auth/login', headers: json })
  t.equal(login.statusCode, 502)
  t.match(login.json(), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /no pushed_authorization_request_endpoint.*remove oidcProvider's par option/ })
  op.behaviour.discovery = { require_pushed_authorization_requests: true }
  const required = await buildApp(t, { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret })
  t.equal((await required.inject({ url: '/auth/login', headers: json })).statusCode, 502, 'the same when only the metadata requires PAR')
})

/**
 * private_key_jwt: the client authenticates with an assertion signed by its private key. The real
 * OP (oidc-provider in the development IdP) verifies it against the JWKS `clientJwks()` gave it; the
 * hostile OP records what was sent, for the checks on the assertion itself.
 */
import { test } from 'tap'
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose'
import { clientJwks, oidcProvider } from '../src/index.ts'
import { selfSignedCertificate, startDevIdp } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, json, loginThroughIdp, setCookie, type TapTest } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'

const rsaPem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
const ecJwk = async (kid?: string) => ({ ...await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), ...(kid ? { kid } : {}) })

/** The development IdP with one private_key_jwt client registered with `jwks`. */
async function idpWithKeyClient (t: TapTest, jwks: { keys: object[] }) {
  const idp = await startDevIdp({
    clients: [{ clientId: 'key-client', tokenEndpointAuthMethod: 'private_key_jwt', jwks, redirectUris: [`${baseUrl}/auth/callback`] }]
  })
  t.teardown(() => idp.close())
  return idp
}

/** The client assertion of the OP's n-th token request, with the request's other fields. */
function assertionOf (body: string) {
  const form = new URLSearchParams(body)
  return { assertion: form.get('client_assertion') ?? '', type: form.get('client_assertion_type'), clientId: form.get('client_id'), secret: form.get('client_secret') }
}

test('a PEM key: oidc-provider verifies the assertion against the JWKS clientJwks() published; signed in', async (t) => {
  const privateKey = rsaPem()
  const idp = await idpWithKeyClient(t, await clientJwks(privateKey))
  const app = await buildApp(t, idp, { provider: oidcProvider({ issuer: idp.issuer, clientId: 'key-client', privateKey }) })
  const landed = await loginThroughIdp(new Browser(app, baseUrl))
  t.equal(landed.url, `${baseUrl}/dashboard`)
  t.equal(JSON.parse(landed.body).user.email, 'alice@acme.test')
})

test('an EC JWK with its own kid, the assertion addressed to the endpoint (Okta, Entra ID): oidc-provider accepts it', async (t) => {
  const privateKey = await ecJwk('app-key-2026')
  const idp = await idpWithKeyClient(t, await clientJwks(privateKey))
  const app = await buildApp(t, idp, { provider: oidcProvider({ issuer: idp.issuer, clientId: 'key-client', privateKey, clientAssertionAudience: 'endpoint' }) })
  const landed = await loginThroughIdp(new Browser(app, baseUrl))
  t.equal(landed.url, `${baseUrl}/dashboard`)
})

test('a key the IdP does not know: 502 FST_SSO_IDP_UNAVAILABLE that names privateKey, no session', async (t) => {
  const idp = await idpWithKeyClient(t, await clientJwks(rsaPem()))
  const app = await buildApp(t, idp, { provider: oidcProvider({ issuer: idp.issuer, clientId: 'key-client', privateKey: rsaPem() }) })
  const browser = new Browser(app, baseUrl)
  const landed = await loginThroughIdp(browser, 'alice@acme.test')
  t.equal(landed.status, 502)
  t.match(landed.body, /FST_SSO_IDP_UNAVAILABLE/)
  t.match(landed.body, /privateKey/)
  browser.headers = json
  t.equal((await browser.request('/dashboard')).status, 401, 'signed out')
})

test('the assertion: iss = sub = client id, aud the issuer, a one-minute life, a fresh jti, the kid clientJwks() publishes, no secret sent; it verifies with that JWKS', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.client = { id: 'malicious-op-client', secret: '', assertion: true }
  const privateKey = rsaPem()
  const app = await appFor(t, op, { clientSecret: undefined, privateKey })
  await assertSignedIn(t, app, await attemptLogin(app))
  await assertSignedIn(t, app, await attemptLogin(app))
  const [first, second] = op.calls('/token').map(call => assertionOf(call.body))
  t.equal(first!.type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
  t.equal(first!.clientId, 'malicious-op-client')
  t.equal(first!.secret, null, 'no client_secret')
  t.equal(op.calls('/token')[0]!.headers.authorization, undefined, 'no Basic header')
  const jwks = await clientJwks(privateKey)
  const { payload, protectedHeader } = await jwtVerify(first!.assertion, createLocalJWKSet(jwks), { issuer: 'malicious-op-client', audience: op.issuer })
  t.equal(payload.sub, 'malicious-op-client')
  t.equal(protectedHeader.alg, 'RS256')
  t.equal(protectedHeader.kid, jwks.keys[0]!.kid, 'the published kid')
  t.equal(payload.exp! - payload.iat!, 60)
  const secondPayload = (await jwtVerify(second!.assertion, createLocalJWKSet(jwks))).payload
  t.not(secondPayload.jti, payload.jti, 'a new jti for every request')
})

test('clientAssertionAudience "endpoint": aud is the URL the request goes to', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.client = { id: 'malicious-op-client', secret: '', assertion: true }
  const privateKey = await ecJwk()
  const app = await appFor(t, op, { clientSecret: undefined, privateKey, clientAssertionAudience: 'endpoint' })
  await assertSignedIn(t, app, await attemptLogin(app))
  const { assertion } = assertionOf(op.calls('/token')[0]!.body)
  const { payload, protectedHeader } = await jwtVerify(assertion, createLocalJWKSet(await clientJwks(privateKey)))
  t.equal(payload.aud, `${op.issuer}/token`)
  t.equal(protectedHeader.alg, 'ES256')
})

test('clientCertificate (Entra ID): the assertion carries the certificate\'s SHA-1 and SHA-256 thumbprints as x5t and x5t#S256', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.client = { id: 'malicious-op-client', secret: '', assertion: true }
  const { privateKey, certificate } = selfSignedCertificate({ commonName: 'app.example.com' })
  const app = await appFor(t, op, { clientSecret: undefined, privateKey, clientCertificate: certificate, clientAssertionAudience: 'endpoint' })
  await assertSignedIn(t, app, await attemptLogin(app))
  const header = decodeProtectedHeader(assertionOf(op.calls('/token')[0]!.body).assertion)
  const der = new X509Certificate(certificate).raw
  t.equal(header.x5t, createHash('sha1').update(der).digest('base64url'))
  t.equal(header['x5t#S256'], createHash('sha256').update(der).digest('base64url'))
  t.equal(header.typ, 'JWT')
})

test('clientJwks(): public members only, the JWK\'s own kid or its RFC 7638 thumbprint, alg by key type, several keys for a rotation', async (t) => {
  const rsa = rsaPem()
  const ec = await ecJwk('ec-key-1')
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const { keys } = await clientJwks(rsa, ec, ed)
  t.equal(keys.length, 3)
  for (const key of keys) {
    t.notOk('d' in key || 'p' in key || 'q' in key, `${key.kty}: no private member`)
    t.equal(key.use, 'sig')
  }
  t.match(keys[0], { kty: 'RSA', alg: 'RS256', kid: /^[A-Za-z0-9_-]{43}$/ })
  t.match(keys[1], { kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'ec-key-1' })
  t.match(keys[2], { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' })
  t.same((await clientJwks(rsa)).keys[0]!.kid, keys[0]!.kid, 'the same kid every time (a thumbprint)')
  await t.rejects(clientJwks('not a key'), { code: 'FST_SSO_INVALID_ARGUMENT', message: /key 1 is not a key/ })
})

test('private_key_jwt options fail ready() with a message that says what to fix', async (t) => {
  const { privateKey: other } = selfSignedCertificate()
  const { certificate } = selfSignedCertificate()
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const publicOnly = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string
  const base = { issuer: 'https://idp.example.com', clientId: 'c' }
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no key', { tokenAuthMethod: 'private_key_jwt' }, /`oidcProvider.privateKey` is required/],
    ['not a key', { privateKey: 'hello' }, /`oidcProvider.privateKey` is not a private key/],
    ['a public key', { privateKey: publicOnly }, /is not a private key/],
    ['a short RSA key', { privateKey: weak }, /shorter than 2048 bits/],
    ['a JWK alg the key cannot make', { privateKey: { ...await ecJwk(), alg: 'ES384' } }, /does not match its curve/],
    ['a secret as well', { privateKey: rsaPem(), clientSecret: 's' }, /`oidcProvider.clientSecret` must not be set with private_key_jwt/],
    ['a key with another method', { privateKey: rsaPem(), tokenAuthMethod: 'client_secret_post', clientSecret: 's' }, /`oidcProvider.privateKey` is for tokenAuthMethod 'private_key_jwt'/],
    ['a certificate of another key', { privateKey: other, clientCertificate: certificate }, /`oidcProvider.clientCertificate` is not the certificate/],
    ['not a certificate', { privateKey: other, clientCertificate: 'x' }, /must be a PEM certificate/],
    ['a wrong audience', { privateKey: rsaPem(), clientAssertionAudience: 'token' }, /`oidcProvider.clientAssertionAudience`/]
  ]
  for (const [name, options, message] of cases) {
    await t.rejects(buildApp(t, { issuer: base.issuer, clientId: 'c' }, { provider: oidcProvider({ ...base, ...options } as never) }), { code: 'FST_SSO_INVALID_OPTION', message }, name)
  }
})

test('with a privateKey and no tokenAuthMethod, private_key_jwt is the method', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.client = { id: 'malicious-op-client', secret: '', assertion: true }
  const app = await appFor(t, op, { clientSecret: undefined, privateKey: rsaPem() })
  const attempt = await attemptLogin(app)
  t.ok(setCookie(attempt.callback.headers, 'sso'), 'signed in')
  t.ok(assertionOf(op.calls('/token')[0]!.body).assertion, 'an assertion was sent')
})

/**
 * SAML logins against a real SAML IdP (samlify's identity provider, the development IdP) over
 * HTTP: what it signs, encryption, signed AuthnRequests, the three ways to configure the IdP,
 * certificate rotation, and the attribute names of the big IdPs.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import { inflateRawSync } from 'node:zlib'
import ssoPlugin, { requireUser, samlProvider } from '../src/index.ts'
import { selfSignedCertificate } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { cookiePair, freePort, secret, setCookie, testClock } from './fixtures/app.ts'
import { acsUrl, loginAtIdp, postToAcs, samlApp, samlIdp, spEntityId } from './fixtures/saml.ts'

const alice = { id: 'user_alice_acme_test', email: 'alice@acme.test', firstName: 'Alice', lastName: 'Anders', name: 'Alice Anders', provider: 'saml', roles: ['admin'], groups: ['Engineering'] }

test('SP-initiated login: AuthnRequest by redirect, the IdP posts back, a session for the user', async (t) => {
  const idp = await samlIdp(t)
  const app = await samlApp(t, idp)
  const browser = new Browser(app, 'http://localhost:3000')
  const start = await app.inject({ url: '/auth/login?returnTo=%2Fdashboard' })
  t.equal(start.statusCode, 302)
  const location = new URL(String(start.headers.location))
  t.equal(location.origin + location.pathname, idp.ssoUrl)
  t.ok(location.searchParams.get('RelayState'), 'RelayState carries our state')
  const request = inflateRawSync(Buffer.from(location.searchParams.get('SAMLRequest')!, 'base64')).toString()
  t.match(request, `AssertionConsumerServiceURL="${acsUrl}"`)
  t.match(request, `>${spEntityId}</saml:Issuer>`)
  t.notMatch(request, /RequestedAuthnContext/, 'no authentication context that an MFA login would fail')

  const posted = await loginAtIdp(browser)
  t.equal(new URLSearchParams(location.search).get('RelayState') === posted.RelayState, false, 'each login has its own state')
  const page = await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
  t.equal(page.url, 'http://localhost:3000/dashboard')
  t.match(JSON.parse(page.body).user, { ...alice, idpId: alice.id })
  t.notOk(browser.cookies('http://localhost:3000/').has('sso-tx'), 'the transaction is used up')
})

for (const sign of ['assertion', 'response', 'both'] as const) {
  test(`accepted when the IdP signs ${sign === 'both' ? 'the response and the assertion' : `the ${sign}`}`, async (t) => {
    const idp = await samlIdp(t, { sign })
    const app = await samlApp(t, idp)
    const browser = new Browser(app, 'http://localhost:3000')
    const posted = await loginAtIdp(browser)
    const [envelope, assertion] = posted.xml.split('<saml:Assertion')
    t.equal(envelope!.includes('<ds:Signature'), sign !== 'assertion', 'response signature')
    t.equal(assertion!.includes('<ds:Signature'), sign !== 'response', 'assertion signature')
    const page = await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
    t.equal(page.url, 'http://localhost:3000/dashboard', page.body.slice(0, 300))
  })
}

test('sp.privateKey: signed AuthnRequests, encrypted assertions, both in the SP metadata the IdP reads', async (t) => {
  const port = await freePort()
  const origin = `http://localhost:${port}`
  const idp = await samlIdp(t, { app: { baseUrl: origin }, encryptAssertions: true, sign: 'both' })
  const sp = selfSignedCertificate({ commonName: 'app' })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ssoPlugin, { baseUrl: origin, provider: samlProvider({ idp: { metadataUrl: idp.metadataUrl }, sp }), session: { secret } })
  app.get('/dashboard', { preHandler: requireUser() }, async (request) => ({ user: request.user }))
  await app.listen({ port, host: '127.0.0.1' })

  const metadata = await app.inject({ url: '/auth/saml/metadata' })
  t.equal(metadata.statusCode, 200)
  t.match(metadata.headers['content-type'], 'application/samlmetadata+xml')
  t.match(metadata.body, `entityID="${origin}/auth/saml/metadata"`)
  t.match(metadata.body, `Location="${origin}/auth/callback"`)
  t.match(metadata.body, `Location="${origin}/auth/saml/logout"`)
  t.match(metadata.body, 'AuthnRequestsSigned="true"')
  t.match(metadata.body, 'use="encryption"')

  const start = new URL(String((await app.inject({ url: '/auth/login' })).headers.location))
  t.equal(start.searchParams.get('SigAlg'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'the AuthnRequest is signed')
  t.ok(start.searchParams.get('Signature'))

  const browser = new Browser(app, origin)
  const posted = await loginAtIdp(browser)
  t.match(posted.xml, 'EncryptedAssertion')
  t.notMatch(posted.xml, 'alice@acme.test', 'nothing of the user is readable in transit')
  const page = await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
  t.equal(page.url, `${origin}/dashboard`, page.body.slice(0, 400))
  t.match(JSON.parse(page.body).user, { email: 'alice@acme.test' })
})

test('the IdP from inline metadata XML, and from explicit fields', async (t) => {
  const idp = await samlIdp(t)
  for (const settings of [{ metadata: idp.metadata() }, { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificate] }]) {
    const app = await samlApp(t, idp, { idp: settings })
    const browser = new Browser(app, 'http://localhost:3000')
    const posted = await loginAtIdp(browser)
    const page = await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
    t.equal(page.url, 'http://localhost:3000/dashboard', Object.keys(settings).join())
  }
})

test('certificate rotation: several certificates at once, and a rotated key picked up from the metadata URL', async (t) => {
  const idp = await samlIdp(t)
  const old = idp.certificate
  const staticApp = await samlApp(t, idp, { idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [selfSignedCertificate().certificate, old] } })
  const clock = testClock()
  const viaUrl = await samlApp(t, idp, {}, { now: clock.now })
  const warm = new Browser(viaUrl, 'http://localhost:3000')
  const first = await loginAtIdp(warm)
  t.equal((await postToAcs(warm, { SAMLResponse: first.SAMLResponse, RelayState: first.RelayState })).url, 'http://localhost:3000/dashboard')

  idp.rotateKey()
  clock.advance(61_000) // a signature by an unknown certificate refetches the metadata at most once a minute
  t.match(idp.metadata(), old.replace(/-----[A-Z ]+-----|\s/g, '').slice(0, 60), 'the metadata still lists the previous certificate')
  const both = await samlApp(t, idp, { idp: { metadata: idp.metadata() } })
  for (const app of [both, viaUrl]) {
    const browser = new Browser(app, 'http://localhost:3000')
    const posted = await loginAtIdp(browser)
    const page = await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
    t.equal(page.url, 'http://localhost:3000/dashboard', 'a response signed with the new key is accepted')
  }
  const browser = new Browser(staticApp, 'http://localhost:3000')
  const posted = await loginAtIdp(browser)
  t.equal((await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })).status, 401, 'not by an app that does not list the new certificate')
})

const entraNames = {
  email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  firstName: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  lastName: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  name: 'http://schemas.microsoft.com/identity/claims/displayname',
  groups: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
  roles: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'
}
const adfsNames = { ...entraNames, groups: 'http://schemas.xmlsoap.org/claims/Group', name: 'http://schemas.xmlsoap.org/claims/CommonName' }
const shibbolethNames = { email: 'urn:oid:0.9.2342.19200300.100.1.3', firstName: 'urn:oid:2.5.4.42', lastName: 'urn:oid:2.5.4.4', name: 'urn:oid:2.16.840.1.113730.3.1.241', groups: 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1', roles: 'role' }

for (const [idpName, attributeNames] of Object.entries({ 'Okta and Google Workspace': {}, 'Entra ID': entraNames, ADFS: adfsNames, 'Shibboleth (eduPerson)': shibbolethNames })) {
  test(`the default attribute names of ${idpName}`, async (t) => {
    const idp = await samlIdp(t, { attributeNames })
    const app = await samlApp(t, idp)
    const browser = new Browser(app, 'http://localhost:3000')
    const posted = await loginAtIdp(browser)
    const page = await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
    const user = JSON.parse(page.body).user
    t.match(user, alice)
    t.same(user.claims, {}, 'every attribute was mapped: none left over in claims')
  })
}

test('configured attributes: the user id from an attribute, other names for the fields', async (t) => {
  const idp = await samlIdp(t, { attributeNames: { email: 'mailbox', groups: 'teams' } })
  const app = await samlApp(t, idp, { attributes: { id: 'mailbox', email: 'mailbox', groups: ['nothing', 'teams'] } })
  const browser = new Browser(app, 'http://localhost:3000')
  const posted = await loginAtIdp(browser, 'bob@globex.test')
  const user = JSON.parse((await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })).body).user
  t.match(user, { id: 'bob@globex.test', email: 'bob@globex.test', groups: ['Sales'] })
})

test('an emailAddress NameID is the email when no attribute carries one; a transient NameID is no user id', async (t) => {
  const idp = await samlIdp(t, { nameIdFormat: 'emailAddress', attributeNames: { email: 'unmapped-email' } })
  const app = await samlApp(t, idp, { attributes: { email: 'nothing-here' } })
  const browser = new Browser(app, 'http://localhost:3000')
  const posted = await loginAtIdp(browser)
  const user = JSON.parse((await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })).body).user
  t.match(user, { id: 'alice@acme.test', email: 'alice@acme.test' })

  const transient = await samlIdp(t, { nameIdFormat: 'transient' })
  const strict = await samlApp(t, transient)
  const other = new Browser(strict, 'http://localhost:3000', { accept: 'application/json' })
  const refused = await loginAtIdp(other)
  const res = await postToAcs(other, { SAMLResponse: refused.SAMLResponse, RelayState: refused.RelayState })
  t.equal(res.status, 401)
  t.match(JSON.parse(res.body), { code: 'FST_SSO_TOKEN_REJECTED', message: /transient/ })
})

test('the IdP\'s own refusal (a non-success status) is a 400 with its status', async (t) => {
  const idp = await samlIdp(t)
  const app = await samlApp(t, idp)
  const login = await app.inject({ url: '/auth/login' })
  const state = new URL(String(login.headers.location)).searchParams.get('RelayState')!
  const xml = '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode><samlp:StatusMessage>User cancelled</samlp:StatusMessage></samlp:Status></samlp:Response>'
  const res = await app.inject({ method: 'POST', url: '/auth/callback', headers: { cookie: cookiePair(setCookie(login.headers, 'sso-tx')), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: state }).toString() })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'FST_SSO_IDP_ERROR', message: /Responder, AuthnFailed, User cancelled/ })
})

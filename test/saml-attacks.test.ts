/**
 * One test per attack on the assertion consumer service. Responses a real IdP would sign with
 * the wrong values come from the development IdP (samlify) told to sign them; the structural
 * attacks (wrapping, comments, DTDs, sizes) are a genuine signed response edited by hand.
 * Every refusal: a 4xx coded error, no session cookie, and the user still signed out.
 */
import { test, type Test } from 'tap'
import { selfSignedCertificate } from '../src/testing/index.ts'
import type { DevSamlIdp, DevSamlResponseOptions } from '../src/testing/index.ts'
import { assertionOf, encode, pendingLogin, post, samlApp, samlIdp, sessionSet } from './fixtures/saml.ts'

type App = Awaited<ReturnType<typeof samlApp>>

/** A refusal: status and code as expected, no session created, the user signed out. */
async function refused (t: Test, app: App, res: Awaited<ReturnType<typeof post>>, status: number, code: string, message?: RegExp): Promise<void> {
  t.equal(res.statusCode, status, res.body)
  t.equal(res.json().code, code)
  if (message) t.match(res.json().message, message)
  t.notOk(sessionSet(res), 'no session cookie')
  const cookie = res.headers['set-cookie']
  const me = await app.inject({ url: '/api/me', headers: cookie ? { cookie: [cookie].flat().map(line => String(line).split(';')[0]).join('; ') } : {} })
  t.equal(me.statusCode, 401, 'still signed out')
}

/** A login started here, answered by the IdP with `overrides`, posted back with its cookie. */
async function answer (app: App, idp: DevSamlIdp, overrides: Partial<DevSamlResponseOptions> = {}, edit: (xml: string) => string = xml => xml) {
  const login = await pendingLogin(app)
  const response = await idp.loginResponse({ email: 'alice@acme.test', inResponseTo: login.requestId, ...overrides })
  const xml = edit(Buffer.from(response, 'base64').toString('utf8'))
  return post(app, { SAMLResponse: encode(xml), RelayState: login.relayState }, login.cookie)
}

async function setup (t: Test, provider = {}) {
  const idp = await samlIdp(t)
  const app = await samlApp(t, idp, provider)
  return { idp, app }
}

test('the untampered answer is accepted (the baseline every attack below changes)', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp)
  t.equal(res.statusCode, 302, res.body)
  t.ok(sessionSet(res))
})

test('an unsigned assertion is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { sign: 'none' }), 401, 'FST_SSO_TOKEN_REJECTED', /not validly signed/)
})

test('an assertion signed with a certificate the IdP does not have is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { key: selfSignedCertificate({ commonName: 'attacker' }) }), 401, 'FST_SSO_TOKEN_REJECTED', /not validly signed/)
})

test('a SHA-1 signature is refused by default (allowSha1 for a legacy IdP)', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { sha1: true }), 401, 'FST_SSO_TOKEN_REJECTED', /SHA-1/)
  const legacy = await samlApp(t, idp, { allowSha1: true })
  t.equal((await answer(legacy, idp, { sha1: true })).statusCode, 302, 'accepted when the app allows SHA-1')
})

/** The signed assertion's unsigned copy, with another ID and Bob's identity: what wrapping smuggles in. */
function evilTwin (signed: string): string {
  return signed.replace(/ID="[^"]+"/, 'ID="_evil"').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace('user_alice_acme_test', 'user_bob_globex_test')
}

test('signature wrapping, an evil assertion beside the signed one, is refused', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp, {}, xml => {
    const signed = assertionOf(xml)
    const evil = evilTwin(signed)
    return xml.replace(signed, evil + signed)
  })
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED', /more than one assertion/)
})

test('signature wrapping, an evil assertion inside the signed one (in its signature\'s Object), is refused', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp, {}, xml => {
    const signed = assertionOf(xml)
    const evil = evilTwin(signed)
    return xml.replace('</ds:Signature>', `<ds:Object>${evil}</ds:Object></ds:Signature>`)
  })
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED', /more than one assertion/)
})

test('signature wrapping, an evil assertion around the signed one, is refused', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp, {}, xml => {
    const signed = assertionOf(xml)
    const evil = evilTwin(signed)
    // The evil assertion first, the signed original hidden in its Advice.
    return xml.replace(signed, evil.replace('</saml:Assertion>', `<saml:Advice>${signed}</saml:Advice></saml:Assertion>`))
  })
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED', /more than one assertion/)
})

test('signature wrapping, the signed response moved inside an evil one, is refused', async (t) => {
  const idp = await samlIdp(t, { sign: 'response' })
  const app = await samlApp(t, idp)
  const res = await answer(app, idp, {}, xml => {
    const evil = xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace(/ID="[^"]+"/, 'ID="_evil"').replace('user_alice_acme_test', 'user_bob_globex_test')
    return evil.replace('</samlp:Response>', `<samlp:Extensions>${xml}</samlp:Extensions></samlp:Response>`)
  })
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED')
})

test('a comment inside the NameID is refused (although the signature still verifies)', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp, {}, xml => xml.replace('>user_alice_acme_test<', '>user_alice<!---->_acme_test<'))
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED', /comment/)
})

test('a wrong Issuer is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { issuer: 'https://evil.example/idp' }), 401, 'FST_SSO_TOKEN_REJECTED', /Issuer|issued by|another identity provider/)
})

test('a wrong Audience is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { audience: 'https://another-app.example/saml' }), 401, 'FST_SSO_TOKEN_REJECTED', /another service provider/)
})

test('a wrong Destination is refused', async (t) => {
  const idp = await samlIdp(t, { sign: 'both' })
  const app = await samlApp(t, idp)
  await refused(t, app, await answer(app, idp, { destination: 'https://another-app.example/acs' }), 401, 'FST_SSO_TOKEN_REJECTED', /addressed to/)
})

test('a wrong Recipient is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { recipient: 'https://another-app.example/acs' }), 401, 'FST_SSO_TOKEN_REJECTED', /Recipient/)
})

test('an expired assertion is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { issuedAt: Date.now() - 6 * 60_000 }), 401, 'FST_SSO_TOKEN_REJECTED', /expired/)
})

test('an assertion not yet valid is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { issuedAt: Date.now() + 2 * 60_000 }), 401, 'FST_SSO_TOKEN_REJECTED', /not (yet )?valid/)
})

test('an InResponseTo missing from the answer to our request is refused', async (t) => {
  const { idp, app } = await setup(t)
  const login = await pendingLogin(app)
  const response = await idp.loginResponse({ email: 'alice@acme.test' })
  await refused(t, app, await post(app, { SAMLResponse: response, RelayState: login.relayState }, login.cookie), 401, 'FST_SSO_TOKEN_REJECTED', /no InResponseTo/)
})

test('an unknown InResponseTo is refused', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await answer(app, idp, { inResponseTo: '_an-id-we-never-sent' }), 401, 'FST_SSO_TOKEN_REJECTED', /InResponseTo/)
})

test('an InResponseTo of another login is refused (two logins in one browser, answers swapped)', async (t) => {
  const { idp, app } = await setup(t)
  const first = await pendingLogin(app)
  const login = await app.inject({ url: '/auth/login', headers: { cookie: first.cookie } })
  const second = new URL(String(login.headers.location)).searchParams.get('RelayState')!
  const both = String([login.headers['set-cookie']].flat().find(line => String(line).startsWith('sso-tx='))).split(';')[0]!
  const forFirst = await idp.loginResponse({ email: 'alice@acme.test', inResponseTo: first.requestId })
  await refused(t, app, await post(app, { SAMLResponse: forFirst, RelayState: second }, both), 401, 'FST_SSO_TOKEN_REJECTED', /another sign-in request/)
})

test('a replayed assertion ID is refused (IdP-initiated: no transaction to use up)', async (t) => {
  const { idp, app } = await setup(t, { allowIdpInitiated: true })
  const response = await idp.loginResponse({ email: 'alice@acme.test' })
  const first = await post(app, { SAMLResponse: response })
  t.equal(first.statusCode, 302, first.body)
  t.equal(first.headers.location, '/', 'an IdP-initiated login lands on defaultReturnTo')
  await refused(t, app, await post(app, { SAMLResponse: response }), 401, 'FST_SSO_TOKEN_REJECTED', /already used/)
})

test('an IdP-initiated response is refused by default', async (t) => {
  const { idp, app } = await setup(t)
  await refused(t, app, await post(app, { SAMLResponse: await idp.loginResponse({ email: 'alice@acme.test' }) }), 400, 'FST_SSO_TRANSACTION_MISSING')
})

test('with allowIdpInitiated, a response that answers some request is still refused without its login', async (t) => {
  const { idp, app } = await setup(t, { allowIdpInitiated: true })
  await refused(t, app, await post(app, { SAMLResponse: await idp.loginResponse({ email: 'alice@acme.test', inResponseTo: '_someone-elses-request' }) }), 401, 'FST_SSO_TOKEN_REJECTED', /InResponseTo/)
})

test('a DOCTYPE with entity declarations is refused before parsing', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp, {}, xml => `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${xml.replace('>user_alice_acme_test<', '>&b;<')}`)
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED', /document type or entity/)
})

test('a response over 256 KB is refused', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp, {}, xml => xml.replace('</samlp:Response>', `<!--${'x'.repeat(300 * 1024)}--></samlp:Response>`))
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED', /larger than 256 KB/)
  const huge = await post(app, { SAMLResponse: 'A'.repeat(1024 * 1024) })
  t.equal(huge.statusCode, 413, 'a body over the route limit: 413')
  t.equal(huge.json().code, 'FST_SSO_BODY_TOO_LARGE')
})

test('two assertions, even two validly signed copies, are refused', async (t) => {
  const { idp, app } = await setup(t)
  const res = await answer(app, idp, {}, xml => xml.replace(assertionOf(xml), assertionOf(xml) + assertionOf(xml)))
  await refused(t, app, res, 401, 'FST_SSO_TOKEN_REJECTED', /more than one assertion/)
})

test('a tampered RelayState is refused', async (t) => {
  const { idp, app } = await setup(t)
  const login = await pendingLogin(app)
  const response = await idp.loginResponse({ email: 'alice@acme.test', inResponseTo: login.requestId })
  await refused(t, app, await post(app, { SAMLResponse: response, RelayState: login.relayState.slice(0, -2) + 'xx' }, login.cookie), 400, 'FST_SSO_STATE_MISMATCH')
})

test('malformed answers are 400s: no SAMLResponse, not base64, not XML, not a Response, repeated fields', async (t) => {
  const { app } = await setup(t)
  const cases: Array<Record<string, string> | string> = [
    {},
    { SAMLResponse: '%%%not base64%%%' },
    { SAMLResponse: encode('<not xml') },
    { SAMLResponse: encode('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>') },
    'SAMLResponse=a&SAMLResponse=b'
  ]
  for (const fields of cases) {
    const login = await pendingLogin(app)
    const payload = typeof fields === 'string' ? `${fields}&RelayState=${login.relayState}` : new URLSearchParams({ ...fields, RelayState: login.relayState }).toString()
    const res = await app.inject({ method: 'POST', url: '/auth/callback', headers: { cookie: login.cookie, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, payload })
    t.equal(res.statusCode, 400, JSON.stringify(fields))
    t.equal(res.json().code, 'FST_SSO_INVALID_CALLBACK')
    t.notOk(sessionSet(res))
  }
})

/**
 * samlProvider's configuration: wrong options fail ready() with a coded error that names them;
 * an IdP metadata URL that is down, slow or broken is a 502 at login, never a hang or a 500.
 */
import { test } from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import ssoPlugin, { samlProvider, type SamlProviderOptions } from '../src/index.ts'
import { selfSignedCertificate, startDevSamlIdp } from '../src/testing/index.ts'
import { secret } from './fixtures/app.ts'
import { samlIdp } from './fixtures/saml.ts'

async function register (options: SamlProviderOptions) {
  const app = Fastify()
  await app.register(ssoPlugin, { baseUrl: 'http://localhost:3000', provider: samlProvider(options), session: { secret } })
  return app
}

test('wrong options fail ready() with FST_SSO_INVALID_OPTION naming the option', async (t) => {
  const idp = await samlIdp(t)
  const sp = selfSignedCertificate()
  const cases: Array<[unknown, RegExp]> = [
    [{}, /samlProvider.idp/],
    [{ idp: {} }, /samlProvider.idp/],
    [{ idp: { metadataUrl: 'http://idp.example.com/metadata' } }, /samlProvider.idp.metadataUrl.*https/],
    [{ idp: { metadata: '<nope/>' } }, /samlProvider.idp.metadata.*no identity provider/],
    [{ idp: { metadata: '<!DOCTYPE x><x/>' } }, /samlProvider.idp.metadata/],
    [{ idp: { metadata: idp.metadata(), entityId: 'https://other' } }, /no identity provider with entityID/],
    [{ idp: { metadataUrl: idp.metadataUrl, ssoUrl: idp.ssoUrl } }, /samlProvider.idp.ssoUrl.*either/],
    [{ idp: { entityId: 'x', ssoUrl: idp.ssoUrl } }, /samlProvider.idp.certificates/],
    [{ idp: { entityId: 'x', ssoUrl: idp.ssoUrl, certificates: ['not a certificate'] } }, /samlProvider.idp.certificates\[0\]/],
    [{ idp: { metadataUrl: idp.metadataUrl }, sp: { privateKey: sp.privateKey } }, /sp.privateKey.*sp.certificate/],
    [{ idp: { metadataUrl: idp.metadataUrl }, sp: { privateKey: 'x', certificate: sp.certificate } }, /sp.privateKey.*RSA private key/],
    [{ idp: { metadataUrl: idp.metadataUrl }, sp: { privateKey: sp.privateKey, certificate: 'x' } }, /sp.certificate/],
    [{ idp: { metadataUrl: idp.metadataUrl }, allowIdpInitiated: 'yes' }, /allowIdpInitiated/],
    [{ idp: { metadataUrl: idp.metadataUrl }, attributes: { mail: 'x' } }, /samlProvider.attributes.mail/],
    [{ idp: { metadataUrl: idp.metadataUrl }, attributes: { email: [] } }, /samlProvider.attributes.email/],
    [{ idp: { metadataUrl: idp.metadataUrl }, signRequests: true }, /samlProvider.signRequests/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    app.register(ssoPlugin, { baseUrl: 'http://localhost:3000', provider: samlProvider(options as SamlProviderOptions), session: { secret } })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_SSO_INVALID_OPTION', message }, JSON.stringify(options).slice(0, 120))
    await app.close().catch(() => {})
  }
})

test('a metadata URL that is unreachable, broken or slower than 10 s is a 502 at login; the next login tries again', async (t) => {
  let mode: 'down' | 'broken' | 'slow' | 'ok' = 'down'
  const idp = await samlIdp(t)
  const server = createServer((_req, res) => {
    if (mode === 'slow') return // never answers
    if (mode === 'broken') { res.writeHead(200); res.end('<html>maintenance</html>'); return }
    if (mode === 'down') { res.writeHead(503); res.end(); return }
    res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' })
    res.end(idp.metadata())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); return new Promise(resolve => server.close(resolve)) })
  const app = await register({ idp: { metadataUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata` } })
  t.teardown(() => app.close())
  await app.ready()
  t.equal((await app.inject({ url: '/auth/saml/metadata' })).statusCode, 200, 'the SP metadata needs no IdP')

  for (const next of ['down', 'broken', 'slow'] as const) {
    mode = next
    const started = Date.now()
    const res = await app.inject({ url: '/auth/login', headers: { accept: 'application/json' } })
    t.equal(res.statusCode, 502, next)
    t.equal(res.json().code, 'FST_SSO_IDP_UNAVAILABLE')
    t.match(res.json().message, /metadata/)
    if (next === 'slow') t.ok(Date.now() - started < 14_000, 'given up after about 10 seconds')
  }
  mode = 'ok'
  const res = await app.inject({ url: '/auth/login' })
  t.equal(res.statusCode, 302)
  t.match(res.headers.location, idp.ssoUrl)
})

test('the development SAML IdP refuses to start with NODE_ENV=production', async (t) => {
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  t.teardown(() => { process.env.NODE_ENV = previous })
  await t.rejects(startDevSamlIdp(), { code: 'FST_SSO_DEV_IDP_IN_PRODUCTION' })
})

test('selfSignedCertificate makes a certificate Node parses and verifies', async (t) => {
  const { X509Certificate, createPrivateKey } = await import('node:crypto')
  const made = selfSignedCertificate({ commonName: 'app.example.com', days: 30 })
  const certificate = new X509Certificate(made.certificate)
  t.equal(certificate.subject, 'CN=app.example.com')
  t.ok(certificate.verify(certificate.publicKey), 'self-signed')
  t.ok(certificate.checkPrivateKey(createPrivateKey(made.privateKey)), 'for its key')
  t.ok(Date.parse(certificate.validTo) - Date.now() > 29 * 86_400_000)
})

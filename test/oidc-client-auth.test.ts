/**
 * `client_secret_basic` as RFC 6749 §2.3.1 writes it: id and secret each form-urlencoded, so
 * `-`, `.`, `_`, `~` and `*` go out as they are (IdPs that compare the header literally accept
 * them), and what must be encoded (space, `+`, `%`, `:`, non-ASCII) is, so form-decoding IdPs
 * (oidc-provider) read the same credentials back.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import ssoPlugin, { oidcProvider, requireUser } from '../src/index.ts'
import { startDevIdp } from '../src/testing/index.ts'
import { formUrlEncode } from '../src/providers/oidc-client-auth.ts'
import { Browser } from './fixtures/browser.ts'
import { loginThroughIdp } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'

/** Every character form-urlencoding leaves alone besides alphanumerics, and `~`. */
const unreservedId = 'fastify-sso.client_id~*'
const unreservedSecret = 's3cr3t-._~*-with.every_unreserved~character*'

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

test('an IdP that compares the Basic header literally accepts ids and secrets with - . _ ~ *', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.client = { id: unreservedId, secret: unreservedSecret, literal: true }
  const app = await appFor(t, op, { clientId: unreservedId, clientSecret: unreservedSecret })
  const user = await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(user.email, 'mallory@acme.test')
  const [token] = op.calls('/token')
  t.equal(token!.headers.authorization, basic(unreservedId, unreservedSecret), 'the credentials as they are, not %2D %2E %5F %7E %2A')
  t.notMatch(token!.body, /client_secret/, 'the secret travels in the header only')
})

test('characters that must be encoded are form-urlencoded (space as +), and a form-decoding IdP reads them back', async (t) => {
  const op = await startMaliciousOp(t)
  const id = 'acme app+1:%é'
  const secret = 'pa ss+word:%/é&='
  op.behaviour.client = { id, secret }
  const app = await appFor(t, op, { clientId: id, clientSecret: secret })
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls('/token')[0]!.headers.authorization, basic('acme+app%2B1%3A%25%C3%A9', 'pa+ss%2Bword%3A%25%2F%C3%A9%26%3D'))
})

test('formUrlEncode is URLSearchParams\' encoding, except that ~ stays', async (t) => {
  const every = Array.from({ length: 0x80 - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('') + 'é€'
  const whatwg = new URLSearchParams([['', every]]).toString().slice(1)
  t.equal(formUrlEncode(every), whatwg.replace('%7E', '~'))
  t.equal(formUrlEncode('-._*~'), '-._*~')
  t.equal(formUrlEncode('%7E'), '%257E', 'a literal "%7E" is not mistaken for a tilde')
})

test('a real OP (oidc-provider, which form-decodes) signs in a client whose id has - . _ ~ * and whose secret has + % : / & =', async (t) => {
  const baseUrl = 'http://localhost:3000'
  // oidc-provider refuses spaces and non-ASCII in client metadata.
  const clientId = unreservedId
  const clientSecret = `${unreservedSecret}+%:/&=`
  const idp = await startDevIdp({ clients: [{ clientId, clientSecret, redirectUris: [`${baseUrl}/auth/callback`] }] })
  t.teardown(() => idp.close())
  const app = Fastify({ logger: false })
  await app.register(ssoPlugin, { baseUrl, provider: oidcProvider({ issuer: idp.issuer, clientId, clientSecret }), session: { secret: 'a-test-secret-that-is-long-enough-for-hkdf' } })
  app.get('/dashboard', { preHandler: requireUser() }, async (request) => ({ user: request.user }))
  t.teardown(() => app.close())
  await app.ready()
  const landed = await loginThroughIdp(new Browser(app, baseUrl))
  t.equal(landed.url, `${baseUrl}/dashboard`, `signed in (${landed.status}: ${landed.body.slice(0, 200)})`)
  t.match(JSON.parse(landed.body).user, { email: 'alice@acme.test' })
})

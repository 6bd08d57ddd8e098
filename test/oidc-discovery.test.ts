/**
 * Discovery: lazy (an IdP outage at boot does not stop the app), cached, retried after a failure,
 * and an OP whose configuration names another issuer is refused (502), as is a broken issuer URL
 * at register time.
 */
import { test } from 'tap'
import Fastify from 'fastify'
import ssoPlugin, { oidcProvider } from '../src/index.ts'
import { clientId, clientSecret, startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'
import { baseUrl, secret, setCookie } from './fixtures/app.ts'

const discoveryPath = '/.well-known/openid-configuration'

test('discovery issuer mismatch → 502 at /login, nobody sent to that OP', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discovery = { issuer: 'https://honest-idp.example' }
  const app = await appFor(t, op)
  const attempt = await attemptLogin(app)
  t.equal(attempt.login.status, 502)
  t.equal(JSON.parse(attempt.login.body).code, 'FST_SSO_IDP_UNAVAILABLE')
  t.equal(setCookie(attempt.login.headers, 'sso-tx'), undefined, 'no transaction started')
  t.equal(op.calls('/authorize').length, 0)
})

test('discovery down at boot: the app starts, /login is a 502, and once the OP is back discovery is retried and logins work', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discoveryFailure = 'down'
  const app = await appFor(t, op) // ready() resolved: discovery is lazy
  t.equal(op.calls(discoveryPath).length, 0, 'no discovery at boot')

  const down = await attemptLogin(app)
  t.equal(down.login.status, 502)
  t.equal(JSON.parse(down.login.body).code, 'FST_SSO_IDP_UNAVAILABLE')
  op.behaviour.discoveryFailure = 503
  const unavailable = await attemptLogin(app)
  t.equal(unavailable.login.status, 502, 'a 503 from discovery is a 502 too')

  op.behaviour.discoveryFailure = undefined
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls(discoveryPath).length, 3, 'each failure was retried by the next login')
  await assertSignedIn(t, app, await attemptLogin(app))
  t.equal(op.calls(discoveryPath).length, 3, 'a successful discovery is cached')
})

test('a configuration without jwks_uri → 502 (signatures could not be verified)', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discovery = { jwks_uri: undefined }
  const app = await appFor(t, op)
  const attempt = await attemptLogin(app)
  t.equal(attempt.login.status, 502)
  t.match(JSON.parse(attempt.login.body), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /jwks_uri/ })
})

test('a templated issuer ({tenantid}) in the configuration → 502, not a comparison against a template', async (t) => {
  const op = await startMaliciousOp(t)
  const templated = `${op.issuer}/{tenantid}`
  op.behaviour.discovery = { issuer: templated } // openid-client accepts it: the same URL once percent-encoded
  const app = await appFor(t, { issuer: templated })
  const attempt = await attemptLogin(app)
  t.equal(attempt.login.status, 502)
  t.match(JSON.parse(attempt.login.body), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /templated issuer/ })
})

test('a broken issuer fails ready() with FST_SSO_INVALID_OPTION', async (t) => {
  for (const issuer of [
    'not a url',
    'ftp://idp.example',
    'http://idp.example.com', // clear text outside loopback
    'https://idp.example.com/?tenant=1',
    'https://user:pass@idp.example.com',
    'https://login.microsoftonline.com/common/v2.0', // Entra multi-tenant template
    'https://login.microsoftonline.com/organizations/v2.0'
  ]) {
    const app = Fastify()
    t.teardown(() => app.close())
    app.register(ssoPlugin, { baseUrl, provider: oidcProvider({ issuer, clientId, clientSecret }), session: { secret } })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_SSO_INVALID_OPTION', message: /oidcProvider\.issuer/ }, issuer)
  }
})

test('an Entra ID tenant issuer is accepted at register time (discovery stays lazy)', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ssoPlugin, {
    baseUrl,
    provider: oidcProvider({ issuer: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0', clientId, clientSecret }),
    session: { secret }
  })
  await app.ready()
  t.pass('ready')
})

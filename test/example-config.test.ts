/**
 * The example's provider is chosen from the environment (example/config.ts): the development IdP
 * with nothing set, any OpenID Connect IdP, WorkOS SSO (one organization or routed by email
 * domain) or AuthKit. No test here reaches the network: the WorkOS login URLs are built locally
 * by the SDK, and the OpenID Connect IdP is a development IdP started on its own.
 */
import { test } from 'tap'
import { closeConfig, exampleConfig, devWebhookSecret } from '../example/config.ts'
import { startExample } from '../example/app.ts'
import { signIn, startDevIdp } from '../src/testing/index.ts'
import { startTestExample } from './fixtures/example.ts'
import { freePort, loginThroughIdp, secret } from './fixtures/app.ts'

const base = 'http://localhost:3000'
const workos = { WORKOS_API_KEY: 'sk_test_example', WORKOS_CLIENT_ID: 'client_example', SESSION_SECRET: secret }

const example = startTestExample

test('nothing set: multi-tenant, each demo customer on its own development IdP registered for the app\'s URL', async (t) => {
  const config = await exampleConfig({ SESSION_SECRET: secret }, base)
  t.teardown(() => closeConfig(config))
  t.equal(config.provider.name, 'connections')
  t.same(config.tenants!.map(({ tenant, idp }) => [tenant.id, tenant.organizationId, tenant.domains, idp.protocol]), [
    ['acme', 'org_acme', ['acme.test'], 'oidc'],
    ['globex', 'org_globex', ['globex.test'], 'oidc'],
    ['initech', 'org_initech', ['initech.test'], 'saml']
  ])
  for (const { idp } of config.tenants!) t.match(idp.url, /^http:\/\/127\.0\.0\.1:\d+(\/saml\/metadata)?$/)
  t.equal(new Set(config.tenants!.map(({ idp }) => new URL(idp.url).origin)).size, 3, 'three IdPs')
  t.match(config.description, /acme\.test → Acme's embedded development IdP; globex\.test → Globex's embedded development IdP; initech\.test → Initech's/)
  t.equal(config.workosClient, undefined)
  t.equal(config.webhookSecret, devWebhookSecret)
  t.equal(devWebhookSecret, 'whsec_dev_fastify_sso_example_secret')
  t.same(config.warnings, [])
})

test('WorkOS with CUSTOMER_ORGANIZATION_ID: workosSso for that organization', async (t) => {
  const config = await exampleConfig({ ...workos, CUSTOMER_ORGANIZATION_ID: 'org_01EXAMPLE' }, base)
  t.equal(config.provider.name, 'workos-sso')
  t.ok(config.workosClient, 'the SDK client, for the directory pages')
  t.match(config.description, /org_01EXAMPLE/)
  t.equal(config.tenants, undefined, 'no development IdP')

  const { app } = await example(t, { ...workos, CUSTOMER_ORGANIZATION_ID: 'org_01EXAMPLE' })
  const res = await app.inject({ url: '/auth/login?returnTo=%2Fdashboard', headers: { accept: 'text/html' } })
  t.equal(res.statusCode, 302)
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, 'https://api.workos.com/sso/authorize')
  t.equal(location.searchParams.get('organization'), 'org_01EXAMPLE')
  t.equal(location.searchParams.get('client_id'), 'client_example')
  t.match(location.searchParams.get('redirect_uri'), /^http:\/\/localhost:\d+\/auth\/callback$/)
})

test('WorkOS without an organization: routed by the work email\'s domain', async (t) => {
  const config = await exampleConfig(workos, base)
  t.equal(config.provider.name, 'workos-sso')
  t.match(config.description, /routed by email domain/)

  const { app } = await example(t, workos)
  const res = await app.inject({ url: '/auth/login?returnTo=%2Fdashboard', headers: { accept: 'text/html' } })
  t.equal(res.headers.location, '/?error=FST_SSO_ROUTING_REQUIRED', 'no email: back to the form')
  const home = await app.inject({ url: String(res.headers.location), headers: { accept: 'text/html' } })
  t.match(home.body, /Enter your work email to sign in with SSO/)
  t.match(home.body, /WorkOS SSO \(routed by email domain\)/)
})

test('WORKOS_AUTHKIT=1: WorkOS AuthKit', async (t) => {
  const config = await exampleConfig({ ...workos, WORKOS_AUTHKIT: '1', CUSTOMER_ORGANIZATION_ID: 'ignored' }, base)
  t.equal(config.provider.name, 'workos-authkit')
  t.equal(config.description, 'WorkOS AuthKit')

  const { app } = await example(t, { ...workos, WORKOS_AUTHKIT: '1' })
  const res = await app.inject({ url: '/auth/login', headers: { accept: 'text/html' } })
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, 'https://api.workos.com/user_management/authorize')
  t.equal(location.searchParams.get('client_id'), 'client_example')
})

test('OIDC_ISSUER / OIDC_CLIENT_ID / OIDC_CLIENT_SECRET: any OpenID Connect IdP, end to end', async (t) => {
  const config = await exampleConfig({ OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'app', OIDC_CLIENT_SECRET: 's', SESSION_SECRET: secret }, base)
  t.equal(config.provider.name, 'oidc')
  t.equal(config.description, 'OpenID Connect (https://idp.example.com)')
  t.equal(config.tenants, undefined, 'no development IdP')

  // An IdP of its own (here a development IdP started apart), registered for the example's URL.
  const port = await freePort()
  const idp = await startDevIdp({ app: { baseUrl: `http://localhost:${port}` } })
  t.teardown(() => idp.close())
  const running = await example(t, { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret!, SESSION_SECRET: secret }, port)
  t.equal(running.url, `http://localhost:${port}/`)
  const dashboard = await loginThroughIdp(running.browser, 'carol@acme.test')
  t.equal(dashboard.url, `${running.url}dashboard`)
  t.match(dashboard.body, /Welcome, Carol/)
})

test('half a configuration is a readable start-up error', async (t) => {
  await t.rejects(exampleConfig({ OIDC_ISSUER: 'https://idp.example.com' }, base), /OIDC_ISSUER and OIDC_CLIENT_ID/)
  await t.rejects(exampleConfig({ OIDC_CLIENT_ID: 'app' }, base), /OIDC_ISSUER and OIDC_CLIENT_ID/)
  await t.rejects(exampleConfig({ WORKOS_API_KEY: 'sk_test_example' }, base), /WORKOS_API_KEY and WORKOS_CLIENT_ID/)
  await t.rejects(startExample({ env: { PORT: 'abc' }, logger: false }), /PORT must be a port number/)
  await t.rejects(startExample({ port: 0, env: { SESSION_SECRET: 'too short' }, logger: false }), /secret/i, 'the plugin\'s own check of SESSION_SECRET')
})

test('SESSION_SECRET: a warning and a generated secret when absent; sessions sealed with it when set', async (t) => {
  const absent = await exampleConfig({ OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'app' }, base)
  t.equal(absent.warnings.length, 1)
  t.match(absent.warnings[0], /SESSION_SECRET is not set/)
  t.match(absent.warnings[0], /example\/\.env/, 'says where to set it')
  t.ok(absent.sessionSecret.length >= 32, 'a generated development secret')
  const again = await exampleConfig({ OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'app' }, base)
  t.not(again.sessionSecret, absent.sessionSecret, 'a new one at each start')
  const set = await exampleConfig({ OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'app', SESSION_SECRET: secret }, base)
  t.same(set.warnings, [])
  t.equal(set.sessionSecret, secret)

  // Two starts with one SESSION_SECRET accept each other's sessions (a restart keeps users signed in).
  const first = await example(t, { SESSION_SECRET: secret })
  const second = await example(t, { SESSION_SECRET: secret })
  const other = await example(t, {})
  const cookie = await signIn(first.app, { email: 'alice@acme.test', name: 'Alice Anders' })
  t.equal((await second.app.inject({ url: '/dashboard', headers: { cookie } })).statusCode, 200)
  t.equal((await other.app.inject({ url: '/dashboard', headers: { cookie } })).statusCode, 401, 'not with another secret')
})

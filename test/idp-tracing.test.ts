/**
 * Every call to an identity provider runs inside the `fastify-sso:idp` tracing channel with the
 * provider and the operation: openid-client's discovery, JWKS, token and user-info requests in a
 * real OpenID Connect login, jose's remote key set, and the WorkOS SDK's calls (against the local
 * WorkOS API fake). A store bound to the channel (what OpenTelemetry does) is active inside the
 * HTTP request itself, so the HTTP client's spans nest under the IdP call's span.
 */
import { test } from 'tap'
import { AsyncLocalStorage } from 'node:async_hooks'
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { jwtProvider, oidcProvider, workosAuthKit, workosSso } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, devIdp, loginThroughIdp, testClock, unreachableIdp } from './fixtures/app.ts'
import { recordIdpTraces } from './fixtures/observe.ts'
import { clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { loginAtIdp, postToAcs, samlApp, samlIdp } from './fixtures/saml.ts'
import ssoPlugin from '../src/index.ts'
import Fastify from 'fastify'

test('a real OpenID Connect login: discovery, JWKS, token and user-info calls, each traced start to end with provider and URL', async (t) => {
  const idp = await devIdp(t)
  const traces = recordIdpTraces(t)
  const app = await buildApp(t, idp, { provider: oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, userinfo: true, name: 'acme-okta' }) })
  const landed = await loginThroughIdp(new Browser(app, baseUrl))
  t.equal(landed.status, 200, 'signed in')

  const calls = traces.finished()
  t.same(calls.map(call => call.operation), ['discovery', 'token', 'jwks', 'userinfo'], 'in the order openid-client makes them')
  for (const call of calls) {
    t.equal(call.provider, 'acme-okta', `${call.operation}: the provider's name`)
    t.notOk('connection' in call, 'no connection: one IdP')
    t.equal(call.status, 200, `${call.operation}: the HTTP status`)
    t.ok(call.url?.startsWith(idp.issuer) && !call.url.includes('?'), `${call.operation}: the URL, without query`)
    t.equal((call as { result?: unknown }).result, undefined, 'the answer (tokens) is not handed to subscribers')
  }
  t.equal(calls[0]!.url, `${idp.issuer}/.well-known/openid-configuration`)
  const kinds = traces.events.map(event => `${event.context.operation}:${event.kind}`)
  for (const operation of ['discovery', 'token', 'jwks', 'userinfo']) {
    t.ok(kinds.indexOf(`${operation}:start`) < kinds.indexOf(`${operation}:asyncEnd`), `${operation}: start, then end`)
  }
  t.notOk(traces.events.some(event => event.kind === 'error'), 'no errors')
})

test('an IdP that cannot be reached: the discovery call ends with an error event', async (t) => {
  const traces = recordIdpTraces(t)
  const app = await buildApp(t, unreachableIdp)
  t.equal((await app.inject({ url: '/auth/login', headers: { accept: 'application/json' } })).statusCode, 502)
  const errors = traces.events.filter(event => event.kind === 'error')
  t.equal(errors.length, 1)
  t.match(errors[0]!.context, { provider: 'oidc', operation: 'discovery', url: 'http://127.0.0.1:9/.well-known/openid-configuration' })
  t.type(errors[0]!.context.error, TypeError, 'the network error')
})

test('jose\'s remote key set (a JWT IdP\'s jwksUri) is traced as jwks', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwks = createServer(async (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...await exportJWK(publicKey), kid: 'k1', alg: 'RS256' }] }))
  })
  await new Promise<void>(resolve => jwks.listen(0, '127.0.0.1', resolve))
  t.teardown(() => jwks.close())
  const jwksUri = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/keys`
  const traces = recordIdpTraces(t)
  const app = Fastify()
  await app.register(ssoPlugin, {
    baseUrl,
    provider: jwtProvider({ loginUrl: 'https://idp.example/sso', jwksUri, algorithms: ['RS256'], allowUnsolicited: true, name: 'intranet' }),
    session: { secret: 'a-test-secret-that-is-long-enough-for-hkdf' }
  })
  t.teardown(() => app.close())
  const token = await new SignJWT({ email: 'alice@acme.test' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('alice').setIssuedAt().setExpirationTime('1m').sign(privateKey)
  t.equal((await app.inject({ url: `/auth/callback?id_token=${token}` })).statusCode, 302, 'signed in')
  t.match(traces.finished(), [{ provider: 'intranet', operation: 'jwks', url: jwksUri, status: 200 }])
})

test('SAML: the IdP metadata fetch (metadataUrl) is traced as metadata', async (t) => {
  const idp = await samlIdp(t)
  const traces = recordIdpTraces(t)
  const app = await samlApp(t, idp, { name: 'acme-entra' })
  const browser = new Browser(app, baseUrl)
  const posted = await loginAtIdp(browser)
  t.equal((await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })).status, 200, 'signed in')
  const metadataUrl = new URL(idp.metadataUrl)
  t.match(traces.finished(), [{ provider: 'acme-entra', operation: 'metadata', url: metadataUrl.origin + metadataUrl.pathname }], 'one fetch, then cached')
})

test('WorkOS SSO: the SDK\'s calls (organization lookups, code exchange) are traced with provider and operation', async (t) => {
  const api = await startWorkOS(t)
  const traces = recordIdpTraces(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: true }))
  const landed = await new Browser(app, baseUrl, { accept: 'application/json' }).navigate('/auth/login?email=alice@acme.test')
  t.equal(landed.status, 200, 'signed in')
  t.same(traces.finished().map(call => [call.provider, call.operation]), [
    ['workos-sso', 'organization lookup'],
    ['workos-sso', 'code exchange'],
    ['workos-sso', 'organization lookup']
  ], 'the domain, the exchange, the organization\'s verified domains; URLs the SDK builds locally are no calls')
})

test('a failing WorkOS call: the error event carries the coded error the user gets, not WorkOS\'s raw answer', async (t) => {
  const api = await startWorkOS(t)
  const traces = recordIdpTraces(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  api.fail('/sso/token', { status: 500, json: { message: 'Internal error for code_0123' } })
  const page = await new Browser(app, baseUrl, { accept: 'application/json' }).navigate('/auth/login')
  t.equal(page.status, 502)
  const [failure] = traces.events.filter(event => event.kind === 'error')
  t.match(failure?.context, { provider: 'workos-sso', operation: 'code exchange', error: { code: 'FST_SSO_IDP_UNAVAILABLE', message: /WorkOS failed the code exchange \(HTTP 500\)/ } })
})

test('WorkOS AuthKit: the token refresh is traced', async (t) => {
  const clock = testClock()
  const api = await startWorkOS(t)
  api.now = clock.now
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }), { now: clock.now })
  const browser = new Browser(app, baseUrl, { accept: 'application/json' })
  await browser.navigate('/auth/login')
  const traces = recordIdpTraces(t)
  clock.advance(301_000)
  t.equal((await browser.request('/api/me')).status, 200)
  t.match(traces.finished(), [{ provider: 'workos-authkit', operation: 'token refresh' }])
})

test('a store bound to the channel (as OpenTelemetry binds its context) is active inside the HTTP request to the IdP', async (t) => {
  const idp = await devIdp(t)
  const store = new AsyncLocalStorage<string>()
  const channel = tracingChannel('fastify-sso:idp')
  channel.start.bindStore(store, (call) => `span:${(call as { operation: string }).operation}`)
  t.teardown(() => channel.start.unbindStore(store))
  // undici (fetch) announces each request on its own channel, inside the caller's async context.
  const seen: Array<string | undefined> = []
  const onRequest = () => { seen.push(store.getStore()) }
  subscribe('undici:request:create', onRequest)
  t.teardown(() => unsubscribe('undici:request:create', onRequest))
  const app = await buildApp(t, idp)
  await loginThroughIdp(new Browser(app, baseUrl))
  t.same(seen.filter(value => value !== undefined), ['span:discovery', 'span:token', 'span:jwks'], 'each HTTP request ran inside its IdP call')
})

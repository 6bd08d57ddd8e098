/**
 * Connections speak their own providers' protocols through one callback URL: an IdP that posts
 * its answer with the state in `RelayState` (as SAML does; here `jwtProvider` configured that
 * way, against the JWT test IdP's signed tokens), an IdP-initiated login routed by
 * `?connection=<id>` (only for a provider that accepts them), and a callback in the wrong shape
 * for its connection. The SAML metadata of a connection is its provider's.
 */
import { test } from 'tap'
import { jwtProvider, type SsoConnection, type SsoProvider } from '../src/index.ts'
import { findCore } from '../src/core.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, stopBeforeCallback } from './fixtures/app.ts'
import { aliceClaims, loginUrl, sharedSecret, signHs256 } from './fixtures/jwt-idp.ts'
import { connectionsApp, mapResolver, startTenants } from './fixtures/tenants.ts'

const json = { accept: 'application/json' }

/** An IdP that posts `assertion` and `RelayState` back, like a SAML IdP's HTTP-POST binding. */
function postingIdp (options: { allowUnsolicited?: boolean, stateParam?: string } = {}): SsoProvider {
  return jwtProvider({ loginUrl, secret: sharedSecret, algorithms: ['HS256'], tokenParam: 'assertion', stateParam: 'RelayState', ...options })
}

async function setup (t: Parameters<typeof startTenants>[0], posting: SsoProvider = postingIdp()) {
  const { acme } = await startTenants(t)
  const initech: SsoConnection = { id: 'initech', organizationId: 'org_initech', domains: ['acme.test'], provider: posting }
  const app = await connectionsApp(t, mapResolver([acme.connection, initech]).resolve)
  return { app, acme }
}

test('a connection whose IdP posts the answer with the state in RelayState', async (t) => {
  const { app } = await setup(t)
  const browser = new Browser(app, baseUrl, json)
  const start = await browser.request('/auth/login?connection=initech&returnTo=%2Fdashboard')
  const relayState = new URL(String(start.headers.location)).searchParams.get('RelayState')!
  t.ok(relayState, 'the state travels as RelayState')
  const posted = await browser.request('/auth/callback', { form: { assertion: await signHs256(aliceClaims()), RelayState: relayState } })
  t.equal(posted.status, 302)
  t.equal(posted.headers.location, '/dashboard')
  const { user } = JSON.parse((await browser.request('/')).body)
  t.match(user, { id: 'initech:alice', organizationId: 'org_initech', connectionId: 'initech', connectionType: 'jwt', emailVerified: true })
})

test('IdP-initiated: {prefix}/callback?connection=<id>, only for a connection whose provider accepts unsolicited logins', async (t) => {
  const { app } = await setup(t, postingIdp({ allowUnsolicited: true }))
  const browser = new Browser(app, baseUrl, json)
  const landed = await browser.request('/auth/callback?connection=initech', { form: { assertion: await signHs256(aliceClaims({ jti: 'unsolicited-1' })) } })
  t.equal(landed.status, 302, 'signed in, on the provider\'s own say')
  t.match(JSON.parse((await browser.request('/')).body).user, { organizationId: 'org_initech', connectionId: 'initech' })

  for (const url of ['/auth/callback', '/auth/callback?connection=nobody', '/auth/callback?connection=acme']) {
    const res = await new Browser(app, baseUrl, json).request(url, { form: { assertion: await signHs256(aliceClaims()) } })
    t.equal(res.status, 400, url)
    t.match(JSON.parse(res.body).code, url.endsWith('nobody') ? 'FST_SSO_UNKNOWN_CONNECTION' : 'FST_SSO_TRANSACTION_MISSING', url)
  }
})

test('without allowUnsolicited the same IdP-initiated post is refused', async (t) => {
  const { app } = await setup(t)
  const res = await new Browser(app, baseUrl, json).request('/auth/callback?connection=initech', { form: { assertion: await signHs256(aliceClaims()) } })
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'FST_SSO_TRANSACTION_MISSING')
})

test('a callback in another shape than its connection\'s protocol: refused', async (t) => {
  const { app } = await setup(t)
  // An OpenID Connect login answered by a post, or with its state moved to RelayState.
  const posted = new Browser(app, baseUrl, json)
  const { callbackPath } = await stopBeforeCallback(posted, 'alice@acme.test', '/auth/login?email=alice%40acme.test')
  const params = Object.fromEntries(new URL(callbackPath, baseUrl).searchParams)
  const asPost = await posted.request('/auth/callback', { form: params })
  t.equal(asPost.status, 400)
  t.match(JSON.parse(asPost.body), { code: 'FST_SSO_INVALID_CALLBACK', message: /answers with GET, not POST/ })

  const moved = new Browser(app, baseUrl, json)
  const second = await stopBeforeCallback(moved, 'alice@acme.test', '/auth/login?email=alice%40acme.test')
  const query = new URL(second.callbackPath, baseUrl).searchParams
  query.set('RelayState', query.get('state')!)
  query.delete('state')
  const res = await moved.request(`/auth/callback?${query}`)
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'FST_SSO_STATE_MISMATCH')
})

test('a connection whose provider cannot send the state back is refused (it could finish any connection\'s login)', async (t) => {
  const { app } = await setup(t, jwtProvider({ loginUrl, secret: sharedSecret, algorithms: ['HS256'] }))
  const res = await app.inject({ url: '/auth/login?connection=initech', headers: json })
  t.equal(res.statusCode, 500)
  t.match(res.json(), { code: 'FST_SSO_CONNECTION_INVALID', message: /does not send the login state back/ })
})

test('SAML metadata of a connection is its provider\'s; a connection without any: 404', async (t) => {
  const asked: Array<Record<string, string>> = []
  const posting = postingIdp()
  const withMetadata: SsoProvider = {
    name: 'saml',
    setup (context) {
      const instance = posting.setup(context)
      return Object.assign(Object.create(instance), {
        callback: instance.callback.bind(instance),
        authorizationUrl: instance.authorizationUrl.bind(instance),
        async samlMetadata (login: { query: Record<string, string> }) {
          asked.push(login.query)
          return '<EntityDescriptor entityID="http://localhost:3000"/>'
        }
      })
    }
  }
  const { app } = await setup(t, withMetadata)
  const provider = findCore(app)!.provider
  t.equal(await provider.samlMetadata!({ query: { connection: 'initech', extra: '1' } }), '<EntityDescriptor entityID="http://localhost:3000"/>')
  t.same(asked, [{ extra: '1' }], 'the provider gets the request without connections\' own parameter')
  await t.rejects(provider.samlMetadata!({ query: { connection: 'acme' } }), { code: 'FST_SSO_SAML_METADATA_NOT_FOUND', statusCode: 404 })
  await t.rejects(provider.samlMetadata!({ query: {} }), { code: 'FST_SSO_ROUTING_REQUIRED' })
  await t.rejects(provider.samlMetadata!({ query: { connection: 'nobody' } }), { code: 'FST_SSO_UNKNOWN_CONNECTION' })
})

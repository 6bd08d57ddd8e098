/**
 * OpenID Connect RP-initiated logout: the session ends here first, then the browser goes to the
 * OP's end_session_endpoint with post_logout_redirect_uri, client_id, state and (by default) the
 * ID token as id_token_hint, and the OP sends it back to the app. The ID token is kept
 * server-side (store, sealed, under the session id), never in the cookie.
 */
import { test } from 'tap'
import { decodeJwt } from 'jose'
import { memoryStore, type OidcProviderOptions, type SsoPluginOptions, type SsoStore } from '../src/index.ts'
import { signIn, startDevIdp } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, clearedCookie, confirmLogoutAtIdp, json, loginThroughIdp, providerFor, setCookie, type TapTest } from './fixtures/app.ts'
import { startMaliciousOp } from './fixtures/malicious-op.ts'
import { appFor, assertSignedIn, attemptLogin } from './fixtures/login-attempt.ts'

async function setup (t: TapTest, provider: Partial<OidcProviderOptions> = {}, plugin: Partial<SsoPluginOptions> = {}) {
  const clientSecret = 'dev-client-secret-for-logout-tests'
  const idp = await startDevIdp({
    clients: [{
      clientId: 'logout-client',
      clientSecret,
      redirectUris: [`${baseUrl}/auth/callback`],
      postLogoutRedirectUris: [`${baseUrl}/bye`]
    }]
  })
  t.teardown(() => idp.close())
  const client = { issuer: idp.issuer, clientId: 'logout-client', clientSecret }
  const app = await buildApp(t, client, { logoutRedirect: '/bye', provider: providerFor(client, provider), ...plugin }, (app) => {
    app.get('/bye', async (request) => ({ bye: true, user: request.user }))
  })
  const browser = new Browser(app, baseUrl)
  const landed = await loginThroughIdp(browser)
  t.equal(landed.url, `${baseUrl}/dashboard`, 'signed in')
  return { idp, app, browser }
}

/** A store that records what is kept in it and can be told to fail for provider-state keys. */
function watchedStore () {
  const inner = memoryStore()
  const watched = { failProviderState: false, keys: new Map<string, string>() }
  const store: SsoStore = {
    ...inner,
    async set (key, value, ttlMs) {
      if (watched.failProviderState && key.startsWith('provider-state:')) throw new Error('store down')
      watched.keys.set(key, value)
      return inner.set(key, value, ttlMs)
    },
    async delete (key) {
      watched.keys.delete(key)
      return inner.delete(key)
    }
  }
  return { store, inner, watched }
}

const providerStateKeys = (keys: Map<string, string>) => [...keys.keys()].filter(key => key.startsWith('provider-state:'))

test('logout → the OP end_session_endpoint with post_logout_redirect_uri, client_id, state and id_token_hint by default; the OP ends its session and sends the browser back', async (t) => {
  const { idp, app, browser } = await setup(t)
  const cookie = browser.cookieHeader(baseUrl)
  const res = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(res.status, 302)
  t.match(setCookie(res.headers, 'sso'), clearedCookie, 'session cookie cleared')
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, `${idp.issuer}/session/end`)
  t.equal(location.searchParams.get('post_logout_redirect_uri'), `${baseUrl}/bye`)
  t.equal(location.searchParams.get('client_id'), 'logout-client')
  t.ok((location.searchParams.get('state') ?? '').length >= 20, 'a random state')
  const hint = location.searchParams.get('id_token_hint')
  t.ok(hint, 'id_token_hint sent')
  t.match(decodeJwt(hint!), { iss: idp.issuer, aud: 'logout-client', sub: 'user_alice_acme_test' })
  t.equal((await app.inject({ url: '/dashboard', headers: { cookie, ...json } })).statusCode, 401, 'the old cookie is signed out')
  const back = await confirmLogoutAtIdp(browser, location.href)
  const landed = new URL(back.url)
  t.equal(landed.origin + landed.pathname, `${baseUrl}/bye`, 'the OP accepted the hint and the redirect')
  t.equal(landed.searchParams.get('state'), location.searchParams.get('state'), 'the OP echoes state')
  t.same(JSON.parse(back.body), { bye: true, user: null })
  // The OP's session is gone: the next login shows its form again instead of signing in silently.
  const again = await browser.navigate('/auth/login?returnTo=%2Fdashboard')
  t.match(again.body, /<form method="post"/, 'the IdP asks for credentials again')
})

test('keepIdToken: false → no id_token_hint, nothing kept in the store', async (t) => {
  const { store, watched } = watchedStore()
  const { browser } = await setup(t, { keepIdToken: false }, { store })
  t.same(providerStateKeys(watched.keys), [])
  const res = await browser.request('/auth/logout', { method: 'POST' })
  const location = new URL(String(res.headers.location))
  t.equal(location.searchParams.get('id_token_hint'), null)
  t.ok(location.searchParams.get('state'), 'state is sent all the same')
})

test('the ID token is kept in the store, sealed, under the session; the cookie does not grow; logout deletes it', async (t) => {
  const { store, watched } = watchedStore()
  const kept = await setup(t, {}, { store })
  const without = await setup(t, { keepIdToken: false })
  const keptCookie = kept.browser.cookies(baseUrl).get('sso')!.value
  const plainCookie = without.browser.cookies(baseUrl).get('sso')!.value
  t.ok(Math.abs(keptCookie.length - plainCookie.length) < 16, `the cookie is the same size with or without the kept ID token (${keptCookie.length} / ${plainCookie.length} characters)`)
  const [key] = providerStateKeys(watched.keys)
  t.ok(key, 'one provider-state entry')
  const sealed = watched.keys.get(key!)!
  t.notMatch(sealed, /eyJ/, 'no JWT (nor any JSON) in clear in the store')
  const res = await kept.browser.request('/auth/logout', { method: 'POST' })
  const hint = new URL(String(res.headers.location)).searchParams.get('id_token_hint')
  t.ok(hint, 'id_token_hint sent')
  t.same(providerStateKeys(watched.keys), [], 'deleted at logout')
})

test('an ID token with a long group list (too large for the cookie) is kept all the same', async (t) => {
  const op = await startMaliciousOp(t)
  const app = await appFor(t, op)
  op.behaviour.claims = { groups: Array.from({ length: 80 }, (_, i) => `engineering-group-${i}`) }
  const attempt = await attemptLogin(app)
  await assertSignedIn(t, app, attempt)
  const res = await attempt.browser.request('/auth/logout', { method: 'POST' })
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, `${op.issuer}/logout`)
  const hint = location.searchParams.get('id_token_hint')
  t.ok(hint && hint.length > 3000, `the whole ID token is sent (${hint?.length} characters)`)
  t.equal((decodeJwt(hint!).groups as unknown[]).length, 80)
})

test('the store fails to keep the ID token: the login goes on, logout goes without the hint', async (t) => {
  const { store, watched } = watchedStore()
  watched.failProviderState = true
  const { browser } = await setup(t, {}, { store })
  const res = await browser.request('/auth/logout', { method: 'POST' })
  const location = new URL(String(res.headers.location))
  t.equal(location.searchParams.get('id_token_hint'), null)
  t.equal(location.searchParams.get('post_logout_redirect_uri'), `${baseUrl}/bye`)
})

test('the kept ID token was evicted from the store: logout goes without the hint, no error', async (t) => {
  const { store, inner, watched } = watchedStore()
  const { browser } = await setup(t, {}, { store })
  for (const key of providerStateKeys(watched.keys)) await inner.delete(key)
  const res = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(res.status, 302)
  t.equal(new URL(String(res.headers.location)).searchParams.get('id_token_hint'), null)
})

test('a session the app started itself (app.sso.signIn, a password login): local logout, no visit to the OP', async (t) => {
  const { app } = await setup(t)
  const cookie = await signIn(app, { email: 'dana@example.test', provider: 'local' })
  const res = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/bye', 'the OP has no session of this user to end')
  t.match(setCookie(res.headers, 'sso'), clearedCookie, 'session cookie cleared')
  const idpUser = await signIn(app, { email: 'alice@acme.test' })
  const idpLogout = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: idpUser } })
  t.match(String(idpLogout.headers.location), /\/session\/end\?/, 'a session of the OP\'s own still goes there')
})

test('an OP without end_session_endpoint: local logout to logoutRedirect', async (t) => {
  const op = await startMaliciousOp(t)
  op.behaviour.discovery = { end_session_endpoint: undefined }
  const app = await appFor(t, op, {}, { logoutRedirect: '/bye' })
  const attempt = await attemptLogin(app)
  await assertSignedIn(t, app, attempt)
  const res = await attempt.browser.request('/auth/logout', { method: 'POST' })
  t.equal(res.status, 302)
  t.equal(res.headers.location, '/bye')
  t.match(setCookie(res.headers, 'sso'), clearedCookie)
})

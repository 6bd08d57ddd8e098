/**
 * SAML logout: a LogoutRequest to the IdP's Single Logout URL and its LogoutResponse back at
 * `{prefix}/saml/logout`, against the development SAML IdP over HTTP; local logout without one.
 */
import { test, type Test } from 'tap'
import { inflateRawSync } from 'node:zlib'
import Fastify from 'fastify'
import ssoPlugin, { requireUser, samlProvider, type SamlIdpOptions } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { freePort, secret } from './fixtures/app.ts'
import { loginAtIdp, postToAcs, samlIdp } from './fixtures/saml.ts'

async function listeningApp (t: Test, idpOptions?: (idp: Awaited<ReturnType<typeof samlIdp>>) => SamlIdpOptions) {
  const port = await freePort()
  const origin = `http://localhost:${port}`
  const idp = await samlIdp(t, { app: { baseUrl: origin } })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ssoPlugin, { baseUrl: origin, provider: samlProvider({ idp: idpOptions?.(idp) ?? { metadataUrl: idp.metadataUrl } }), session: { secret }, logoutRedirect: '/signed-out' })
  app.get('/dashboard', { preHandler: requireUser() }, async (request) => ({ user: request.user }))
  app.get('/signed-out', async () => 'signed out')
  await app.listen({ port, host: '127.0.0.1' })
  const browser = new Browser(app, origin)
  const posted = await loginAtIdp(browser)
  await postToAcs(browser, { SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState })
  t.equal((await browser.request('/dashboard')).status, 200, 'signed in')
  return { app, idp, browser, origin }
}

test('logout sends a LogoutRequest to the IdP\'s SLO URL and lands on logoutRedirect after its LogoutResponse', async (t) => {
  const { idp, browser, origin } = await listeningApp(t)
  const logout = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(logout.status, 302)
  const location = new URL(String(logout.headers.location))
  t.equal(location.origin + location.pathname, idp.sloUrl)
  const request = inflateRawSync(Buffer.from(location.searchParams.get('SAMLRequest')!, 'base64')).toString()
  t.match(request, '>user_alice_acme_test</saml:NameID>', 'for the user\'s NameID')
  t.match(request, /SessionIndex[^>]*>_user_alice_acme_test</, 'and the IdP session')
  const back = await browser.navigate(location.href)
  t.equal(back.url, `${origin}/signed-out`)
  t.ok(browser.history.some(url => url.startsWith(`${origin}/auth/saml/logout?SAMLResponse=`)), 'through the SP\'s single logout endpoint')
  t.equal((await browser.request('/dashboard', { headers: { accept: 'application/json' } })).status, 401)

  const replay = await browser.request(browser.history.find(url => url.includes('/auth/saml/logout?'))!, { headers: { accept: 'application/json' } })
  t.equal(replay.status, 400, 'a LogoutResponse is used once')
  t.equal(JSON.parse(replay.body).code, 'FST_SSO_IDP_ERROR')
})

test('a LogoutResponse that answers no LogoutRequest of ours, or none at all, is a 400', async (t) => {
  const { app } = await listeningApp(t)
  const forged = Buffer.from('<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_f" Version="2.0" InResponseTo="_never-sent"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>').toString('base64')
  for (const request of [
    { method: 'POST' as const, url: '/auth/saml/logout', payload: `SAMLResponse=${encodeURIComponent(forged)}`, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } },
    { method: 'GET' as const, url: '/auth/saml/logout', headers: { accept: 'application/json' } }
  ]) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 400, request.method)
    t.match(res.json().code, /FST_SSO_(IDP_ERROR|INVALID_CALLBACK)/)
  }
})

test('without a Single Logout URL at the IdP, logout is local', async (t) => {
  const { browser, origin } = await listeningApp(t, (idp) => ({ entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificate] }))
  const logout = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(logout.status, 302)
  t.equal(logout.headers.location, '/signed-out')
  t.equal((await browser.request(`${origin}/dashboard`, { headers: { accept: 'application/json' } })).status, 401)
})

import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import { SignJWT, generateKeyPair } from 'jose'
import ssoPlugin, { memoryStore, oidcProvider, requireUser } from '../src/index.ts'
import { startDevIdp } from '../src/testing/index.ts'
import { Browser } from './fixtures/browser.ts'
import { freePort, loginThroughIdp, secret } from './fixtures/app.ts'


async function setup (t: { teardown(fn: () => unknown): void }, withStore = true) {
  const port = await freePort()
  // 127.0.0.1, not localhost: the IdP calls this URL server to server, and localhost may resolve to ::1.
  const baseUrl = `http://127.0.0.1:${port}`
  const idp = await startDevIdp({
    clients: [{
      clientId: 'bcl-app',
      clientSecret: 'bcl-secret-bcl-secret',
      redirectUris: [`${baseUrl}/auth/callback`],
      postLogoutRedirectUris: [`${baseUrl}/`],
      backchannelLogoutUri: `${baseUrl}/auth/backchannel-logout`
    }]
  })
  t.teardown(() => idp.close())
  const app = Fastify()
  await app.register(ssoPlugin, {
    baseUrl,
    provider: oidcProvider({ issuer: idp.issuer, clientId: 'bcl-app', clientSecret: 'bcl-secret-bcl-secret' }),
    session: { secret },
    ...(withStore ? { store: memoryStore() } : {})
  })
  app.get('/api/me', { preHandler: requireUser() }, async (request) => request.user)
  app.get('/', async () => 'home')
  await app.listen({ port, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, idp, baseUrl }
}

test('back-channel logout end to end: logging out at the IdP ends the app session', async (t) => {
  const { app, idp, baseUrl } = await setup(t)
  const browser = new Browser(app, baseUrl)
  const landed = await loginThroughIdp(browser)
  t.equal(landed.status, 404, 'signed in (landed on /dashboard, not defined here)')
  const cookie = browser.cookieHeader(`${baseUrl}/`)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 200)

  // The user logs out at the IdP directly (another app, the IdP portal): the IdP calls us back.
  const confirm = await browser.navigate(`${idp.issuer}/session/end?client_id=bcl-app`)
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1]!
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)![1]!
  await browser.navigate(new URL(action, confirm.url).href, { form: { xsrf, logout: 'yes' } })
  await sleep(100)
  t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401, 'the session was revoked by the IdP')
})

test('invalid logout tokens are refused with 400, and a token works once', async (t) => {
  const { app, idp } = await setup(t)
  const post = (logoutToken: string) => app.inject({
    method: 'POST', url: '/auth/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    payload: `logout_token=${encodeURIComponent(logoutToken)}`
  })
  const { privateKey } = await generateKeyPair('RS256')
  const forged = await new SignJWT({ events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sid: 's1' })
    .setProtectedHeader({ alg: 'RS256', kid: 'forged', typ: 'logout+jwt' })
    .setIssuer(idp.issuer).setAudience('bcl-app').setIssuedAt().setJti('j1').sign(privateKey)
  for (const token of ['', 'garbage', 'a.b.c', forged, 'x'.repeat(9000)]) {
    const res = await post(token)
    t.equal(res.statusCode, 400, token.slice(0, 20))
    t.equal(res.json().code, 'FST_SSO_BACKCHANNEL_LOGOUT_INVALID')
  }
  const none = await app.inject({ method: 'POST', url: '/auth/backchannel-logout', headers: { accept: 'application/json' } })
  t.equal(none.statusCode, 400)
})

test('without a configured store the route is not advertised', async (t) => {
  const { app } = await setup(t, false)
  t.equal((await app.inject({ method: 'POST', url: '/auth/backchannel-logout' })).statusCode, 404)
})

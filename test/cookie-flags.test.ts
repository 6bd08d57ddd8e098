import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, clearedCookie, cookiePair, devIdp, loginThroughIdp, secret, setCookie, stopBeforeCallback } from './fixtures/app.ts'
import { startDevIdp } from '../src/testing/index.ts'

test('on http localhost: HttpOnly, SameSite=Lax, Path=/, no Secure, names sso and sso-tx', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const login = await app.inject({ url: '/auth/login?returnTo=/dashboard' })
  t.equal(login.statusCode, 302)
  t.equal(login.headers['cache-control'], 'no-store')
  const tx = setCookie(login.headers, 'sso-tx')!
  t.match(tx, /; HttpOnly/)
  t.match(tx, /; SameSite=Lax/)
  t.match(tx, /; Path=\//)
  t.notMatch(tx, /Secure/)
  const maxAge = Number(/Max-Age=(\d+)/.exec(tx)?.[1])
  t.ok(maxAge > 0 && maxAge <= 600, `transaction Max-Age ${maxAge} ≤ 600`)

  const browser = new Browser(app, baseUrl)
  await loginThroughIdp(browser)
  const callbackUrl = browser.history.find(url => url.includes('/auth/callback'))!
  t.ok(callbackUrl, 'went through the callback')
})

test('the callback sets the session cookie with explicit flags and clears the transaction', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  const browser = new Browser(app, baseUrl)
  // Stop right before the callback to look at its response headers.
  const { callbackPath } = await stopBeforeCallback(browser, 'alice@acme.test', '/auth/login')
  const callback = await browser.request(callbackPath)
  t.equal(callback.status, 302)
  t.equal(callback.headers['cache-control'], 'no-store')
  const session = setCookie(callback.headers, 'sso')!
  t.match(session, /; HttpOnly/)
  t.match(session, /; SameSite=Lax/)
  t.match(session, /; Path=\//)
  t.notMatch(session, /Secure/)
  t.match(session, /Max-Age=28800/, 'Max-Age is the idle timeout')
  t.match(setCookie(callback.headers, 'sso-tx'), clearedCookie, 'transaction cookie cleared')
  t.ok(cookiePair(session).length < 1024, `a typical profile's cookie is under 1 KB (${cookiePair(session).length} bytes)`)
})

test('on https: Secure and the __Host- prefix on both cookies; sameSite option honoured', async (t) => {
  const idp = await startDevIdp({ app: { baseUrl: 'https://app.example.com' } })
  t.teardown(() => idp.close())
  const app = await buildApp(t, idp, { baseUrl: 'https://app.example.com', session: { secret, sameSite: 'strict' } })
  const login = await app.inject({ url: '/auth/login' })
  const tx = setCookie(login.headers, '__Host-sso-tx')!
  t.ok(tx, 'transaction cookie is __Host-sso-tx')
  t.match(tx, /; Secure/)
  t.match(tx, /; SameSite=Lax/, 'the transaction cookie stays Lax: it must survive the top-level redirect back from the IdP')

  const browser = new Browser(app, 'https://app.example.com')
  const landed = await loginThroughIdp(browser)
  t.equal(landed.status, 200)
  const session = browser.jar.get('app.example.com')!.get('__Host-sso')
  t.ok(session, 'session cookie is __Host-sso')
})

test('Cache-Control: no-store on every auth route and guard answer', async (t) => {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp)
  for (const [method, url, headers] of [
    ['GET', '/auth/login', {}],
    ['GET', '/auth/callback?code=x&state=y', {}],
    ['POST', '/auth/logout', {}],
    ['GET', '/auth/logout', {}],
    ['GET', '/dashboard', { accept: 'text/html' }],
    ['GET', '/api/me', {}]
  ] as const) {
    const res = await app.inject({ method, url, headers })
    t.equal(res.headers['cache-control'], 'no-store', `${method} ${url} → ${res.statusCode}`)
  }
})

/**
 * The example's pages when things go wrong: a failed login comes back to the home page
 * (`errorRedirect: '/'`) saying what happened, and nothing from a URL or an IdP reaches the HTML
 * unescaped.
 */
import { test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { startTestExample } from './fixtures/example.ts'

const example = startTestExample

test('a callback this browser did not start: back home with the reason', async (t) => {
  const { browser, url } = await example(t)
  const page = await browser.navigate('/auth/callback?code=forged&state=forged')
  t.equal(page.url, `${url}?error=FST_SSO_TRANSACTION_MISSING`)
  t.equal(page.status, 200)
  t.match(page.body, /<p class="error" role="alert">The sign-in could not be matched to this browser/)
  t.match(page.body, /use http:\/\/localhost, not 127\.0\.0\.1/)
  t.match(page.body, /Sign in with SSO/, 'with the forms to try again')
})

test('the IdP refuses the sign-in: back home with the reason', async (t) => {
  const { browser, url } = await example(t)
  const login = await browser.request('/auth/login?returnTo=%2Fdashboard&email=alice%40acme.test')
  const state = new URL(String(login.headers.location)).searchParams.get('state')!
  const page = await browser.navigate(`/auth/callback?error=access_denied&error_description=cancelled&state=${encodeURIComponent(state)}`)
  t.equal(page.url, `${url}?error=FST_SSO_IDP_ERROR`)
  t.match(page.body, /The identity provider refused the sign-in/)
  t.equal((await browser.request('/dashboard')).status, 302, 'no session')
})

test('error codes: known ones explained, others the plugin\'s own text, anything else escaped', async (t) => {
  const { browser } = await example(t)
  const tooLarge = await browser.navigate('/?error=FST_SSO_PROFILE_TOO_LARGE')
  t.match(tooLarge.body, /The identity provider sent a profile too large for a session cookie/)
  const hostile = await browser.navigate(`/?error=${encodeURIComponent('<script>alert(1)</script>')}`)
  t.equal(hostile.status, 200)
  t.notMatch(hostile.body, /<script>alert/)
  t.match(hostile.body, /The sign-in failed\. Please try again\. <span class="note">\(&lt;script&gt;alert\(1\)&lt;\/script&gt;\)<\/span>/)
  const repeated = await browser.navigate('/?error=a&error=b')
  t.equal(repeated.status, 200, 'a repeated parameter is no error')
  t.equal((await browser.navigate('/?error=__proto__')).status, 200)
})

test('IdP values are escaped on the dashboard', async (t) => {
  const { app } = await example(t)
  const cookie = await signIn(app, {
    email: 'eve@evil.test',
    name: '<img src=x onerror=alert(1)>',
    organizationId: '"><script>alert(2)</script>',
    roles: ['<b>root</b>'],
    claims: { note: '</pre><script>alert(3)</script>' }
  })
  const page = await app.inject({ url: '/dashboard', headers: { cookie, accept: 'text/html' } })
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, /<img|<script|<b>/)
  t.match(page.body, /&lt;img src=x onerror=alert\(1\)&gt;/)
  t.match(page.body, /&lt;\/pre&gt;&lt;script&gt;alert\(3\)&lt;\/script&gt;/)
})

test('signed out: /dashboard sends browsers to the login and answers API clients 401', async (t) => {
  const { app } = await example(t)
  const browser = await app.inject({ url: '/dashboard', headers: { accept: 'text/html' } })
  t.equal(browser.statusCode, 302)
  t.equal(browser.headers.location, '/auth/login?returnTo=%2Fdashboard')
  const api = await app.inject({ url: '/dashboard', headers: { accept: 'application/json' } })
  t.equal(api.statusCode, 401)
  t.equal(api.json().code, 'FST_SSO_UNAUTHORIZED')
})

test('http://127.0.0.1:<port> is sent to http://localhost:<port>, where the login cookies live', async (t) => {
  const { app, url } = await example(t)
  const port = new URL(url).port
  const res = await app.inject({ url: '/dashboard?x=1', headers: { host: `127.0.0.1:${port}` } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `${url}dashboard?x=1`)
  const post = await app.inject({ method: 'POST', url: '/auth/logout', headers: { host: `127.0.0.1:${port}` } })
  t.not(post.headers.location, `${url}auth/logout`, 'POSTs are not redirected')
})

/**
 * The example's ordinary password login beside SSO: the app checks the password and hands the user
 * to `app.sso.signIn()`, so one session cookie, one guard and one logout serve both kinds of users.
 */
import { test } from 'tap'
import { ssoLoginPath, startTestExample } from './fixtures/example.ts'
import { loginThroughIdp } from './fixtures/app.ts'

const example = startTestExample

test('a wrong password is refused on the home page, with no session', async (t) => {
  const { browser } = await example(t)
  for (const form of [{ email: 'demo@example.test', password: 'nope' }, { email: 'alice@acme.test', password: 'demo-password' }, { email: 'demo@example.test', password: '' }]) {
    const page = await browser.navigate('/login/password', { form })
    t.equal(page.status, 401)
    t.match(page.body, /Wrong email or password/)
    t.match(page.body, /Sign in with SSO/, 'SSO is still offered')
    t.notOk(page.headers['set-cookie'], 'no cookie')
  }
  const empty = await browser.request('/login/password', { method: 'POST' })
  t.equal(empty.status, 401, 'no body at all')
})

test('the demo account signs in with its password and reaches the dashboard', async (t) => {
  const { browser, url } = await example(t)
  const page = await browser.navigate('/login/password', { form: { email: ' Demo@Example.test ', password: 'demo-password' } })
  t.equal(page.url, `${url}dashboard`)
  t.match(page.body, /Welcome, Demo Customer/)
  t.match(page.body, /signed in with a password/)
  t.match(page.body, /<code>local<\/code>/, 'provider: local')
  t.match(page.body, /org_local/)
  t.equal((await browser.request('/dashboard')).status, 200, 'the same guard lets the password user through')
})

test('the password user\'s logout never visits the IdP; SSO still works afterwards', async (t) => {
  const { browser, url } = await example(t)
  await browser.navigate('/login/password', { form: { email: 'demo@example.test', password: 'demo-password' } })
  const out = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(out.status, 302)
  t.equal(out.headers.location, '/', 'straight back to the home page: no IdP session to end')
  t.equal((await browser.request('/dashboard')).status, 302, 'signed out')

  const sso = await loginThroughIdp(browser, 'alice@acme.test', ssoLoginPath('alice@acme.test'))
  t.equal(sso.url, `${url}dashboard`)
  t.match(sso.body, /Welcome, Alice/)
})

test('signing in with a password replaces an SSO session in the same browser', async (t) => {
  const { browser } = await example(t)
  await loginThroughIdp(browser, 'alice@acme.test', ssoLoginPath('alice@acme.test'))
  const page = await browser.navigate('/login/password', { form: { email: 'demo@example.test', password: 'demo-password' } })
  t.match(page.body, /Welcome, Demo Customer/)
  t.notMatch(page.body, /Alice/)
})

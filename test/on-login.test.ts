import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, buildApp, devIdp, json, loginThroughIdp } from './fixtures/app.ts'
import { LoginDeniedError, type SsoPluginOptions } from '../src/index.ts'

async function loginWith (t: Parameters<typeof devIdp>[0], onLogin: SsoPluginOptions['onLogin'], email = 'alice@acme.test') {
  const idp = await devIdp(t)
  const app = await buildApp(t, idp, { onLogin })
  const browser = new Browser(app, baseUrl, json)
  const page = await loginThroughIdp(browser, email)
  return { page, browser, app }
}

test('onLogin may change the user', async (t) => {
  const { page } = await loginWith(t, (user) => ({ ...user, roles: ['billing'], name: 'Changed' }))
  t.equal(page.status, 200)
  t.match(JSON.parse(page.body).user, { name: 'Changed', roles: ['billing'] })
})

test('onLogin returning false denies with 403 and no session', async (t) => {
  const { page, browser } = await loginWith(t, (user) => user.email.endsWith('@globex.test'))
  t.equal(page.status, 403)
  t.equal(JSON.parse(page.body).code, 'FST_SSO_LOGIN_DENIED')
  t.notOk(browser.jar.get('localhost')?.get('sso'), 'no session cookie')
})

test('onLogin throwing denies with a generic message; a thrown LoginDeniedError shows its own', async (t) => {
  const generic = await loginWith(t, async () => { throw new Error('db at 10.0.0.5 refused') })
  t.equal(generic.page.status, 403)
  t.notMatch(generic.page.body, /10\.0\.0\.5/, 'internal messages are not shown')
  const coded = await loginWith(t, async () => { throw LoginDeniedError('Only Globex accounts may sign in here.') })
  t.equal(coded.page.status, 403)
  t.match(JSON.parse(coded.page.body).message, 'Only Globex accounts')
})

test('claims that would overflow the cookie are left out rather than failing the login', async (t) => {
  const { page } = await loginWith(t, (user) => ({ ...user, claims: { blob: 'x'.repeat(6000) } }))
  t.equal(page.status, 200)
  const user = JSON.parse(page.body).user
  t.equal(user.email, 'alice@acme.test')
  t.notOk(user.claims)
})

test('onLogin returning a non-user is a 500 bug report, not a session', async (t) => {
  const { page } = await loginWith(t, (() => 'yes') as never)
  t.equal(page.status, 500)
  t.equal(JSON.parse(page.body).code, 'FST_SSO_INVALID_OPTION')
})

test('a session too large for a cookie fails loudly instead of being dropped by the browser', async (t) => {
  const { page, browser } = await loginWith(t, (user) => ({ ...user, name: 'x'.repeat(6000) }))
  t.equal(page.status, 500)
  t.match(JSON.parse(page.body), { code: 'FST_SSO_SESSION_TOO_LARGE', message: /4096 bytes/ })
  t.notOk(browser.jar.get('localhost')?.get('sso'))
})

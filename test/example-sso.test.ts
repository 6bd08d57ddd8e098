/**
 * The example app as a multi-tenant app (each demo customer on its own development IdP), driven
 * like a browser by a plain HTTP client with a cookie jar: the home page's SSO form routing by the
 * work email, the customer's IdP login form, the dashboard, the logout through that IdP's
 * end-session page, and a deep link while signed out.
 */
import { test } from 'tap'
import { Browser, type Page } from './fixtures/browser.ts'
import { logoutThroughIdp, startTestExample } from './fixtures/example.ts'

const example = startTestExample

/** What submitting the page's GET form sends: its fields (hidden and visible) plus `fields`. */
function getFormUrl (page: Page, action: string, fields: Record<string, string>): string {
  const form = new RegExp(`<form method="get" action="${action}">([\\s\\S]*?)</form>`).exec(page.body)?.[1]
  if (!form) throw new Error(`no GET form to ${action} on ${page.url}`)
  const query = new URLSearchParams()
  for (const [, name, value] of form.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) query.set(name!, value!)
  for (const [name, value] of Object.entries(fields)) query.set(name, value)
  return `${action}?${query}`
}

/** The development IdP's main form: its action and the prefilled email. */
function idpForm (page: Page) {
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1]
  const email = /<input id="email"[^>]*value="([^"]*)"/.exec(page.body)?.[1]
  if (!action) throw new Error(`no IdP login form at ${page.url}: ${page.body.slice(0, 200)}`)
  return { action: new URL(action, page.url).href, email }
}

test('the home page offers SSO by work email beside the password login', async (t) => {
  const { browser } = await example(t)
  const home = await browser.navigate('/')
  t.equal(home.status, 200)
  t.match(home.headers['content-type'], /^text\/html/)
  t.match(home.body, /<form method="get" action="\/auth\/login">/)
  t.match(home.body, /<input type="hidden" name="returnTo" value="\/dashboard">/)
  t.match(home.body, /name="email" type="email"/)
  t.match(home.body, /<form method="post" action="\/login\/password">/)
  t.match(home.body, /<form method="post" action="\/login\/password">[\s\S]*name="password"/)
  t.match(home.body, /demo@example\.test/)
  t.match(home.body, /embedded development IdP/)
})

test('SSO: work email → that customer\'s IdP form (prefilled) → the dashboard; reload; logout through that IdP', async (t) => {
  const { browser, url, idp } = await example(t)
  const home = await browser.navigate('/')
  const login = await browser.navigate(getFormUrl(home, '/auth/login', { email: 'alice@acme.test' }))
  t.ok(login.url.startsWith(`${idp}/interaction/`), 'on Acme\'s development IdP')
  t.match(login.body, /Sign in to Acme/)
  const form = idpForm(login)
  t.equal(form.email, 'alice@acme.test', 'the email arrives as login_hint')
  t.notMatch(login.body, /<script/i, 'the IdP page needs no JavaScript')

  const dashboard = await browser.navigate(form.action, { form: { email: 'alice@acme.test', password: 'anything' } })
  t.equal(dashboard.url, `${url}dashboard`, 'lands on returnTo=/dashboard')
  t.equal(dashboard.status, 200)
  for (const expected of ['Welcome, Alice', 'Alice Anders', 'alice@acme.test', 'Acme <code>org_acme</code>', '<code>acme</code> (oidc)', '<code>oidc</code>', 'admin', 'Engineering', 'Raw claims', '&quot;org_name&quot;: &quot;Acme&quot;', 'action="/auth/logout"']) {
    t.ok(dashboard.body.includes(expected), `the dashboard shows ${expected}`)
  }
  t.notMatch(dashboard.body, /<script/i)

  const reload = await browser.request('/dashboard')
  t.equal(reload.status, 200, 'still signed in on reload')
  t.equal((await browser.request('/')).headers.location, '/dashboard', 'the home page sends a signed-in user on')

  const back = await logoutThroughIdp(browser, idp)
  t.equal(back.url.split('?')[0], url, 'the IdP sends the browser back to the example\'s home page')
  t.match(new URL(back.url).search, /^\?state=[\w-]+$/, 'with the state of the logout request, nothing else')
  t.match(back.body, /Sign in with SSO/)
  const again = await browser.request('/dashboard')
  t.equal(again.status, 302, 'signed out')
  t.equal(again.headers.location, '/auth/login?returnTo=%2Fdashboard')
})

test('bob@globex.test goes to Globex\'s own IdP and signs in to Globex', async (t) => {
  const { browser, url, idps } = await example(t)
  const home = await browser.navigate('/')
  const login = await browser.navigate(getFormUrl(home, '/auth/login', { email: 'bob@globex.test' }))
  t.ok(login.url.startsWith(`${idps.globex}/interaction/`), 'on Globex\'s development IdP')
  t.not(idps.globex, idps.acme)
  t.match(login.body, /Sign in to Globex/)
  t.notMatch(login.body, /alice@acme\.test/, 'Globex\'s IdP knows only Globex\'s people')
  const dashboard = await browser.navigate(idpForm(login).action, { form: { email: 'bob@globex.test', password: 'x' } })
  t.equal(dashboard.url, `${url}dashboard`)
  t.match(dashboard.body, /Globex <code>org_globex<\/code>/)
  t.match(dashboard.body, /<code>globex<\/code> \(oidc\)/)
  const out = await browser.request('/auth/logout', { method: 'POST' })
  t.ok(String(out.headers.location).startsWith(`${idps.globex}/session/end`), 'logout goes to Globex\'s IdP')
})

test('an email domain no customer has: back home, saying so', async (t) => {
  const { browser, url } = await example(t)
  const page = await browser.navigate('/auth/login?returnTo=%2Fdashboard&email=someone%40umbrella.test')
  t.equal(page.url, `${url}?error=FST_SSO_UNKNOWN_DOMAIN`)
  t.match(page.body, /Single sign-on is not set up for that email domain/)
})

test('a deep link while signed out: the home page asks for the work email, then the customer\'s IdP, then the page asked for', async (t) => {
  const { browser, url, idps } = await example(t)
  const home = await browser.navigate('/directories')
  t.equal(home.url, `${url}?error=FST_SSO_ROUTING_REQUIRED&returnTo=%2Fdirectories`, 'no email yet: back to the form, keeping the page asked for')
  t.match(home.body, /Enter your work email to sign in with SSO/)
  t.match(home.body, /<input type="hidden" name="returnTo" value="\/directories">/)
  const login = await browser.navigate(getFormUrl(home, '/auth/login', { email: 'bob@globex.test' }))
  t.ok(login.url.startsWith(`${idps.globex}/interaction/`))
  const form = idpForm(login)
  t.equal(form.email, 'bob@globex.test')
  const unknown = await browser.navigate(form.action, { form: { email: 'mallory@evil.test', password: 'x' } })
  t.match(unknown.body, /Unknown user: pick one of the demo accounts/)
  const noPassword = await browser.navigate(idpForm(unknown).action, { form: { email: 'bob@globex.test', password: '' } })
  t.match(noPassword.body, /Enter any password/)
  const page = await browser.navigate(idpForm(noPassword).action, { form: { email: 'bob@globex.test', quick: '1' } })
  t.equal(page.url, `${url}directories`, 'back on the page first asked for')
  t.equal(page.status, 200)
  const unsafe = await new Browser(browser.app, url).navigate('/?error=FST_SSO_ROUTING_REQUIRED&returnTo=https%3A%2F%2Fevil.test%2F')
  t.match(unsafe.body, /<input type="hidden" name="returnTo" value="\/dashboard">/, 'an unsafe returnTo is not kept')
})

test('logout when the IdP session is already gone comes straight back, without JavaScript', async (t) => {
  const { browser, url, idp } = await example(t)
  await browser.navigate('/auth/login?returnTo=%2Fdashboard&email=alice%40acme.test')
    .then(page => browser.navigate(idpForm(page).action, { form: { email: 'alice@acme.test', password: 'x' } }))
  // The IdP forgets its session (as after a restart of `npm start` with a fixed SESSION_SECRET).
  browser.jar.delete(new URL(idp).hostname)
  const out = await browser.request('/auth/logout', { method: 'POST' })
  t.ok(String(out.headers.location).startsWith(`${idp}/session/end`))
  const end = await browser.request(String(out.headers.location))
  t.equal(end.status, 303, 'no self-submitting form: a redirect')
  t.equal(String(end.headers.location).split('?state=')[0], url)
  t.equal((await browser.request('/dashboard')).status, 302, 'signed out of the app')
})

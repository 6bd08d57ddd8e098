/**
 * The newcomer path in a real headless Chromium, with JavaScript turned off (the example and the
 * development IdPs need none): the example as a multi-tenant app, each customer on its own
 * development IdP. From the home page, a work email at Acme to Acme's IdP and the dashboard, a
 * reload, the logout through Acme's end-session page; a Globex user through Globex's IdP; an
 * Initech user through Initech's SAML IdP (a cross-site form post on http://localhost); a deep
 * link that asks for the work email; and the password login beside SSO.
 *
 * Needs Debian's Chromium (`apt-get install -y chromium`; CHROMIUM_PATH overrides the path).
 * Without it the test is skipped with one line, unless CI_REQUIRE_E2E=1 (as in CI), which makes
 * its absence a failure. Screenshots go to test/e2e/artifacts/ (git-ignored);
 * E2E_UPDATE_DOCS=1 also copies the dashboard to docs/screenshot-dashboard.png.
 */
import tap, { test } from 'tap'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startExample } from '../../example/app.ts'
import { secret } from '../fixtures/app.ts'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url))
const docsScreenshot = fileURLToPath(new URL('../../docs/screenshot-dashboard.png', import.meta.url))
const enable = 'install Chromium to run them: apt-get install -y chromium'

if (!existsSync(executablePath)) {
  if (process.env.CI_REQUIRE_E2E === '1') {
    test('browser end-to-end tests', async (t) => { t.fail(`CI_REQUIRE_E2E=1 but ${executablePath} is missing: ${enable}`) })
  } else {
    test('browser end-to-end tests', { skip: `${executablePath} not found; ${enable}` }, () => {})
  }
} else {
  // A real browser through two IdPs on a machine shared with other runs: more than tap's default minute.
  tap.setTimeout(180_000)
  test('in Chromium: multi-tenant SSO sign-in by work email, reload, logout through each customer\'s IdP, deep link, password login', async (t) => {
    const { chromium } = await import('playwright-core')
    const example = await startExample({ port: 0, env: { SESSION_SECRET: secret }, logger: false })
    t.teardown(() => example.close())
    const url = example.url
    const [acmeIdp, globexIdp, initechIdp] = example.config.tenants!.map(({ idp }) => idp.url)
    const profile = mkdtempSync(join(tmpdir(), 'fastify-sso-e2e-'))
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
      viewport: { width: 1100, height: 720 },
      javaScriptEnabled: false
    })
    t.teardown(async () => {
      await browser.close()
      rmSync(profile, { recursive: true, force: true })
    })
    const page = browser.pages()[0] ?? await browser.newPage()
    page.setDefaultTimeout(15_000)
    mkdirSync(artifacts, { recursive: true })
    const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
    const main = async () => await page.textContent('main') ?? ''

    // Home page → SSO with a work email → Acme's own development IdP, its form prefilled from login_hint.
    await page.goto(url)
    t.equal(await page.title(), 'Sign in · Acme B2B')
    await shot('home')
    await page.fill('#sso-email', 'alice@acme.test')
    await page.click('button:has-text("Continue with SSO")')
    await page.waitForURL(`${acmeIdp}/interaction/**`)
    t.equal(await page.inputValue('#email'), 'alice@acme.test', 'Acme\'s IdP prefills the email from login_hint')
    t.match(await page.textContent('h1') ?? '', /Sign in to Acme/)
    await shot('idp-login')
    await page.fill('#password', 'any password')
    await page.click('button:has-text("Sign in")')

    // The dashboard, signed in through Acme's connection.
    await page.waitForURL(`${url}dashboard`)
    const dashboard = await main()
    for (const expected of ['Welcome, Alice', 'Alice Anders', 'alice@acme.test', 'Acme', 'org_acme', 'acme (oidc)', 'admin', 'Engineering', 'Raw claims', '"org_name": "Acme"']) {
      t.ok(dashboard.includes(expected), `the dashboard shows ${expected}`)
    }
    const cookies = await browser.cookies(url)
    const session = cookies.find(cookie => cookie.name === 'sso')
    t.match(session, { httpOnly: true, sameSite: 'Lax', secure: false }, 'an HttpOnly, SameSite=Lax session cookie')
    t.notOk(cookies.some(cookie => cookie.name === 'sso-tx'), 'the login transaction cookie is gone')
    await shot('dashboard')
    if (process.env.E2E_UPDATE_DOCS === '1') copyFileSync(join(artifacts, 'dashboard.png'), docsScreenshot)

    await page.reload()
    t.match(await main(), /Alice Anders/, 'still signed in after a reload')

    // Logout: the app's session ends, Acme's IdP asks for confirmation, and the browser comes back home.
    await page.click('header button:has-text("Log out")')
    await page.waitForURL(`${acmeIdp}/session/end**`)
    await shot('idp-logout')
    await page.click('button:has-text("Yes, sign me out")')
    await page.waitForURL(`${url}?state=*`)
    t.match(await main(), /Sign in with SSO/, 'back on the home page, signed out')

    // Another customer: bob@globex.test goes to Globex's IdP, and out through it.
    await page.fill('#sso-email', 'bob@globex.test')
    await page.click('button:has-text("Continue with SSO")')
    await page.waitForURL(`${globexIdp}/interaction/**`)
    t.match(await page.textContent('h1') ?? '', /Sign in to Globex/)
    await page.fill('#password', 'any password')
    await page.click('button:has-text("Sign in")')
    await page.waitForURL(`${url}dashboard`)
    t.match(await main(), /Welcome, Bob[\s\S]*org_globex[\s\S]*globex \(oidc\)/, 'signed in to Globex')
    await page.click('header button:has-text("Log out")')
    await page.waitForURL(`${globexIdp}/session/end**`)
    await page.click('button:has-text("Yes, sign me out")')
    await page.waitForURL(`${url}?state=*`)

    // A SAML customer: ivy@initech.test goes to Initech's SAML IdP, on another site (127.0.0.1). Its
    // answer is a cross-site form POST, which carries no SameSite=Lax cookie: the app parks it and
    // re-enters with a same-site GET that does (no JavaScript needed), then signs Ivy in.
    await page.fill('#sso-email', 'ivy@initech.test')
    await page.click('button:has-text("Continue with SSO")')
    await page.waitForURL(`${new URL(initechIdp!).origin}/**`)
    await shot('saml-idp-login')
    await page.click('button:has-text("Ivy Irwin")')
    await page.click('button:has-text("Continue to the application")')
    await page.waitForURL(`${url}dashboard`)
    t.match(await main(), /Welcome, Ivy[\s\S]*org_initech[\s\S]*initech \(saml\)/, 'signed in to Initech through SAML')
    await page.click('header button:has-text("Log out")')
    await page.waitForURL(`${url}**`)
    t.match(await main(), /Sign in with SSO/, 'logged out (through Initech\'s single logout) and back home')

    // A deep link while signed out: the home page asks for the work email, then Acme's IdP (its
    // session ended too) shows its demo accounts.
    await page.goto(`${url}dashboard`)
    await page.waitForURL(`${url}?error=FST_SSO_ROUTING_REQUIRED`)
    t.match(await page.textContent('.error') ?? '', /Enter your work email/)
    await page.fill('#sso-email', 'carol@acme.test')
    await page.click('button:has-text("Continue with SSO")')
    await page.waitForURL(`${acmeIdp}/interaction/**`)
    await page.click('button:has-text("Carol Chen")')
    await page.waitForURL(`${url}dashboard`)
    t.match(await main(), /Welcome, Carol/, 'on the dashboard')
    await page.click('header button:has-text("Log out")')
    await page.click('button:has-text("Yes, sign me out")')
    await page.waitForURL(`${url}?state=*`)

    // The password login still works beside SSO, and its logout never visits the IdP.
    await page.fill('#password', 'wrong')
    await page.click('button:has-text("Sign in with password")')
    t.match(await main(), /Wrong email or password/)
    await page.fill('#password', 'demo-password')
    await page.click('button:has-text("Sign in with password")')
    await page.waitForURL(`${url}dashboard`)
    t.match(await main(), /Demo Customer[\s\S]*local/, 'the password user on the same dashboard')
    await page.click('header button:has-text("Log out")')
    await page.waitForURL(url)
    t.match(await main(), /Sign in with SSO/, 'logged out locally, straight back home')

    // A failed login lands on the home page with what went wrong.
    await page.goto(`${url}auth/callback?code=forged&state=forged`)
    await page.waitForURL(`${url}?error=FST_SSO_TRANSACTION_MISSING`)
    t.match(await page.textContent('.error') ?? '', /could not be matched to this browser/)
    await shot('login-error')
  })
}

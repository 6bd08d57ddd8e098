/**
 * The newcomer path in a real headless Chromium: the example app on the development IdP, from the
 * home page to the dashboard and back out, plus the password login beside SSO.
 *
 * Needs Debian's Chromium (`apt-get install -y chromium`); without it these tests are skipped
 * with one line, unless CI_REQUIRE_E2E=1 (as in CI), which makes its absence a failure.
 */
import { test } from 'tap'
import { existsSync, mkdirSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startExample } from '../../example/app.ts'

const executablePath = '/usr/bin/chromium'
const artifacts = new URL('./artifacts/', import.meta.url).pathname

if (!existsSync(executablePath)) {
  if (process.env.CI_REQUIRE_E2E === '1') throw new Error(`CI_REQUIRE_E2E=1 but ${executablePath} is missing: apt-get install -y chromium`)
  test('browser end-to-end tests skipped: install Chromium to run them (apt-get install -y chromium)', { skip: true }, () => {})
} else {
  test('in Chromium: SSO sign-in, reload, logout through the IdP, password login', async (t) => {
    const { chromium } = await import('playwright-core')
    const example = await startExample({ port: 0, env: { SESSION_SECRET: 'an e2e test session secret of 32+ characters' }, logger: false })
    t.teardown(() => example.close())
    const profile = mkdtempSync(join(tmpdir(), 'fastify-sso-e2e-'))
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
      viewport: { width: 1100, height: 760 }
    })
    t.teardown(async () => { await browser.close(); rmSync(profile, { recursive: true, force: true }) })
    const page = browser.pages()[0] ?? await browser.newPage()
    page.setDefaultTimeout(15_000)

    await page.goto(example.url)
    await page.fill('#sso-email', 'alice@acme.test')
    await page.click('text=Continue with SSO')
    await page.waitForURL(/\/interaction\//)
    t.equal(await page.inputValue('#email'), 'alice@acme.test', 'the dev IdP prefills the email from login_hint')
    await page.fill('#password', 'anything')
    await page.click('button:has-text("Sign in")')
    await page.waitForURL(`${example.url}dashboard`)
    t.match(await page.textContent('main') ?? '', /Alice Anders/)
    t.match(await page.textContent('main') ?? '', /org_acme/)
    mkdirSync(artifacts, { recursive: true })
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true })
    if (process.env.E2E_UPDATE_DOCS === '1') copyFileSync(join(artifacts, 'dashboard.png'), new URL('../../docs/screenshot-dashboard.png', import.meta.url).pathname)

    await page.reload()
    t.match(await page.textContent('main') ?? '', /Alice Anders/, 'still signed in after a reload')

    await page.click('header button:has-text("Log out")')
    await page.waitForURL(/\/session\/end/)
    await page.click('button:has-text("Yes, sign me out")')
    await page.waitForURL(example.url)
    t.match(await page.textContent('main') ?? '', /Sign in with SSO/, 'back on the home page')

    await page.goto(`${example.url}dashboard`)
    await page.waitForURL(/\/interaction\//)
    t.pass('the dashboard sends a signed-out browser to the login')

    await page.goto(example.url)
    await page.fill('#password', 'demo-password')
    await page.click('section:has-text("Sign in with a password") button')
    await page.waitForURL(`${example.url}dashboard`)
    t.match(await page.textContent('main') ?? '', /Demo Customer/, 'the password login still works')
  })
}

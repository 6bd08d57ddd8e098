/**
 * SAML in a real headless Chromium: the IdP (the development SAML IdP) on another site than the
 * app, so its form post to the assertion consumer service is a cross-site POST.
 * - http://localhost: the SameSite=Lax transaction cookie stays behind; the plugin parks the post
 *   and finishes it on a same-site GET (routes/post-back.ts). JavaScript off: our side needs none.
 * - https: the transaction cookie is SameSite=None; Secure and comes with the post itself.
 * - Login CSRF: a page on another site auto-posts the attacker's own valid response into the
 *   victim's browser; nobody is signed in.
 * Skipped (one line) without Chromium, a failure under CI_REQUIRE_E2E=1, like flow.test.ts.
 */
import t from 'tap'
const { test } = t
t.setTimeout(150_000) // Chromium starts slowly on a busy two-core machine
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import ssoPlugin, { requireUser, samlProvider } from '../../src/index.ts'
import { escapeHtml } from '../../src/html.ts'
import { selfSignedCertificate, startDevSamlIdp } from '../../src/testing/index.ts'
import { freePort, secret } from '../fixtures/app.ts'
import { Browser } from '../fixtures/browser.ts'
import { loginAtIdp } from '../fixtures/saml.ts'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const enable = 'install Chromium to run them: apt-get install -y chromium'
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync', '--ignore-certificate-errors']

type TestLike = { teardown(fn: () => unknown): void }

/** The app on localhost (http or https) and the dev SAML IdP on 127.0.0.1: two sites. */
async function start (t: TestLike, https: boolean) {
  const port = await freePort()
  const origin = `${https ? 'https' : 'http'}://localhost:${port}`
  const idp = await startDevSamlIdp({ app: { baseUrl: origin } })
  t.teardown(() => idp.close())
  const tls = https ? selfSignedCertificate({ commonName: 'localhost' }) : undefined
  const app = (tls ? Fastify({ https: { key: tls.privateKey, cert: tls.certificate } }) : Fastify()) as unknown as FastifyInstance
  await app.register(ssoPlugin, { baseUrl: origin, provider: samlProvider({ idp: { metadataUrl: idp.metadataUrl } }), session: { secret } })
  app.get('/dashboard', { preHandler: requireUser() }, async (request) => `Welcome, ${request.user!.name}`)
  await app.listen({ port, host: 'localhost' })
  t.teardown(() => app.close())
  return { app, origin, idp }
}

/** One Chromium for the whole file (starting it takes seconds); a fresh context (profile) per test. */
let launched: Promise<import('playwright-core').Browser> | undefined
async function chromium (t: TestLike, javaScriptEnabled: boolean) {
  launched ??= import('playwright-core').then(({ chromium }) => chromium.launch({ executablePath, headless: true, args }))
  const context = await (await launched).newContext({ javaScriptEnabled, ignoreHTTPSErrors: true })
  t.teardown(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const visited: string[] = []
  page.on('request', request => { if (request.isNavigationRequest()) visited.push(`${request.method()} ${request.url()}`) })
  return { context, page, visited }
}

if (!existsSync(executablePath)) {
  if (process.env.CI_REQUIRE_E2E === '1') {
    test('SAML browser tests', async (t) => { t.fail(`CI_REQUIRE_E2E=1 but ${executablePath} is missing: ${enable}`) })
  } else {
    test('SAML browser tests', { skip: `${executablePath} not found; ${enable}` }, () => {})
  }
} else {
  t.teardown(async () => { if (launched) await (await launched).close() })
  test('in Chromium, http://localhost with the IdP on 127.0.0.1: the cross-site post comes back through the same-site re-entry (no JavaScript)', async (t) => {
    const { origin, idp } = await start(t, false)
    const { context, page, visited } = await chromium(t, false)
    await page.goto(`${origin}/dashboard`)
    await page.waitForURL(`${idp.ssoUrl}?**`)
    await page.click('button:has-text("Alice Anders")')
    // The IdP's post page; without JavaScript its button submits the form.
    await page.click('button:has-text("Continue to the application")')
    await page.waitForURL(`${origin}/dashboard`)
    t.equal(await page.textContent('body'), 'Welcome, Alice Anders')
    t.ok(visited.some(entry => entry === `POST ${origin}/auth/callback`), 'the IdP posted to the ACS')
    t.ok(visited.some(entry => entry.startsWith(`GET ${origin}/auth/callback/continue?id=`)), 'and the browser came back on a same-site GET')
    const cookies = await context.cookies(origin)
    t.match(cookies.find(cookie => cookie.name === 'sso'), { sameSite: 'Lax', httpOnly: true })
    t.notOk(cookies.some(cookie => cookie.name === 'sso-tx'), 'the transaction is used up')
  })

  test('in Chromium, https: the SameSite=None transaction cookie comes with the cross-site post itself', async (t) => {
    const { origin, idp } = await start(t, true)
    const { context, page, visited } = await chromium(t, true)
    await page.goto(`${origin}/dashboard`)
    await page.waitForURL(`${idp.ssoUrl}?**`)
    const tx = (await context.cookies(origin)).find(cookie => cookie.name === '__Host-sso-tx')
    t.match(tx, { sameSite: 'None', secure: true, httpOnly: true })
    await page.click('button:has-text("Alice Anders")') // the IdP's page posts itself (JavaScript on)
    await page.waitForURL(`${origin}/dashboard`)
    t.equal(await page.textContent('body'), 'Welcome, Alice Anders')
    t.notOk(visited.some(entry => entry.includes('/auth/callback/continue')), 'no re-entry needed')
  })

  test('in Chromium, login CSRF: another site auto-posts the attacker\'s own valid response; the victim is not signed in', async (t) => {
    const { app, origin, idp } = await start(t, false)
    // The attacker signs in with their own account and keeps what the IdP would post.
    const own = await loginAtIdp(new Browser(app, origin), 'bob@globex.test')
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(`<form method="post" action="${origin}/auth/callback"><input type="hidden" name="SAMLResponse" value="${escapeHtml(own.SAMLResponse)}"><input type="hidden" name="RelayState" value="${escapeHtml(own.RelayState)}"></form><script>document.forms[0].submit()</script>`)
    })
    await new Promise<void>(resolve => evil.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise(resolve => evil.close(resolve)))

    const { context, page } = await chromium(t, true)
    // The victim even has a sign-in of their own pending.
    await page.goto(`${origin}/auth/login`)
    await page.waitForURL(`${idp.ssoUrl}?**`)
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`)
    await page.waitForURL(`${origin}/auth/callback/continue?**`)
    t.match(await page.textContent('main'), /FST_SSO_STATE_MISMATCH/)
    t.notOk((await context.cookies(origin)).some(cookie => cookie.name === 'sso'), 'no session cookie')
    await page.goto(`${origin}/dashboard`)
    await page.waitForURL(`${idp.ssoUrl}?**`)
    t.pass('the victim is still signed out (sent to the IdP)')
  })
}

/**
 * The example app, driven by a plain HTTP client with a cookie jar through the development IdP.
 */
import { test } from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startExample } from '../example/app.ts'
import { exampleConfig } from '../example/config.ts'
import { Browser } from './fixtures/browser.ts'
import { loginThroughIdp } from './fixtures/app.ts'
import { deliver, directoryUser, eventBody } from './fixtures/webhook.ts'

async function example (t: { teardown(fn: () => unknown): void }) {
  const running = await startExample({ port: 0, env: { SESSION_SECRET: 'an example test secret of 32+ characters' }, logger: false })
  t.teardown(() => running.close())
  return { ...running, browser: new Browser(running.app, running.url) }
}

test('SSO through the development IdP lands on the dashboard; logout comes back home', async (t) => {
  const { browser, url } = await example(t)
  const home = await browser.navigate('/')
  t.match(home.body, /Sign in with SSO/)
  t.match(home.body, /Sign in with a password/)
  const dashboard = await loginThroughIdp(browser, 'alice@acme.test', '/auth/login?returnTo=%2Fdashboard&email=alice%40acme.test')
  t.equal(dashboard.url, `${url}dashboard`)
  t.match(dashboard.body, /Alice Anders/)
  t.match(dashboard.body, /org_acme/)
  t.match(dashboard.body, /Raw claims/)
  t.equal((await browser.navigate('/dashboard')).status, 200, 'still signed in on reload')

  const out = await browser.request('/auth/logout', { method: 'POST' })
  const confirm = await browser.navigate(String(out.headers.location))
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1]!
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)![1]!
  const back = await browser.navigate(new URL(action, confirm.url).href, { form: { xsrf, logout: 'yes' } })
  t.equal(back.url, url, 'back on the example\'s home page')
  const again = await browser.request('/dashboard')
  t.equal(again.status, 302)
  t.match(String(again.headers.location), /^\/auth\/login\?returnTo=%2Fdashboard/)
})

test('the password login keeps working beside SSO', async (t) => {
  const { browser } = await example(t)
  const wrong = await browser.navigate('/login/password', { form: { email: 'demo@example.test', password: 'nope' } })
  t.equal(wrong.status, 401)
  t.match(wrong.body, /Wrong email or password/)
  const page = await browser.navigate('/login/password', { form: { email: 'demo@example.test', password: 'demo-password' } })
  t.match(page.url, /\/dashboard$/)
  t.match(page.body, /Demo Customer/)
  t.match(page.body, /local/)
})

test('a deprovisioned user loses access at once and cannot sign back in', async (t) => {
  const { browser, app } = await example(t)
  await loginThroughIdp(browser, 'bob@globex.test')
  t.equal((await browser.request('/dashboard')).status, 200)
  const res = await deliver(app, eventBody('dsync.user.deleted', directoryUser('bob@globex.test', { state: 'inactive' })), { secret: 'whsec_dev_fastify_sso_example_secret' })
  t.equal(res.statusCode, 200)
  t.equal((await browser.request('/dashboard')).status, 302, 'signed out')
  // Bob is still signed in at the IdP, so the IdP sends him straight back: the app refuses him.
  const retry = await browser.navigate('/auth/login?returnTo=%2Fdashboard')
  t.match(retry.url, /\/\?error=FST_SSO_LOGIN_DENIED$/)
  t.match(retry.body, /not allowed to sign in/)
  const other = new Browser(browser.app, browser.appOrigin)
  await loginThroughIdp(other, 'alice@acme.test')
  const users = await other.navigate('/directories/directory_dev/users')
  t.match(users.body, /bob@globex\.test<\/td><td class="inactive">inactive/)
})

test('npm run webhook:send posts a signed event the example accepts', async (t) => {
  const { url } = await example(t)
  const { stdout } = await promisify(execFile)(process.execPath, ['scripts/webhook-send.ts', 'dsync.user.created', 'dana@acme.test'], {
    env: { ...process.env, WEBHOOK_URL: `${url}webhooks/workos-directory-sync` }
  })
  t.match(stdout, /dsync\.user\.created for dana@acme\.test → 200/)
})

test('configuration from the environment', async (t) => {
  const base = 'http://localhost:3000'
  const workos = await exampleConfig({ WORKOS_API_KEY: 'sk_test_123', WORKOS_CLIENT_ID: 'client_123', CUSTOMER_ORGANIZATION_ID: 'org_123', SESSION_SECRET: 'x'.repeat(32) }, base)
  t.equal(workos.provider.name, 'workos-sso')
  t.match(workos.description, /org_123/)
  t.same(workos.warnings, [])
  const authkit = await exampleConfig({ WORKOS_API_KEY: 'sk_test_123', WORKOS_CLIENT_ID: 'client_123', WORKOS_AUTHKIT: '1' }, base)
  t.equal(authkit.provider.name, 'workos-authkit')
  t.match(authkit.warnings[0], /SESSION_SECRET is not set/)
  const oidc = await exampleConfig({ OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's' }, base)
  t.equal(oidc.provider.name, 'oidc')
  t.equal(oidc.devIdp, undefined)
  await t.rejects(exampleConfig({ OIDC_ISSUER: 'https://idp.example.com' }, base), /OIDC_CLIENT_ID/)
})

test('npm start: prints the URL and demo accounts; Ctrl-C stops everything', async (t) => {
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, ['example/server.ts'], { env: { ...process.env, PORT: '0', SESSION_SECRET: 'a start-test session secret of 32+ chars' }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line:\n${output}`)), 15_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      const match = /Acme B2B example: (http:\/\/localhost:\d+\/)/.exec(output)
      if (match && output.includes('Ctrl-C')) { clearTimeout(timer); resolve(match[1]!) }
    })
  })
  t.match(output, /alice@acme\.test/)
  t.match(output, /any non-empty password works/)
  const idp = /development IdP \((http:\/\/127\.0\.0\.1:\d+)\)/.exec(output)![1]!
  t.equal((await fetch(url.replace('localhost', '127.0.0.1'))).status, 200)
  child.kill('SIGINT')
  const code = await new Promise(resolve => child.once('exit', resolve))
  t.equal(code, 0, 'exits cleanly')
  await t.rejects(fetch(`${idp}/.well-known/openid-configuration`), 'the development IdP is stopped too')
})

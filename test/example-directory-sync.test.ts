/**
 * The example's directory sync on the development IdP: a signed webhook deprovisions a user, who
 * loses access at once and cannot sign back in; `npm run webhook:send` signs what the example accepts.
 */
import { test } from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { devWebhookSecret } from '../example/config.ts'
import { Browser } from './fixtures/browser.ts'
import { loginThroughIdp } from './fixtures/app.ts'
import { ssoLoginPath, startTestExample } from './fixtures/example.ts'
import { deliver, directoryUser, eventBody } from './fixtures/webhook.ts'

test('a deprovisioned user loses access at once and cannot sign back in', async (t) => {
  const { browser, app } = await startTestExample(t)
  await loginThroughIdp(browser, 'bob@globex.test', ssoLoginPath('bob@globex.test'))
  t.equal((await browser.request('/dashboard')).status, 200)
  const res = await deliver(app, eventBody('dsync.user.deleted', directoryUser('bob@globex.test', { state: 'inactive', organization_id: 'org_globex' })), { secret: devWebhookSecret })
  t.equal(res.statusCode, 200)
  t.equal((await browser.request('/dashboard')).status, 302, 'signed out')
  // Bob is still signed in at the IdP, so the IdP sends him straight back: the app refuses him.
  const retry = await browser.navigate(ssoLoginPath('bob@globex.test'))
  t.match(retry.url, /\/\?error=FST_SSO_LOGIN_DENIED$/)
  t.match(retry.body, /not allowed to sign in/)
  const other = new Browser(browser.app, browser.appOrigin)
  await loginThroughIdp(other, 'alice@acme.test', ssoLoginPath('alice@acme.test'))
  const users = await other.navigate('/directories/directory_dev/users')
  t.match(users.body, /bob@globex\.test<\/td><td class="inactive">inactive/)
})

test('npm run webhook:send posts a signed event the example accepts', async (t) => {
  const { url } = await startTestExample(t)
  const { stdout } = await promisify(execFile)(process.execPath, ['scripts/webhook-send.ts', 'dsync.user.created', 'dana@acme.test'], {
    env: { ...process.env, WEBHOOK_URL: `${url}webhooks/workos-directory-sync` }
  })
  t.match(stdout, /dsync\.user\.created for dana@acme\.test → 200/)
})

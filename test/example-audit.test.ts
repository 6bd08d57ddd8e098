/**
 * The example's audit page (`/audit`, admins only, their organization's events) and, in WorkOS
 * mode, the "Set up SSO for your organization" button that leads an admin to the Admin Portal.
 */
import { test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { loginThroughIdp, secret } from './fixtures/app.ts'
import { startTestExample } from './fixtures/example.ts'

test('the audit page lists the latest sign-in events of the admin\'s organization, newest first', async (t) => {
  const { browser } = await startTestExample(t)
  // A failed sign-in first: a callback no login was started for.
  await browser.navigate('/auth/callback?code=x&state=y')
  await loginThroughIdp(browser, 'alice@acme.test', '/auth/login?returnTo=%2Fdashboard&email=alice%40acme.test')
  const dashboard = await browser.navigate('/dashboard')
  t.match(dashboard.body, /<a href="\/audit">Audit<\/a>/, 'admins see the link')
  t.notMatch(dashboard.body, /Set up SSO for your organization/, 'no Admin Portal without WorkOS')
  await new Promise(resolve => setImmediate(resolve))
  const page = await browser.navigate('/audit')
  t.equal(page.status, 200)
  t.match(page.body, /Audit log/)
  t.match(page.body, /<code>login<\/code><\/td><td>alice@acme\.test<\/td><td>oidc<\/td>/, 'alice\'s login, with provider')
  t.notMatch(page.body, /FST_SSO_TRANSACTION_MISSING/, 'a failure tied to no organization is not shown to a tenant')
})

test('another organization\'s events stay out; members are refused', async (t) => {
  const { app, browser } = await startTestExample(t)
  await loginThroughIdp(browser, 'bob@globex.test', '/auth/login?returnTo=%2Fdashboard&email=bob%40globex.test')
  await new Promise(resolve => setImmediate(resolve))
  const member = await browser.navigate('/audit')
  t.equal(member.status, 403, 'bob is a member, not an admin')
  const admin = await signIn(app, { email: 'alice@acme.test', organizationId: 'org_acme', roles: ['admin'] })
  const page = await app.inject({ url: '/audit', headers: { cookie: admin, accept: 'text/html' } })
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, /bob@globex\.test/, 'Globex\'s sign-in is not in Acme\'s log')
})

test('WorkOS mode: an organization\'s admin gets the "Set up SSO for your organization" button; members do not', async (t) => {
  const env = { WORKOS_API_KEY: 'sk_test_example', WORKOS_CLIENT_ID: 'client_example', SESSION_SECRET: secret }
  const { app } = await startTestExample(t, env)
  const admin = await signIn(app, { email: 'it@acme.test', organizationId: 'org_01ACME', roles: ['admin'] })
  const member = await signIn(app, { email: 'eve@acme.test', organizationId: 'org_01ACME', roles: ['member'] })
  const adminPage = await app.inject({ url: '/dashboard', headers: { cookie: admin } })
  t.match(adminPage.body, /<form method="post" action="\/admin\/sso-setup"><button class="primary" type="submit">Set up SSO for your organization<\/button><\/form>/)
  const memberPage = await app.inject({ url: '/dashboard', headers: { cookie: member } })
  t.notMatch(memberPage.body, /Set up SSO/)
  const refused = await app.inject({ method: 'POST', url: '/admin/sso-setup', headers: { cookie: member, accept: 'application/json' } })
  t.equal(refused.statusCode, 403, 'members cannot open the portal')
})

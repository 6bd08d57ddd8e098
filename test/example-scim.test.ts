/**
 * The example's SCIM endpoints: `npm run scim:demo` replays an Entra ID cycle against it; the
 * user it disables is signed out at once and refused at the next sign-in, and the directory page
 * shows each organization its own provisioned users.
 */
import { test } from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Browser } from './fixtures/browser.ts'
import { loginThroughIdp } from './fixtures/app.ts'
import { ssoLoginPath, startTestExample } from './fixtures/example.ts'

const run = (args: string[], env: Record<string, string>) => promisify(execFile)(process.execPath, ['scripts/scim-demo.ts', ...args], { env: { ...process.env, ...env } })

test('npm run scim:demo provisions Carol, disables her: signed out at once, refused at sign-in, listed for Acme only', async (t) => {
  const { url, browser } = await startTestExample(t)
  await loginThroughIdp(browser, 'carol@acme.test', ssoLoginPath('carol@acme.test'))
  t.equal((await browser.request('/dashboard')).status, 200)

  const { stdout } = await run(['--keep'], { SCIM_URL: `${url}scim/v2` })
  t.match(stdout, /GET +\/Users\?filter=userName eq "carol@acme\.test" +→ 200 totalResults=0/)
  t.match(stdout, /POST +\/Users +→ 201 carol@acme\.test/)
  t.match(stdout, /PATCH +\/Groups\/[\w-]+ +→ 200 Support/)
  t.match(stdout, /members\.value eq "[\w-]+" +→ 200 totalResults=1/)
  t.notMatch(stdout, /DELETE/)

  t.equal((await browser.request('/dashboard')).status, 302, 'Carol is signed out')
  const retry = await browser.navigate(ssoLoginPath('carol@acme.test'))
  t.match(retry.url, /\/\?error=FST_SSO_LOGIN_DENIED$/, 'and refused at sign-in')

  const alice = new Browser(browser.app, browser.appOrigin)
  await loginThroughIdp(alice, 'alice@acme.test', ssoLoginPath('alice@acme.test'))
  const page = await alice.navigate('/directories/scim')
  t.match(page.body, /carol@acme\.test<\/td><td>Carol Chen<\/td><td class="inactive">inactive<\/td><td>Support<\/td>/)
  t.match((await alice.navigate('/directories')).body, /href="\/directories\/scim"/)

  const bob = new Browser(browser.app, browser.appOrigin)
  await loginThroughIdp(bob, 'bob@globex.test', ssoLoginPath('bob@globex.test'))
  t.match((await bob.navigate('/directories/scim')).body, /No user has been provisioned yet/, 'Globex sees none of Acme\'s users')

  const again = await run([], { SCIM_URL: `${url}scim/v2` })
  t.match(again.stdout, /totalResults=1\n/, 'the next run finds Carol (Entra ID matches before it creates)')
  t.match(again.stdout, /DELETE +\/Users\/[\w-]+ +→ 204/)
})

test('scim:demo --hash prints the hash SCIM_TOKEN_HASHES takes; the example serves only those tokens then', async (t) => {
  const { stdout } = await run(['--hash', 'scim_my_token'], {})
  const hash = stdout.trim()
  t.match(hash, /^[A-Za-z0-9_-]{43}$/)
  const { url, app } = await startTestExample(t, { SESSION_SECRET: 'an example test secret of 32+ characters', SCIM_TOKEN_HASHES: `org_acme=${hash}` })
  t.ok(url)
  const ask = (token: string) => app.inject({ url: '/scim/v2/Users', headers: { authorization: `Bearer ${token}` } })
  t.equal((await ask('scim_my_token')).statusCode, 200)
  t.equal((await ask('scim_dev_acme_token_for_the_fastify_sso_example')).statusCode, 401, 'configured hashes replace the demo tokens')
})

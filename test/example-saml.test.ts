/**
 * The example's SAML tenant: ivy@initech.test is routed by her email's domain to Initech's
 * development SAML IdP (a real SAML IdP over HTTP), which posts a signed assertion back to
 * Initech's own ACS URL; she lands on the dashboard as an Initech user, and logs out.
 */
import { test } from 'tap'
import { ssoLoginPath, startTestExample } from './fixtures/example.ts'

test('ivy@initech.test: work email → Initech\'s SAML IdP → a signed assertion posted back → the dashboard', async (t) => {
  const { browser, url, idps } = await startTestExample(t)
  t.match(idps.initech, /\/saml\/metadata$|metadata/, 'Initech runs on a SAML IdP')
  const form = await browser.navigate(ssoLoginPath('ivy@initech.test'))
  t.match(form.body, /ivy@initech\.test/, 'the SAML IdP\'s sign-in page, with the demo account')
  const request = /name="request" value="([^"]+)"/.exec(form.body)?.[1]
  t.ok(request, 'the IdP holds the AuthnRequest')
  const posted = await browser.request(new URL('/saml/login', form.url).href, { form: { request: request!, email: 'ivy@initech.test', quick: '1' } })
  const action = /<form[^>]*action="([^"]+)"/.exec(posted.body)?.[1]?.replaceAll('&amp;', '&')
  t.equal(action, `${url.replace(/\/$/, '')}/auth/callback?connection=initech`, 'Initech\'s own ACS URL')
  const field = (name: string) => [...posted.body.matchAll(/name="([^"]+)" value="([^"]*)"/g)].find(match => match[1] === name)?.[2]
  const dashboard = await browser.navigate(action!, { form: { SAMLResponse: field('SAMLResponse')!, RelayState: field('RelayState')! } })
  t.equal(dashboard.status, 200)
  t.equal(new URL(dashboard.url).pathname, '/dashboard')
  for (const expected of ['Ivy Irwin', 'ivy@initech.test', '<code>org_initech</code>', '<code>initech</code> (saml)']) {
    t.ok(dashboard.body.includes(expected), `the dashboard shows ${expected}`)
  }
  const out = await browser.request('/auth/logout', { method: 'POST' })
  t.equal(out.status, 302)
  const me = await browser.request('/', { headers: { accept: 'application/json' } })
  t.notMatch(me.body, /ivy@initech\.test/, 'signed out')
})

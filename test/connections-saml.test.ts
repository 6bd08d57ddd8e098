/**
 * A SAML connection beside an OpenID Connect one: the real SAML IdP (the development SAML IdP,
 * samlify over HTTP) and a real OpenID Provider, one per tenant. Each SAML connection has its own
 * ACS URL, entity id and single-logout URL (`…?connection=<id>`), so its metadata, its
 * IdP-initiated logins and its LogoutResponses reach it, and only it.
 */
import { test, type Test } from 'tap'
import { inflateRawSync } from 'node:zlib'
import { memoryStore, samlProvider, type SsoConnection } from '../src/index.ts'
import { Browser, type Page } from './fixtures/browser.ts'
import { freePort } from './fixtures/app.ts'
import { samlIdp } from './fixtures/saml.ts'
import { connectionsApp, mapResolver, startTenant } from './fixtures/tenants.ts'

const json = { accept: 'application/json' }
const initechUsers = [
  { email: 'ivy@initech.test', name: 'Ivy Irwin', organizationId: 'org_initech' },
  // An account Initech's IdP admin created with another tenant's address.
  { email: 'alice@acme.test', name: 'Not Alice' }
]

async function setup (t: Test, options: { allowIdpInitiated?: boolean } = {}) {
  const port = await freePort()
  const origin = `http://localhost:${port}`
  const idp = await samlIdp(t, { app: { baseUrl: origin }, users: initechUsers })
  const other = await samlIdp(t, { app: { baseUrl: origin }, users: [{ email: 'una@umbrella.test', name: 'Una' }] })
  const acme = await startTenant(t, 'Acme', { id: 'acme', organizationId: 'org_acme', domains: ['acme.test'] }, [{ email: 'alice@acme.test', name: 'Alice' }], { baseUrl: origin })
  const initech: SsoConnection = { id: 'initech', organizationId: 'org_initech', domains: ['initech.test'], provider: samlProvider({ idp: { metadataUrl: idp.metadataUrl }, allowIdpInitiated: options.allowIdpInitiated ?? false }) }
  const umbrella: SsoConnection = { id: 'umbrella', organizationId: 'org_umbrella', domains: ['umbrella.test'], provider: samlProvider({ idp: { metadataUrl: other.metadataUrl }, allowIdpInitiated: true }) }
  // Listening: the SAML IdP reads each connection's SP metadata from its entity id (a URL of the app).
  const app = await connectionsApp(t, mapResolver([acme.connection, initech, umbrella]).resolve, { baseUrl: origin, listen: true, store: memoryStore(), logoutRedirect: '/' })
  return { app, origin, idp, other }
}

/** The SAML IdP's sign-in (one click on a demo account): the auto-post page's action and fields. */
async function atSamlIdp (browser: Browser, start: string, email: string) {
  const form = await browser.navigate(start)
  const request = /name="request" value="([^"]+)"/.exec(form.body)?.[1]
  if (!request) throw new Error(`no SAML IdP form at ${form.url}: ${form.body.slice(0, 200)}`)
  const posted = await browser.request(new URL('/saml/login', form.url).href, { form: { request, email, quick: '1' } })
  const action = /<form[^>]*action="([^"]+)"/.exec(posted.body)![1]!.replaceAll('&amp;', '&')
  const field = (name: string) => [...posted.body.matchAll(/name="([^"]+)" value="([^"]*)"/g)].find(match => match[1] === name)?.[2]
  return { action, fields: { SAMLResponse: field('SAMLResponse')!, ...(field('RelayState') ? { RelayState: field('RelayState')! } : {}) } }
}

const userOf = async (browser: Browser) => JSON.parse((await browser.request('/', { headers: json })).body).user

test('ivy@initech.test signs in through Initech\'s SAML IdP, at the connection\'s own ACS URL', async (t) => {
  const { app, origin, idp } = await setup(t)
  const start = new URL(String((await app.inject({ url: '/auth/login?email=ivy%40initech.test' })).headers.location))
  t.equal(start.origin + start.pathname, idp.ssoUrl)
  const authnRequest = inflateRawSync(Buffer.from(start.searchParams.get('SAMLRequest')!, 'base64')).toString()
  t.match(authnRequest, `AssertionConsumerServiceURL="${origin}/auth/callback?connection=initech"`)
  t.match(authnRequest, `>${origin}/auth/saml/metadata?connection=initech</saml:Issuer>`, 'the connection\'s own entity id')

  const browser = new Browser(app, origin)
  const { action, fields } = await atSamlIdp(browser, '/auth/login?email=ivy%40initech.test&returnTo=%2F', 'ivy@initech.test')
  t.equal(action, `${origin}/auth/callback?connection=initech`)
  const page: Page = await browser.navigate(action, { form: fields })
  t.equal(page.status, 200)
  t.match(await userOf(browser), { email: 'ivy@initech.test', organizationId: 'org_initech', connectionId: 'initech', connectionType: 'saml', provider: 'saml', id: /^initech:/ })
})

test('each SAML connection\'s metadata at /saml/metadata?connection=<id>; an OpenID Connect one has none (404)', async (t) => {
  const { app, origin } = await setup(t)
  const metadata = await app.inject({ url: '/auth/saml/metadata?connection=initech' })
  t.equal(metadata.statusCode, 200)
  t.match(metadata.headers['content-type'], 'application/samlmetadata+xml')
  t.match(metadata.body, `entityID="${origin}/auth/saml/metadata?connection=initech"`)
  t.match(metadata.body, `Location="${origin}/auth/callback?connection=initech"`)
  t.match(metadata.body, `Location="${origin}/auth/saml/logout?connection=initech"`)
  const oidc = await app.inject({ url: '/auth/saml/metadata?connection=acme', headers: json })
  t.equal(oidc.statusCode, 404)
  t.equal(oidc.json().code, 'FST_SSO_SAML_METADATA_NOT_FOUND')
  t.equal((await app.inject({ url: '/auth/saml/metadata', headers: json })).statusCode, 400)
})

test('Initech\'s SAML IdP asserting an email of another tenant → 403, no session', async (t) => {
  const { app, origin } = await setup(t)
  const browser = new Browser(app, origin)
  const { action, fields } = await atSamlIdp(browser, '/auth/login?connection=initech&returnTo=%2F', 'alice@acme.test')
  const page = await browser.navigate(action, { form: fields })
  t.equal(page.status, 403)
  t.match(page.body, /FST_SSO_EMAIL_DOMAIN_NOT_ALLOWED/)
  t.equal(await userOf(browser), null)
})

test('IdP-initiated SAML at /callback?connection=<id>: signs in for a connection that allows it, and nowhere else', async (t) => {
  const { app, origin, idp } = await setup(t, { allowIdpInitiated: true })
  const response = () => idp.loginResponse({ email: 'ivy@initech.test', acsUrl: `${origin}/auth/callback?connection=initech`, audience: `${origin}/auth/saml/metadata?connection=initech` })
  const browser = new Browser(app, origin)
  // Posted cross-site by the IdP's page: finished on the same-site continuation.
  const landed = await browser.navigate('/auth/callback?connection=initech', { form: { SAMLResponse: await response() }, headers: { 'sec-fetch-site': 'cross-site' } })
  t.equal(landed.status, 200)
  t.match(await userOf(browser), { organizationId: 'org_initech', connectionId: 'initech' })

  for (const [url, code] of [['/auth/callback?connection=umbrella', 'FST_SSO_TOKEN_REJECTED'], ['/auth/callback?connection=acme', 'FST_SSO_TRANSACTION_MISSING'], ['/auth/callback', 'FST_SSO_TRANSACTION_MISSING']] as const) {
    const elsewhere = new Browser(app, origin, json)
    const res = await elsewhere.request(url, { form: { SAMLResponse: await response() } })
    t.equal(JSON.parse(res.body).code, code, `${url}: refused`)
    t.equal(await userOf(elsewhere), null)
  }
})

test('SAML single logout: the LogoutResponse comes back to the connection\'s own /saml/logout?connection=<id>', async (t) => {
  const { app, origin, idp } = await setup(t)
  const browser = new Browser(app, origin)
  const { action, fields } = await atSamlIdp(browser, '/auth/login?email=ivy%40initech.test&returnTo=%2F', 'ivy@initech.test')
  await browser.navigate(action, { form: fields })
  const out = await browser.request('/auth/logout', { method: 'POST' })
  const location = new URL(String(out.headers.location))
  t.equal(location.origin + location.pathname, idp.sloUrl, 'to Initech\'s IdP')
  const back = await browser.navigate(location.href)
  t.equal(back.url, `${origin}/`)
  t.ok(browser.history.some(url => url.startsWith(`${origin}/auth/saml/logout?`) && new URL(url).searchParams.get('connection') === 'initech'), 'through the connection\'s single-logout URL')
  t.equal(await userOf(browser), null)
  const nameless = await app.inject({ url: '/auth/saml/logout?SAMLResponse=x', headers: json })
  t.equal(nameless.statusCode, 400)
})

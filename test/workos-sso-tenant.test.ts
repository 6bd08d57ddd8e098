import { test } from 'tap'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, json } from './fixtures/app.ts'
import { clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { workosSso } from '../src/providers/workos-sso.ts'
import { LoginDeniedError, type SsoUser } from '../src/index.ts'

/** The user edits the WorkOS URL (e.g. to sign in through an IdP they control). */
function edited (location: unknown, name: string, value: string): string {
  const url = new URL(String(location))
  url.searchParams.set(name, value)
  return url.href
}

test('a profile from another organization than the login asked for is refused (403, no session)', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, domainRouting: true }))
  const browser = new Browser(app, baseUrl, json)

  const start = await browser.request('/auth/login?email=alice%40acme.test')
  api.signInAs = 'bob@globex.test'
  const page = await browser.navigate(edited(start.headers.location, 'organization', 'org_globex'))
  t.equal(page.status, 403)
  t.match(JSON.parse(page.body), { code: 'FST_SSO_ORGANIZATION_MISMATCH', message: /another organization/ })
  t.notOk(browser.jar.get('localhost')?.get('sso'), 'no session cookie')
  t.equal(api.calls('/sso/token').length, 1, 'the code was exchanged, then the profile refused')

  const replay = await browser.request(page.url)
  t.equal(replay.status, 400, 'the transaction is used up')
})

test('a fixed organization binds the profile even when the routing in the link is edited', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  const browser = new Browser(app, baseUrl, json)
  const start = await browser.request('/auth/login')
  api.signInAs = 'bob@globex.test'
  const page = await browser.navigate(edited(start.headers.location, 'organization', 'org_globex'))
  t.equal(page.status, 403)
  t.equal(JSON.parse(page.body).code, 'FST_SSO_ORGANIZATION_MISMATCH')
})

test('a profile from another connection than the login asked for is refused', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId }))
  const browser = new Browser(app, baseUrl, json)
  const start = await browser.request('/auth/login?connection=conn_acme')
  api.signInAs = 'bob@globex.test'
  const page = await browser.navigate(edited(start.headers.location, 'connection', 'conn_globex'))
  t.equal(page.status, 403)
  t.match(JSON.parse(page.body), { code: 'FST_SSO_ORGANIZATION_MISMATCH', message: /another connection/ })
})

test('guest email domains reach onLogin marked as such, and an onLogin policy decides', async (t) => {
  const api = await startWorkOS(t)
  // Acme lets its IdP sign in people outside acme.test (contractors): WorkOS then passes them on.
  api.organizations.get('org_acme')!.allowProfilesOutsideOrganization = true
  const invitedGuests = new Set(['carol@freelance.test'])
  const seen: SsoUser[] = []
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }), {
    // A policy like the one in docs/workos.md: a guest's email is only what the customer's IdP asserts.
    onLogin: (user) => {
      seen.push(user)
      if (user.provider === 'workos-sso' && user.emailVerified !== true && !invitedGuests.has(user.email.toLowerCase())) {
        throw LoginDeniedError(`${user.email} is not a member of this organization's domains; ask an administrator for an invitation.`)
      }
      return user
    }
  })

  const signIn = async (email: string) => {
    const browser = new Browser(app, baseUrl, json)
    api.signInAs = email
    return { browser, page: await browser.navigate('/auth/login') }
  }

  const member = await signIn('alice@acme.test')
  t.equal(member.page.status, 200)
  t.match(JSON.parse(member.page.body).user, { emailVerified: true, claims: { guest: false, emailDomain: 'acme.test' } })

  const stranger = await signIn('dave@elsewhere.test')
  t.equal(stranger.page.status, 403)
  t.match(JSON.parse(stranger.page.body), { code: 'FST_SSO_LOGIN_DENIED', message: /not a member of this organization's domains/ })
  t.notOk(stranger.browser.jar.get('localhost')?.get('sso'))

  const invited = await signIn('carol@freelance.test')
  t.equal(invited.page.status, 200)
  t.match(JSON.parse(invited.page.body).user, { email: 'carol@freelance.test', emailVerified: false, organizationId: 'org_acme', claims: { guest: true, emailDomain: 'freelance.test' } })

  t.match(seen.map(user => [user.email, user.emailVerified, user.claims?.guest]), [
    ['alice@acme.test', true, false], ['dave@elsewhere.test', false, true], ['carol@freelance.test', false, true]
  ])
  t.equal(api.calls('/organizations/org_acme').length, 1, 'the organization\'s domains are looked up once, then cached')
})

test('by default WorkOS refuses guests itself: its error reaches the user as a 400 page', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  const browser = new Browser(app, baseUrl)
  api.signInAs = 'dave@elsewhere.test'
  const page = await browser.navigate('/auth/login')
  t.equal(page.status, 400)
  t.match(page.body, 'profile_not_allowed_outside_organization')
  t.match(page.body, 'FST_SSO_IDP_ERROR')
  t.equal(api.calls('/sso/token').length, 0)
})

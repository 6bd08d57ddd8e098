/**
 * `app.sso.adminPortalLink()`: a WorkOS Admin Portal link through the real SDK, against the local
 * WorkOS API fake (which answers `POST /portal/generate_link` as WorkOS does and plays the portal).
 */
import { test } from 'tap'
import { workosAuthKit, workosSso, type AdminPortalIntent } from '../src/index.ts'
import { buildApp, unreachableIdp } from './fixtures/app.ts'
import { apiKey, clientId, startWorkOS, workosApp } from './fixtures/workos-api.ts'
import { recordIdpTraces } from './fixtures/observe.ts'

test('workosSso: a link for the organization and intent, made through the SDK; it opens the portal, which leads back to the app', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  const traces = recordIdpTraces(t)
  const link = await app.sso.adminPortalLink({ organizationId: 'org_acme', intent: 'sso', returnUrl: '/settings?tab=sso' })
  t.match(link, new RegExp(`^${api.url}/portal/launch\\?token=`))
  const [call] = api.calls('/portal/generate_link')
  t.equal(call?.method, 'POST')
  t.equal(call?.headers.authorization, `Bearer ${apiKey}`, 'with the API key')
  t.same(call?.body, { organization: 'org_acme', intent: 'sso', return_url: 'http://localhost:3000/settings?tab=sso' }, 'returnUrl made absolute on the app\'s origin')
  const portal = await fetch(link)
  t.equal(portal.status, 200)
  t.match(await portal.text(), /Admin Portal: Acme.*intent: sso.*href="http:\/\/localhost:3000\/settings\?tab=sso"/s)
  t.match(traces.finished(), [{ provider: 'workos-sso', operation: 'admin portal link' }], 'traced like every WorkOS call')
})

test('workosAuthKit: every intent the contract names', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosAuthKit({ client: api.client(), clientId }))
  const intents: AdminPortalIntent[] = ['sso', 'dsync', 'domain_verification', 'audit_logs', 'log_streams']
  for (const intent of intents) {
    const link = await app.sso.adminPortalLink({ organizationId: 'org_globex', intent })
    t.match(await (await fetch(link)).text(), `intent: ${intent}`, intent)
  }
  t.same(api.calls('/portal/generate_link').map(call => call.body), intents.map(intent => ({ organization: 'org_globex', intent })), 'no return_url unless given')
})

test('wrong arguments: FST_SSO_INVALID_ARGUMENT before any call to WorkOS', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  const wrong = [
    [{ organizationId: '', intent: 'sso' }, /needs the organizationId/],
    [{ organizationId: 'acme', intent: 'sso' }, /WorkOS organization id/],
    [{ organizationId: 'org_acme', intent: 'billing' }, /one of sso, dsync, domain_verification, audit_logs, log_streams/],
    [{ organizationId: 'org_acme', intent: 'sso', returnUrl: 'https://evil.example/phish' }, /returnUrl must be a path or URL of this app/],
    [{ organizationId: 'org_acme', intent: 'sso', returnUrl: '//evil.example' }, /returnUrl/]
  ] as const
  for (const [options, message] of wrong) {
    await t.rejects(app.sso.adminPortalLink(options as never), { code: 'FST_SSO_INVALID_ARGUMENT', message }, JSON.stringify(options))
  }
  t.equal(api.calls('/portal/generate_link').length, 0)
  const sameOrigin = await app.sso.adminPortalLink({ organizationId: 'org_acme', intent: 'sso', returnUrl: 'http://localhost:3000/back' })
  t.ok(sameOrigin, 'an absolute URL on the app\'s own origin is accepted')
  t.equal(api.calls('/portal/generate_link')[0]?.body.return_url, 'http://localhost:3000/back')
})

test('an organization WorkOS does not know: FST_SSO_INVALID_ARGUMENT naming it; WorkOS down: FST_SSO_IDP_UNAVAILABLE', async (t) => {
  const api = await startWorkOS(t)
  const app = await workosApp(t, workosSso({ client: api.client(), clientId, organizationId: 'org_acme' }))
  await t.rejects(app.sso.adminPortalLink({ organizationId: 'org_unknown', intent: 'sso' }), { code: 'FST_SSO_INVALID_ARGUMENT', message: /WorkOS has no organization org_unknown/ })
  api.fail('/portal/generate_link', { status: 503, json: { message: 'Service unavailable' } })
  await t.rejects(app.sso.adminPortalLink({ organizationId: 'org_acme', intent: 'sso' }), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /WorkOS failed the admin portal link \(HTTP 503\)/ })
  api.fail('/portal/generate_link', { status: 201, json: { url: 'not the shape' } })
  await t.rejects(app.sso.adminPortalLink({ organizationId: 'org_acme', intent: 'sso' }), { code: 'FST_SSO_IDP_UNAVAILABLE', message: /without a link/ })
})

test('a provider that is not WorkOS: FST_SSO_NOT_SUPPORTED (501) naming the provider', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  await t.rejects(app.sso.adminPortalLink({ organizationId: 'org_acme', intent: 'sso' }), { code: 'FST_SSO_NOT_SUPPORTED', statusCode: 501, message: /needs a WorkOS provider .* signs in with oidc/ })
})

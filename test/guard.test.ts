import { test } from 'tap'
import { requireUser } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { buildApp, unreachableIdp } from './fixtures/app.ts'

test('signed out: 401 JSON for API calls (*/*, no Accept, application/json)', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/plain, */*']) {
    const res = await app.inject({ url: '/api/me', headers: accept ? { accept } : {} })
    t.equal(res.statusCode, 401, `Accept: ${accept}`)
    t.match(res.json(), { statusCode: 401, code: 'FST_SSO_UNAUTHORIZED', error: 'Unauthorized', message: String })
    t.equal(res.headers['cache-control'], 'no-store')
  }
})

test('signed out: browser navigations are redirected to login with a safe returnTo', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const res = await app.inject({ url: '/dashboard?tab=2', headers: { accept: 'text/html,application/xhtml+xml' } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/auth/login?returnTo=%2Fdashboard%3Ftab%3D2')
  t.equal(res.headers['cache-control'], 'no-store')
  const navigate = await app.inject({ url: '/dashboard', headers: { 'sec-fetch-mode': 'navigate' } })
  t.equal(navigate.statusCode, 302, 'Sec-Fetch-Mode: navigate counts as a browser navigation')
  const post = await app.inject({ method: 'POST', url: '/dashboard', headers: { accept: 'text/html' } })
  t.not(post.statusCode, 200)
})

test('a POST navigation is redirected to login without returnTo (a redirect cannot replay it)', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => app.post('/form', { preHandler: requireUser() }, async () => 'ok'))
  const res = await app.inject({ method: 'POST', url: '/form', headers: { accept: 'text/html' } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/auth/login')
})

test('signed in: the handler runs with a typed request.user', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const cookie = await signIn(app, { email: 'alice@acme.test', name: 'Alice', organizationId: 'org_acme', roles: ['admin'] })
  const res = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: 'test|alice@acme.test', email: 'alice@acme.test', name: 'Alice', provider: 'oidc', organizationId: 'org_acme' })
})

test('403 when the organization, role or custom check fails', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.get('/checked', { preHandler: requireUser({ check: (user) => user.email.endsWith('@acme.test') }) }, async () => 'ok')
    app.get('/throws', { preHandler: requireUser({ check: () => { throw new Error('boom') } }) }, async () => 'ok')
    app.get('/either', { preHandler: requireUser({ organizationId: ['org_acme', 'org_globex'] }) }, async () => 'ok')
  })
  const alice = await signIn(app, { email: 'alice@acme.test', organizationId: 'org_acme', roles: ['admin'] })
  const bob = await signIn(app, { email: 'bob@globex.test', organizationId: 'org_globex', roles: ['member'] })
  const nobody = await signIn(app, { email: 'eve@elsewhere.test' })
  const status = async (url: string, cookie: string, accept = 'application/json') => (await app.inject({ url, headers: { cookie, accept } })).statusCode

  t.equal(await status('/admin', alice), 200)
  t.equal(await status('/admin', bob), 403)
  t.equal(await status('/acme', alice), 200)
  t.equal(await status('/acme', bob), 403)
  t.equal(await status('/acme', nobody), 403, 'no organization at all')
  t.equal(await status('/either', bob), 200)
  t.equal(await status('/checked', alice), 200)
  t.equal(await status('/checked', bob), 403)
  t.equal(await status('/throws', alice), 403, 'a throwing check refuses')
  t.equal(await status('/admin', bob, 'text/html'), 403, 'browsers get the 403 page too, not a login loop')

  const res = await app.inject({ url: '/admin', headers: { cookie: bob } })
  t.match(res.json(), { statusCode: 403, code: 'FST_SSO_FORBIDDEN' })
  t.equal(res.headers['cache-control'], 'no-store')
})

test('requireUser() options are checked when the route is declared', async (t) => {
  t.throws(() => requireUser({ roles: 'admin' } as never), { code: 'FST_SSO_INVALID_OPTION' })
  t.throws(() => requireUser({ role: ['admin'] } as never), { code: 'FST_SSO_INVALID_OPTION', message: /requireUser.role/ })
  t.throws(() => requireUser({ check: true } as never), { code: 'FST_SSO_INVALID_OPTION' })
})

test('request.user is null when signed out, on any route', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  t.same((await app.inject({ url: '/' })).json(), { user: null })
})

test('requireUser() composes: awaited inside a hook of the app\'s own, it lets users through and refuses others', async (t) => {
  const guard = requireUser({ roles: ['admin'] })
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.get('/composed', {
      preHandler: async function (request, reply) {
        if (request.headers['x-api-key'] === 'internal') return // the app's own machine access
        await guard.call(this, request, reply)
        return reply.sent ? reply : undefined
      }
    }, async (request) => ({ user: request.user?.email ?? null }))
  })
  const admin = await signIn(app, { email: 'alice@acme.test', roles: ['admin'] })
  const member = await signIn(app, { email: 'bob@acme.test', roles: ['member'] })
  t.same((await app.inject({ url: '/composed', headers: { cookie: admin } })).json(), { user: 'alice@acme.test' })
  t.equal((await app.inject({ url: '/composed', headers: { cookie: member } })).statusCode, 403)
  t.equal((await app.inject({ url: '/composed' })).statusCode, 401)
  t.same((await app.inject({ url: '/composed', headers: { 'x-api-key': 'internal' } })).json(), { user: null })
})

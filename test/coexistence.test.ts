import { test } from 'tap'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySecureSession from '@fastify/secure-session'
import { randomBytes } from 'node:crypto'
import ssoPlugin, { oidcProvider, requireUser } from '../src/index.ts'
import { signIn } from '../src/testing/index.ts'
import { baseUrl, secret, unreachableIdp } from './fixtures/app.ts'

const provider = () => oidcProvider(unreachableIdp)

declare module '@fastify/secure-session' {
  interface SessionData { items: number }
}

test('decorator option: the user lives on another property', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.decorateRequest('user', null) // e.g. @fastify/jwt or @fastify/passport
  await app.register(ssoPlugin, { baseUrl, provider: provider(), session: { secret }, decorator: 'ssoUser' })
  app.get('/me', { preHandler: requireUser() }, async (request) => ({ sso: (request as unknown as { ssoUser: unknown }).ssoUser, user: request.user }))
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  const res = await app.inject({ url: '/me', headers: { cookie } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { sso: { email: 'alice@acme.test' }, user: null })
})

test('a taken decorator fails ready() with a coded error that names the fix', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.decorateRequest('user', null)
  app.register(ssoPlugin, { baseUrl, provider: provider(), session: { secret } })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_SSO_DECORATOR_CONFLICT', message: /decorator/ })
})

test('the app\'s own @fastify/secure-session and request.session keep working', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifySecureSession, { key: randomBytes(32), cookieName: 'app-session', cookie: { path: '/' } })
  await app.register(ssoPlugin, { baseUrl, provider: provider(), session: { secret } })
  app.post('/cart', async (request) => {
    request.session.set('items', 3)
    return 'ok'
  })
  app.get('/cart', async (request) => ({ items: request.session.get('items') ?? 0, user: request.user?.email ?? null }))
  const set = await app.inject({ method: 'POST', url: '/cart' })
  const appCookie = String(set.headers['set-cookie']).split(';')[0]
  const ssoCookie = await signIn(app, { email: 'alice@acme.test' })
  const res = await app.inject({ url: '/cart', headers: { cookie: `${appCookie}; ${ssoCookie}` } })
  t.same(res.json(), { items: 3, user: 'alice@acme.test' })
})

test('an app that registered @fastify/cookie first (with its own secret) is fine', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyCookie, { secret: 'cookie-signing-secret' })
  await app.register(ssoPlugin, { baseUrl, provider: provider(), session: { secret } })
  app.get('/me', { preHandler: requireUser() }, async (request) => request.user)
  app.get('/signed', async (request, reply) => reply.setCookie('pref', 'dark', { signed: true }).send('ok'))
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  t.equal((await app.inject({ url: '/me', headers: { cookie } })).statusCode, 200)
  t.match(String((await app.inject({ url: '/signed' })).headers['set-cookie']), /^pref=dark\./)
})

test('fastify-sso adds no plugin, decorator or hook that runs on the app\'s other routes\' requests', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ssoPlugin, { baseUrl, provider: provider(), session: { secret } })
  app.get('/plain', async () => 'ok')
  await app.ready()
  t.notOk(app.hasPlugin('@fastify/cookie'), '@fastify/cookie is not registered on the app')
  t.notOk(app.hasReplyDecorator('setCookie'))
  // Fastify lists each route's hooks; GET /plain must have none (HEAD has Fastify's own).
  const routes = app.printRoutes({ includeHooks: true, commonPrefix: false })
  const plain = routes.slice(routes.indexOf('/plain (GET)'))
  t.match(plain, /^\/plain \(GET\)\n\s+\/plain \(HEAD\)\n\s+• \(onSend\) \["headRouteOnSendHandler\(\)"\]\s*$/, `no hook on the app's route:\n${plain}`)
})

test('the app\'s own @fastify/cookie cookies and ours share a response', async (t) => {
  for (const order of ['cookie plugin first', 'cookie plugin after'] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    if (order === 'cookie plugin first') await app.register(fastifyCookie)
    await app.register(ssoPlugin, { baseUrl, provider: provider(), session: { secret } })
    if (order === 'cookie plugin after') await app.register(fastifyCookie)
    app.post('/login/password', async (request, reply) => {
      reply.setCookie('theme', 'dark', { path: '/' })
      await app.sso.signIn(request, reply, { id: 'u1', email: 'alice@acme.test' })
      return 'ok'
    })
    const res = await app.inject({ method: 'POST', url: '/login/password' })
    const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
    t.ok(lines.some(line => line.startsWith('theme=dark')), `${order}: the app's cookie`)
    t.ok(lines.some(line => /^sso=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/.test(line)), `${order}: the session cookie`)
  }
})

test('the app\'s body parsing is untouched by the auth routes\' form parser', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ssoPlugin, { baseUrl, provider: provider(), session: { secret } })
  app.post('/echo', async (request) => request.body)
  const json = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } })
  t.same(json.json(), { a: 1 })
  const form = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' })
  t.equal(form.statusCode, 415, 'form bodies stay unsupported for the app unless it registers a parser')
})

test('routes under a custom prefix', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ssoPlugin, { baseUrl, prefix: '/sso', provider: provider(), session: { secret } })
  app.get('/dashboard', { preHandler: requireUser() }, async () => 'ok')
  const res = await app.inject({ url: '/dashboard', headers: { accept: 'text/html' } })
  t.equal(res.headers.location, '/sso/login?returnTo=%2Fdashboard')
  t.equal((await app.inject({ url: '/sso/logout' })).statusCode, 405)
  t.equal((await app.inject({ url: '/auth/logout' })).statusCode, 404)
})

test('requireUser() without the plugin registered is a clear error', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/x', { preHandler: requireUser() }, async () => 'ok')
  const res = await app.inject({ url: '/x' })
  t.equal(res.statusCode, 500)
  t.match(res.json(), { code: 'FST_SSO_INVALID_OPTION', message: /not registered/ })
})

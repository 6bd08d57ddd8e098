import { test } from 'tap'
import { buildApp, cookiePair, setCookie, unreachableIdp } from './fixtures/app.ts'
import { signIn } from '../src/testing/index.ts'

test('app.sso.signIn() starts a session from application code (a password login beside SSO)', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.post('/login/password', async (request, reply) => {
      await app.sso.signIn(request, reply, { id: 'local-1', email: 'demo@example.test', name: 'Demo' })
      return reply.redirect('/dashboard')
    })
  })
  const res = await app.inject({ method: 'POST', url: '/login/password' })
  t.equal(res.statusCode, 302)
  const cookie = cookiePair(setCookie(res.headers, 'sso'))
  const me = await app.inject({ url: '/api/me', headers: { cookie } })
  t.equal(me.statusCode, 200)
  t.match(me.json(), { id: 'local-1', email: 'demo@example.test', provider: 'local' })
})

test('app.sso.signIn() replaces and revokes the browser\'s previous session', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.post('/switch', async (request, reply) => {
      await app.sso.signIn(request, reply, { id: 'other', email: 'other@example.test' })
      return 'ok'
    })
  })
  const before = await signIn(app, { email: 'alice@acme.test' })
  const res = await app.inject({ method: 'POST', url: '/switch', headers: { cookie: before } })
  t.ok(setCookie(res.headers, 'sso'))
  await new Promise(resolve => setTimeout(resolve, 10))
  t.equal((await app.inject({ url: '/api/me', headers: { cookie: before } })).statusCode, 401)
})

test('app.sso.signIn() bounds the user like an IdP profile', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => {
    app.post('/bad', async (request, reply) => {
      await app.sso.signIn(request, reply, { id: '', email: 'x@example.test' })
      return 'ok'
    })
  })
  const res = await app.inject({ method: 'POST', url: '/bad' })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_SSO_TOKEN_REJECTED')
})

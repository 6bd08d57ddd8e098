/**
 * Fastify logs every request's URL; the auth routes' URLs carry authorization codes, state and
 * (JWT IdPs) tokens. Their log lines show the query redacted, through the app's own request
 * serializer when it has one; other routes are logged as before.
 */
import { test } from 'tap'
import Fastify, { type FastifyRequest } from 'fastify'
import { SignJWT } from 'jose'
import ssoPlugin, { jwtProvider, oidcProvider, type SsoPluginOptions } from '../src/index.ts'
import { redactUrl } from '../src/log-redaction.ts'
import { baseUrl, devIdp, secret, stopBeforeCallback } from './fixtures/app.ts'
import { Browser } from './fixtures/browser.ts'
import { captureLog } from './fixtures/observe.ts'

const jwtSecret = 'a shared JWT secret of at least 32 bytes!!'

async function appWithLog (t: { teardown(fn: () => unknown): void }, provider: SsoPluginOptions['provider'], serializers?: { req: (request: FastifyRequest) => Record<string, unknown> }) {
  const log = captureLog(serializers)
  const app = Fastify({ logger: log.logger })
  await app.register(ssoPlugin, { baseUrl, provider, session: { secret } })
  app.get('/search', async () => 'ok')
  t.teardown(() => app.close())
  await app.ready()
  /** The `req` of every "incoming request" line. */
  const requests = () => log.lines.filter(line => line.msg === 'incoming request').map(line => line.req as Record<string, unknown>)
  return { app, log, requests }
}

test('redactUrl: values go, names and routing parameters stay, a bare key that is not a name goes whole', async (t) => {
  t.equal(redactUrl('/auth/callback?code=abc&state=xyz&iss=https%3A%2F%2Fidp'), '/auth/callback?code=[redacted]&state=[redacted]&iss=[redacted]')
  t.equal(redactUrl('/auth/login?returnTo=%2Fdashboard&organization=org_acme&login_hint=a%40b.test'), '/auth/login?returnTo=%2Fdashboard&organization=org_acme&login_hint=[redacted]')
  t.equal(redactUrl('/auth/callback?eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'), '/auth/callback?[redacted]')
  t.equal(redactUrl('/auth/callback?a.b.c=x&SAMLResponse=PHNhbWw%2B'), '/auth/callback?[redacted]&SAMLResponse=[redacted]')
  t.equal(redactUrl('/auth/logout'), '/auth/logout')
})

test('the OIDC callback\'s code and state never reach the log, at any level; Fastify\'s fields stay', async (t) => {
  const idp = await devIdp(t)
  const { app, log, requests } = await appWithLog(t, oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }))
  const { callbackPath, txCookie } = await stopBeforeCallback(new Browser(app, baseUrl))
  const callback = new URL(callbackPath, baseUrl)
  const code = callback.searchParams.get('code')!
  const state = callback.searchParams.get('state')!
  t.equal((await app.inject({ url: callbackPath, headers: { cookie: txCookie } })).statusCode, 302, 'the login completed')

  t.notOk(log.text().includes(code), 'no authorization code')
  t.notOk(log.text().includes(state), 'no state')
  const line = requests().find(req => String(req.url).startsWith('/auth/callback'))
  t.match(line, { method: 'GET', url: '/auth/callback?code=[redacted]&state=[redacted]&iss=[redacted]', remoteAddress: '127.0.0.1' })
})

test('a JWT IdP\'s id_token in the URL (GET) or the body (POST) never reaches the log', async (t) => {
  const { app, log } = await appWithLog(t, jwtProvider({ loginUrl: 'https://idp.example/sso', secret: jwtSecret, algorithms: ['HS256'], allowUnsolicited: true }))
  const token = await new SignJWT({ email: 'alice@acme.test' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().setExpirationTime('1m').sign(new TextEncoder().encode(jwtSecret))
  t.equal((await app.inject({ url: `/auth/callback?id_token=${token}` })).statusCode, 302)
  const other = await new SignJWT({ email: 'bob@acme.test' }).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setIssuedAt().setExpirationTime('1m').sign(new TextEncoder().encode(jwtSecret))
  await app.inject({ method: 'POST', url: '/auth/callback', payload: `id_token=${other}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  for (const part of [...token.split('.'), ...other.split('.')].filter(piece => piece.length > 10)) {
    t.notOk(log.text().includes(part), 'no part of a token')
  }
})

test('the app\'s own request serializer keeps its format, fed the redacted request (url, query, body, raw)', async (t) => {
  const idp = await devIdp(t)
  const seen: unknown[] = []
  const { app, log, requests } = await appWithLog(t, oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }), {
    req: (request: FastifyRequest) => {
      seen.push(request.query)
      return { verb: request.method, path: request.url, raw: request.raw.url, query: request.query, body: request.body, tenant: request.headers['x-tenant'] }
    }
  })
  await app.inject({ url: '/auth/callback?code=SECRET_CODE_123&state=SECRET_STATE_456', headers: { 'x-tenant': 'acme' } })
  await app.inject({ url: '/search?q=hello' })
  t.notOk(log.text().includes('SECRET_CODE_123'), 'no code')
  t.notOk(log.text().includes('SECRET_STATE_456'), 'no state')
  const [callback, search] = requests()
  t.same(callback, { verb: 'GET', path: '/auth/callback?code=[redacted]&state=[redacted]', raw: '/auth/callback?code=[redacted]&state=[redacted]', tenant: 'acme' }, 'its own fields, redacted')
  t.same(search, { verb: 'GET', path: '/search?q=hello', raw: '/search?q=hello', query: { q: 'hello' } }, 'other routes are logged as before')
  t.ok(seen.length >= 2)
})

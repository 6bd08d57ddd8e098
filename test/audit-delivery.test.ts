/**
 * An `onAuditEvent` that throws, rejects, never settles or blocks never breaks or delays a login:
 * it runs once the response is written, it is not awaited, and its failures are logged.
 */
import { test, type Test } from 'tap'
import type { ServerResponse } from 'node:http'
import Fastify from 'fastify'
import ssoPlugin, { oidcProvider, type AuditListener } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { baseUrl, devIdp, loginThroughIdp, secret } from './fixtures/app.ts'
import { captureLog } from './fixtures/observe.ts'

async function appWith (t: Test, onAuditEvent: AuditListener, onCallback?: (response: ServerResponse) => void) {
  const idp = await devIdp(t)
  const log = captureLog()
  const app = Fastify({ logger: log.logger })
  await app.register(ssoPlugin, {
    baseUrl,
    provider: oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }),
    session: { secret },
    onAuditEvent
  })
  app.get('/dashboard', async (request) => ({ email: request.user?.email ?? null }))
  if (onCallback) app.addHook('onRequest', async (request, reply) => { if (request.url.startsWith('/auth/callback')) onCallback(reply.raw) })
  t.teardown(() => app.close())
  await app.ready()
  return { app, log, browser: new Browser(app, baseUrl) }
}

const settle = () => new Promise(resolve => setImmediate(resolve))

test('a throwing onAuditEvent: the login succeeds and the error is logged', async (t) => {
  const { browser, log } = await appWith(t, () => { throw new Error('audit store is down') })
  const landed = await loginThroughIdp(browser)
  t.same(JSON.parse(landed.body), { email: 'alice@acme.test' }, 'signed in')
  await settle()
  const failure = log.lines.find(line => line.msg === 'fastify-sso: onAuditEvent failed')
  t.equal(failure?.level, 50, 'logged at error level')
  t.match(failure, { auditEvent: 'login', err: { message: 'audit store is down' } })
})

test('a rejecting onAuditEvent: the login succeeds, the rejection is logged, nothing is unhandled', async (t) => {
  let unhandled: unknown
  const onUnhandled = (reason: unknown) => { unhandled = reason }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => process.off('unhandledRejection', onUnhandled))
  const { browser, log } = await appWith(t, async () => { throw new Error('SIEM refused the event') })
  await loginThroughIdp(browser)
  await settle()
  await settle()
  t.match(log.lines.find(line => line.msg === 'fastify-sso: onAuditEvent failed'), { err: { message: 'SIEM refused the event' } })
  t.equal(unhandled, undefined)
})

test('an onAuditEvent that never settles does not hold the login (it is not awaited)', async (t) => {
  const calls: string[] = []
  const { browser } = await appWith(t, (event) => { calls.push(event.type); return new Promise(() => {}) })
  const landed = await loginThroughIdp(browser)
  t.same(JSON.parse(landed.body), { email: 'alice@acme.test' })
  await settle()
  t.same(calls, ['login'])
})

test('onAuditEvent runs after the response is written, so even a blocking one cannot delay it', async (t) => {
  let response: ServerResponse | undefined
  let writtenWhenCalled: boolean | undefined
  const { browser } = await appWith(t, (event) => {
    if (event.type === 'login') writtenWhenCalled = response?.writableEnded
  }, (raw) => { response = raw })
  await loginThroughIdp(browser)
  await settle()
  t.equal(writtenWhenCalled, true, 'the callback\'s response had been written when the listener ran')
})

test('onAuditEvent must be a function: FST_SSO_INVALID_OPTION at register', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(ssoPlugin, {
    baseUrl,
    provider: oidcProvider({ issuer: 'http://127.0.0.1:9', clientId: 'c' }),
    session: { secret },
    onAuditEvent: 'audit.log' as never
  })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_SSO_INVALID_OPTION', message: /onAuditEvent/ })
})

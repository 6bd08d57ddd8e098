import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import { directorySync } from '../src/index.ts'
import { deliver, directoryUser, eventBody, webhookApp, webhookSecret } from './fixtures/webhook.ts'

test('invalid JSON or a non-event with a valid signature: 400', async (t) => {
  const { app, events } = await webhookApp(t)
  for (const payload of ['{not json', '[]', '"x"', '{"id":"e1"}', JSON.stringify({ id: 'e2', event: 'dsync.user.created' }), JSON.stringify({ id: '', event: 'x', data: {} })]) {
    const res = await deliver(app, payload)
    t.equal(res.statusCode, 400, payload)
    t.equal(res.json().code, 'FST_SSO_WEBHOOK_BODY_INVALID')
  }
  t.equal(events.length, 0)
})

test('a body over the limit: 413', async (t) => {
  const { app } = await webhookApp(t)
  const huge = eventBody('dsync.user.created', directoryUser('x@acme.test', { raw_attributes: { blob: 'x'.repeat(1024 * 1024) } }))
  const res = await deliver(app, huge)
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'FST_SSO_WEBHOOK_TOO_LARGE')
})

test('a duplicate delivery answers 200 without calling onEvent again', async (t) => {
  const { app, events } = await webhookApp(t)
  const payload = eventBody('dsync.user.created', directoryUser('dup@acme.test'), 'event_dup')
  t.equal((await deliver(app, payload)).statusCode, 200)
  const again = await deliver(app, payload)
  t.equal(again.statusCode, 200)
  t.same(again.json(), { received: true, duplicate: true })
  t.equal(events.length, 1)
})

test('a handler that throws answers 500 so WorkOS retries; the retry runs it once more', async (t) => {
  let calls = 0
  const { app } = await webhookApp(t, {
    onEvent: async () => {
      calls++
      if (calls === 1) throw new Error('database down at 10.0.0.5')
    }
  })
  const payload = eventBody('dsync.user.created', directoryUser('retry@acme.test'), 'event_retry')
  const failed = await deliver(app, payload)
  t.equal(failed.statusCode, 500)
  t.equal(failed.json().code, 'FST_SSO_WEBHOOK_HANDLER_FAILED')
  t.notMatch(failed.body, /10\.0\.0\.5|at |stack/, 'no internals or stack trace')
  t.equal((await deliver(app, payload)).statusCode, 200, 'the retry succeeds')
  t.equal((await deliver(app, payload)).statusCode, 200, 'then it is a duplicate')
  t.equal(calls, 2)
})

test('the same event arriving while the first delivery is handled: 409, and onEvent ran once', async (t) => {
  let calls = 0
  const { app } = await webhookApp(t, { onEvent: async () => { calls++; await sleep(200) } })
  const payload = eventBody('dsync.group.created', { object: 'directory_group', id: 'g1', idp_id: 'g', directory_id: 'd', organization_id: 'o', name: 'Sales', raw_attributes: {}, created_at: 'x', updated_at: 'y' }, 'event_concurrent')
  const [first, second] = await Promise.all([deliver(app, payload), (async () => { await sleep(50); return deliver(app, payload) })()])
  t.equal(first.statusCode, 200)
  t.equal(second.statusCode, 409)
  t.equal(second.json().code, 'FST_SSO_WEBHOOK_IN_PROGRESS')
  t.equal(calls, 1)
  t.equal((await deliver(app, payload)).statusCode, 200, 'a later retry is acknowledged as a duplicate')
  t.equal(calls, 1)
})

test('unknown event types are passed through untouched', async (t) => {
  const { app, events } = await webhookApp(t)
  const res = await deliver(app, eventBody('dsync.something_new', { anything: [1, 2] }))
  t.equal(res.statusCode, 200)
  t.match(events[0], { event: 'dsync.something_new', data: { anything: [1, 2] } })
})

test('the store failing answers 503 so WorkOS retries', async (t) => {
  const failing = {
    get: async () => { throw new Error('down') }, set: async () => { throw new Error('down') },
    add: async () => { throw new Error('down') }, delete: async () => {}, publish: async () => {}, readFeed: async () => ({ entries: [], cursor: null })
  }
  const { app, events } = await webhookApp(t, { store: failing })
  const res = await deliver(app, eventBody('dsync.user.created', directoryUser('a@acme.test')))
  t.equal(res.statusCode, 503)
  t.equal(events.length, 0)
})

test('the app\'s own JSON routes are untouched', async (t) => {
  const { app } = await webhookApp(t)
  t.same((await app.inject({ method: 'POST', url: '/', payload: { a: 1 } })).statusCode, 404)
  const other = Fastify()
  t.teardown(() => other.close())
  await other.register(directorySync, { secret: webhookSecret, onEvent: async () => {} })
  other.post('/echo', async (request) => request.body)
  t.same((await other.inject({ method: 'POST', url: '/echo', payload: { a: 1 } })).json(), { a: 1 })
})

test('wrong options fail ready() with a coded error', async (t) => {
  for (const [options, message] of [
    [{ onEvent: async () => {} }, /directorySync.secret/],
    [{ secret: 'x' }, /directorySync.onEvent/],
    [{ secret: 'x', secrets: ['y'], onEvent: async () => {} }, /directorySync.secrets/],
    [{ secret: 'x', onEvent: async () => {}, tolerance: -1 }, /directorySync.tolerance/],
    [{ secret: 'x', onEvent: async () => {}, path: 'webhooks' }, /directorySync.path/],
    [{ secret: 'x', onEvent: async () => {}, sekret: 'y' }, /directorySync.sekret/]
  ] as const) {
    const app = Fastify()
    app.register(directorySync, options as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_SSO_INVALID_OPTION', message })
    await app.close().catch(() => {})
  }
})

import { test } from 'tap'
import { createHmac } from 'node:crypto'
import { deliver, directoryUser, eventBody, webhookApp, webhookSecret } from './fixtures/webhook.ts'

const body = () => eventBody('dsync.user.created', directoryUser('new@acme.test'))
const sign = (payload: string, secret: string, t: number) => createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex')

test('a correctly signed event is accepted and typed like the SDK deserialises it', async (t) => {
  const { app, events } = await webhookApp(t)
  const res = await deliver(app, body())
  t.equal(res.statusCode, 200)
  t.match(events[0], { event: 'dsync.user.created', data: { email: 'new@acme.test', idpId: 'idp-new', directoryId: 'directory_01ACME', state: 'active' }, createdAt: String })
})

test('forged or broken signatures are refused with 401, never 500, and onEvent never runs', async (t) => {
  const { app, events } = await webhookApp(t)
  const payload = body()
  const now = Date.now()
  const cases: Array<[string, string | null]> = [
    ['missing header', null],
    ['empty header', ''],
    ['garbage header', 'garbage'],
    ['no v1', `t=${now}`],
    ['no timestamp', `v1=${sign(payload, webhookSecret, now)}`],
    ['non-numeric timestamp', `t=abc, v1=${sign(payload, webhookSecret, now)}`],
    ['short signature', `t=${now}, v1=abcdef`],
    ['wrong secret', `t=${now}, v1=${sign(payload, 'whsec_wrong', now)}`],
    ['signature for another timestamp', `t=${now}, v1=${sign(payload, webhookSecret, now - 1)}`],
    ['old timestamp (181 s)', `t=${now - 181_000}, v1=${sign(payload, webhookSecret, now - 181_000)}`],
    ['future timestamp (181 s)', `t=${now + 181_000}, v1=${sign(payload, webhookSecret, now + 181_000)}`],
    ['timestamp in seconds', `t=${Math.floor(now / 1000)}, v1=${sign(payload, webhookSecret, Math.floor(now / 1000))}`]
  ]
  for (const [name, header] of cases) {
    const res = await deliver(app, payload, { header })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'FST_SSO_WEBHOOK_SIGNATURE_INVALID', name)
  }
  t.equal(events.length, 0)
})

test('re-serialised JSON with the original signature is refused (the raw bytes are what is signed)', async (t) => {
  const { app, events } = await webhookApp(t)
  const payload = body()
  const header = `t=${Date.now()}, v1=${sign(payload, webhookSecret, Date.now())}`
  const t0 = Number(/t=(\d+)/.exec(header)![1])
  const exact = `t=${t0}, v1=${sign(payload, webhookSecret, t0)}`
  const reformatted = JSON.stringify(JSON.parse(payload), null, 2)
  t.equal((await deliver(app, reformatted, { header: exact })).statusCode, 401)
  const tampered = payload.replace('new@acme.test', 'admin@acme.test')
  t.equal((await deliver(app, tampered, { header: exact })).statusCode, 401)
  t.equal((await deliver(app, payload, { header: exact })).statusCode, 200)
  t.equal(events.length, 1)
})

test('timestamps inside the window are accepted in both directions', async (t) => {
  const { app } = await webhookApp(t)
  for (const skew of [-170_000, 170_000]) {
    const payload = body()
    t.equal((await deliver(app, payload, { timestamp: Date.now() + skew })).statusCode, 200, `skew ${skew} ms`)
  }
})

test('every v1 is tried: a valid second signature is accepted', async (t) => {
  const { app } = await webhookApp(t)
  const payload = body()
  const now = Date.now()
  const header = `t=${now}, v1=${sign(payload, 'whsec_old_secret', now)}, v1=${sign(payload, webhookSecret, now)}`
  t.equal((await deliver(app, payload, { header })).statusCode, 200)
})

test('secrets: [new, old] accepts either during a rotation', async (t) => {
  const { app } = await webhookApp(t, { secret: undefined, secrets: ['whsec_new_secret', webhookSecret] })
  t.equal((await deliver(app, body(), { secret: 'whsec_new_secret' })).statusCode, 200)
  t.equal((await deliver(app, body(), { secret: webhookSecret })).statusCode, 200)
  t.equal((await deliver(app, body(), { secret: 'whsec_third' })).statusCode, 401)
})

test('an empty body is refused: 401 when unsigned, 400 when correctly signed', async (t) => {
  const { app } = await webhookApp(t)
  t.equal((await deliver(app, '', { header: null })).statusCode, 401)
  const res = await deliver(app, '')
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'FST_SSO_WEBHOOK_BODY_INVALID')
})

import { test } from 'tap'
import { signIn } from '../src/testing/index.ts'
import { kCore } from '../src/core.ts'
import { buildApp, clearedCookie, setCookie, unreachableIdp } from './fixtures/app.ts'

test('garbage, truncated, tampered and old-format cookies are signed out, never a 500', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const good = (await signIn(app, { email: 'alice@acme.test' })).slice('sso='.length)
  const [cipher, nonce] = good.split('.') as [string, string]
  const flipped = Buffer.from(cipher, 'base64url')
  flipped[10] = flipped[10]! ^ 1
  const values = [
    '', 'garbage', ';', ';;;', 'a;b', '.', '...', 'a.b', '%', '%E0%A4%A', good.slice(0, 40),
    `${flipped.toString('base64url')}.${nonce}`,
    `${cipher}.${Buffer.alloc(24).toString('base64url')}`,
    `${cipher}.${nonce.slice(0, 10)}`,
    `${cipher}.${nonce}.${nonce}`,
    'x'.repeat(5000), encodeURIComponent('{"v":1,"u":{"id":"admin"}}'), '\u0000'
  ]
  for (const value of values) {
    const label = JSON.stringify(value.slice(0, 30))
    const open = await app.inject({ url: '/', headers: { cookie: `sso=${value}` } })
    t.equal(open.statusCode, 200, `open route with ${label}`)
    t.same(open.json(), { user: null })
    const guarded = await app.inject({ url: '/api/me', headers: { cookie: `sso=${value}` } })
    t.equal(guarded.statusCode, 401, `guarded route with ${label}`)
  }
})

test('the session cookie is base64url (nothing to URL-encode); the earlier URL-encoded form still works', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const good = (await signIn(app, { email: 'alice@acme.test' })).slice('sso='.length)
  t.match(good, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{32}$/, 'ciphertext.nonce, cookie-safe as it is')
  const [cipher, nonce] = good.split('.') as [string, string]
  const legacy = encodeURIComponent(`${Buffer.from(cipher, 'base64url').toString('base64')};${Buffer.from(nonce, 'base64url').toString('base64')}`)
  t.match(legacy, /%3B/, 'the earlier form: standard base64, URL-encoded')
  const res = await app.inject({ url: '/api/me', headers: { cookie: `sso=${legacy}` } })
  t.equal(res.statusCode, 200, 'a session sealed before the change stays signed in')
  t.equal(res.json().email, 'alice@acme.test')
})

test('a stale cookie is cleared by the guard', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const res = await app.inject({ url: '/api/me', headers: { cookie: 'sso=garbage' } })
  t.match(setCookie(res.headers, 'sso'), clearedCookie)
})

test('an encrypted payload of the wrong shape (old format) is signed out', async (t) => {
  const app = await buildApp(t, unreachableIdp)
  const codec = app.sso[kCore].sessions.codec
  for (const payload of [{ foo: 1 }, { v: 2, id: 'x', u: { id: 'a' }, c: Date.now(), s: Date.now() }, { v: 1, id: 'x', u: 'alice', c: Date.now(), s: Date.now() }, []]) {
    const cookie = `sso=${encodeURIComponent(codec.encode(payload))}`
    t.equal((await app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401, JSON.stringify(payload))
  }
})

test('routes that never read the user set no cookie and decode nothing', async (t) => {
  const app = await buildApp(t, unreachableIdp, {}, app => app.get('/plain', async () => 'ok'))
  const codec = app.sso[kCore].sessions.codec
  const decode = codec.decode.bind(codec)
  let decodes = 0
  codec.decode = ((...args: Parameters<typeof decode>) => { decodes++; return decode(...args) }) as typeof codec.decode
  const cookie = await signIn(app, { email: 'alice@acme.test' })
  const res = await app.inject({ url: '/plain', headers: { cookie } })
  t.equal(res.statusCode, 200)
  t.notOk(res.headers['set-cookie'])
  t.equal(decodes, 0, 'the session cookie was never decrypted')
  await app.inject({ url: '/', headers: { cookie } })
  t.equal(decodes, 1, 'reading request.user decrypts once')
})

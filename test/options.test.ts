import { test } from 'tap'
import Fastify from 'fastify'
import ssoPlugin, { oidcProvider, type SsoPluginOptions } from '../src/index.ts'
import { secret } from './fixtures/app.ts'

const provider = oidcProvider({ issuer: 'https://idp.example.com', clientId: 'client', clientSecret: 'secret' })
const valid = { baseUrl: 'https://app.example.com', provider, session: { secret } }

async function registerWith (options: unknown) {
  const app = Fastify({ logger: false })
  app.register(ssoPlugin, options as SsoPluginOptions)
  try {
    await app.ready()
  } finally {
    await app.close().catch(() => {})
  }
}

test('valid options register', async (t) => {
  await t.resolves(registerWith(valid))
  await t.resolves(registerWith({ ...valid, baseUrl: 'http://localhost:3000' }))
  await t.resolves(registerWith({ ...valid, baseUrl: 'http://127.0.0.1:8080/' }))
  await t.resolves(registerWith({ ...valid, session: { key: Buffer.alloc(32, 1) } }))
  await t.resolves(registerWith({ ...valid, session: { keys: [Buffer.alloc(32, 1).toString('base64'), Buffer.alloc(32, 2)] } }))
})

const cases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['no options', {}, /baseUrl/],
  ['missing baseUrl', { ...valid, baseUrl: undefined }, /`baseUrl` is required/],
  ['relative baseUrl', { ...valid, baseUrl: '/app' }, /`baseUrl` must be an absolute URL/],
  ['baseUrl with a path', { ...valid, baseUrl: 'https://app.example.com/app' }, /without a path/],
  ['baseUrl with a query', { ...valid, baseUrl: 'https://app.example.com/?x=1' }, /without a path, query/],
  ['http baseUrl off loopback', { ...valid, baseUrl: 'http://app.example.com' }, /https:\/\/ outside localhost/],
  ['ftp baseUrl', { ...valid, baseUrl: 'ftp://app.example.com' }, /must use https/],
  ['baseUrl with credentials', { ...valid, baseUrl: 'https://u:p@app.example.com' }, /credentials/],
  ['unknown option', { ...valid, cookie: {} }, /`cookie` is not a known option/],
  ['unknown session option', { ...valid, session: { secret, maxAge: 1 } }, /`session.maxAge` is not a known option/],
  ['prefix without slash', { ...valid, prefix: 'auth' }, /`prefix`/],
  ['prefix with trailing slash', { ...valid, prefix: '/auth/' }, /`prefix`/],
  ['prefix with dot segment', { ...valid, prefix: '/a/../b' }, /`prefix`/],
  ['prefix with a query', { ...valid, prefix: '/auth?x' }, /`prefix`/],
  ['missing provider', { ...valid, provider: undefined }, /`provider` is required/],
  ['missing session', { ...valid, session: undefined }, /`session` is required/],
  ['missing secret', { ...valid, session: {} }, /`session.secret` is required/],
  ['short secret', { ...valid, session: { secret: 'short' } }, /at least 32 characters/],
  ['secret and key', { ...valid, session: { secret, key: Buffer.alloc(32) } }, /exactly one of secret, key or keys/],
  ['short key', { ...valid, session: { key: Buffer.alloc(16) } }, /`session.key` must be 32 bytes/],
  ['empty keys', { ...valid, session: { keys: [] } }, /`session.keys` must be a non-empty array/],
  ['bad key in keys', { ...valid, session: { keys: [Buffer.alloc(32), 'short'] } }, /`session.keys\[1\]` must be 32 bytes/],
  ['bad cookie name', { ...valid, session: { secret, cookieName: 'a b' } }, /`session.cookieName`/],
  ['__Host- cookie on http', { ...valid, baseUrl: 'http://localhost:3000', session: { secret, cookieName: '__Host-x' } }, /__Host-/],
  ['idle above absolute', { ...valid, session: { secret, idleTimeout: 100, absoluteTimeout: 50 } }, /must not exceed/],
  ['negative timeout', { ...valid, session: { secret, idleTimeout: -1 } }, /positive whole number/],
  ['fractional timeout', { ...valid, session: { secret, absoluteTimeout: 1.5 } }, /positive whole number/],
  ['bad sameSite', { ...valid, session: { secret, sameSite: 'loose' } }, /`session.sameSite`/],
  ['sameSite none on http', { ...valid, baseUrl: 'http://localhost:3000', session: { secret, sameSite: 'none' } }, /'none' requires an https baseUrl/],
  ['onLogin not a function', { ...valid, onLogin: 'yes' }, /`onLogin` must be a function/],
  ['unsafe defaultReturnTo', { ...valid, defaultReturnTo: '//evil.example' }, /`defaultReturnTo` must be a same-origin path/],
  ['foreign logoutRedirect', { ...valid, logoutRedirect: 'https://evil.example/' }, /`logoutRedirect` must be a path under baseUrl/],
  ['bad decorator', { ...valid, decorator: 'user-name' }, /`decorator` must be a JavaScript identifier/],
  ['bad store', { ...valid, store: { get () {} } }, /`store` must be an SsoStore/],
  ['bad storeFailure', { ...valid, storeFailure: 'maybe' }, /`storeFailure`/],
  ['issuer not a URL', { ...valid, provider: oidcProvider({ issuer: 'idp', clientId: 'c' }) }, /`oidcProvider.issuer`/],
  ['http issuer off loopback', { ...valid, provider: oidcProvider({ issuer: 'http://idp.example.com', clientId: 'c' }) }, /`oidcProvider.issuer` must use https/],
  ['missing clientId', { ...valid, provider: oidcProvider({ issuer: 'https://idp.example.com' } as never) }, /`oidcProvider.clientId` is required/],
  ['alg none', { ...valid, provider: oidcProvider({ issuer: 'https://idp.example.com', clientId: 'c', idTokenSigningAlg: 'none' }) }, /asymmetric algorithm/],
  ['alg HS256', { ...valid, provider: oidcProvider({ issuer: 'https://idp.example.com', clientId: 'c', idTokenSigningAlg: 'HS256' }) }, /asymmetric algorithm/],
  ['scopes without openid', { ...valid, provider: oidcProvider({ issuer: 'https://idp.example.com', clientId: 'c', scopes: ['email'] }) }, /must include "openid"/],
  ['basic auth without secret', { ...valid, provider: oidcProvider({ issuer: 'https://idp.example.com', clientId: 'c', tokenAuthMethod: 'client_secret_basic' }) }, /needs a clientSecret/],
  ['unknown provider option', { ...valid, provider: oidcProvider({ issuer: 'https://idp.example.com', clientId: 'c', clientSecert: 'typo' } as never) }, /`oidcProvider.clientSecert` is not a known option/]
]

for (const [name, options, message] of cases) {
  test(`refused at ready(): ${name}`, async (t) => {
    await t.rejects(registerWith(options), { code: 'FST_SSO_INVALID_OPTION', message })
  })
}

test('the provider factory never throws: a wrong provider option fails ready(), not the call', async (t) => {
  t.doesNotThrow(() => oidcProvider({ issuer: 'not a url' } as never))
})

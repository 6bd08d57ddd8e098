/**
 * Runs with the optional peers installed: a real login starts against the development IdP, and an
 * application's own ioredis client is accepted by redisStore() (typed structurally, at runtime
 * through Redis when REDIS_URL is set).
 */
import { Redis } from 'ioredis'
import { redisStore } from 'fastify-sso'
import { signIn, startDevIdp } from 'fastify-sso/testing'
import { baseUrl, buildApp, check } from './app.js'
import { runWithoutPeers } from './without-peers.js'

await runWithoutPeers()

const idp = await startDevIdp({ app: { baseUrl } })
try {
  const app = await buildApp({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret })
  try {
    const login = await app.inject({ url: '/auth/login?returnTo=/me' })
    check(login.statusCode === 302 && String(login.headers.location).startsWith(`${idp.issuer}/`), 'GET /auth/login redirects to the development IdP')
  } finally {
    await app.close()
  }
} finally {
  await idp.close()
}

const redisUrl = process.env.REDIS_URL
// The application's own client: constructed lazily, so type-checking this needs no Redis server.
const client = new Redis(redisUrl ?? 'redis://127.0.0.1:6379', { lazyConnect: true })
const store = redisStore({ client, prefix: `consumer-test:${process.pid}:` })
if (redisUrl) {
  const app = await buildApp({ issuer: idp.issuer, clientId: idp.clientId, store })
  try {
    const cookie = await signIn(app, { email: 'carol@acme.test' })
    check((await app.inject({ url: '/me', headers: { cookie } })).statusCode === 200, 'a session with redisStore({ client })')
    await app.sso.revoke({ email: 'carol@acme.test' })
    check((await app.inject({ url: '/me', headers: { cookie } })).statusCode === 401, 'a revocation through Redis')
  } finally {
    await app.close()
    client.disconnect()
  }
} else {
  client.disconnect()
  console.log('  skip redisStore({ client }) at runtime: REDIS_URL is not set (its types were checked)')
}

/**
 * `@fastify/secure-session` alone (the library fastify-sso encrypts with), its per-request hooks
 * decrypting the same profile, and the route answering 401 without it: the usual hand-rolled guard.
 */
import Fastify from 'fastify'
import fastifySecureSession from '@fastify/secure-session'
import { randomBytes } from 'node:crypto'
import { announce, cookiePair } from './ready.ts'
import { answer, benchUser } from '../profile.ts'

const app = Fastify({ logger: false })
await app.register(fastifySecureSession, { key: randomBytes(32), cookieName: 'session', cookie: { path: '/', httpOnly: true, sameSite: 'lax' } })
app.get('/protected', async (request, reply) => {
  const user = request.session.get('user' as never) as typeof benchUser | undefined
  if (!user) return reply.code(401).send({ error: 'Unauthorized' })
  return answer(user.email)
})
app.get('/seed', async (request) => {
  request.session.set('user' as never, { ...benchUser, provider: 'oidc' } as never)
  return 'ok'
})
await app.listen({ port: 0, host: '127.0.0.1' })
const seeded = await app.inject({ url: '/seed' })
await announce(app.server, () => app.close(), { cookie: cookiePair(seeded.headers['set-cookie'], 'session') })

/**
 * The baseline: Fastify with one JSON route and no plugin.
 *
 *   --cookie   also hand the client a cookie of a session cookie's size (random bytes), to show
 *              what receiving that header costs a server that never reads it
 */
import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import { announce } from './ready.ts'
import { answer, benchUser } from '../profile.ts'

const app = Fastify({ logger: false })
app.get('/public', async () => answer(benchUser.email))
await app.listen({ port: 0, host: '127.0.0.1' })
// 510 random bytes in base64, URL-encoded: the ~730-byte header of a typical session cookie.
const cookie = process.argv.includes('--cookie') ? `sso=${encodeURIComponent(randomBytes(510).toString('base64'))}` : ''
await announce(app.server, () => app.close(), { cookie })

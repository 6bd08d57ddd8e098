/**
 * The directory-sync webhook route with an `onEvent` that does nothing: what is measured is the
 * raw-body read, the signature check, the timestamp window and the once-per-event bookkeeping.
 */
import Fastify from 'fastify'
import ssoPlugin, { directorySync } from '../../src/index.ts'
import { announce } from './ready.ts'
import { benchSsoOptions, benchWebhookSecret } from './config.ts'

const app = Fastify({ logger: false })
await app.register(ssoPlugin, benchSsoOptions())
let events = 0
await app.register(directorySync, { secret: benchWebhookSecret, onEvent: async () => { events++ } })
app.get('/events', async () => ({ events }))
await app.listen({ port: 0, host: '127.0.0.1' })
await announce(app.server, () => app.close())

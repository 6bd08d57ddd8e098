/**
 * The directory-sync webhook route with an `onEvent` that does nothing: what is measured is the
 * raw-body read, the signature check, the timestamp window and the once-per-event bookkeeping.
 */
import Fastify from 'fastify'
import ssoPlugin, { directorySync, oidcProvider } from '../../src/index.ts'
import { announce } from './ready.ts'
import { benchWebhookSecret } from './webhook-secret.ts'

const app = Fastify({ logger: false })
await app.register(ssoPlugin, {
  baseUrl: 'http://localhost:3000',
  provider: oidcProvider({ issuer: 'http://127.0.0.1:9', clientId: 'bench', clientSecret: 'bench' }),
  session: { secret: 'a benchmark secret of at least thirty-two characters' }
})
let events = 0
await app.register(directorySync, { secret: benchWebhookSecret, onEvent: async () => { events++ } })
app.get('/events', async () => ({ events }))
await app.listen({ port: 0, host: '127.0.0.1' })
await announce(app.server, () => app.close())

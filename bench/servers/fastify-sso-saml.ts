/**
 * fastify-sso on `samlProvider()`, for the SAML login benchmark: the IdP's metadata URL is
 * given by the runner (the development SAML IdP in the runner's process).
 *
 *   --metadata-url=URL   the IdP's metadata
 */
import Fastify from 'fastify'
import ssoPlugin, { samlProvider } from '../../src/index.ts'
import { announce } from './ready.ts'
import { benchSsoOptions } from './config.ts'

const flags = new Map(process.argv.slice(2).map(arg => arg.replace(/^--/, '').split('=') as [string, string]))
const app = Fastify({ logger: false })
await app.register(ssoPlugin, { ...benchSsoOptions(), provider: samlProvider({ idp: { metadataUrl: flags.get('metadata-url')! } }) })
await app.listen({ port: 0, host: '127.0.0.1' })
await announce(app.server, () => app.close())

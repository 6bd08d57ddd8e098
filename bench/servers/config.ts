/** What the benchmark servers and the runner agree on. */
import { oidcProvider, type SsoPluginOptions } from '../../src/index.ts'

/** The secret the webhook server verifies and the runner signs with. */
export const benchWebhookSecret = 'whsec_benchmark_secret_for_directory_sync'

/** The SCIM bearer token of the SCIM server (one tenant, `org_bench`). */
export const benchScimToken = 'scim_benchmark_token_for_one_tenant_of_the_bench_server'

/** How many users the SCIM lookup server holds; the lookups filter among them. */
export const benchScimUsers = 10_000

/** The Redis of the store variant. */
export const benchRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * fastify-sso's options on every benchmark server: an OpenID Provider that is never contacted
 * (only requests of an already signed-in user are measured), unless the login benchmark names one.
 */
export function benchSsoOptions (idp = { issuer: 'http://127.0.0.1:9', clientId: 'bench', clientSecret: 'bench' }): SsoPluginOptions {
  return {
    baseUrl: 'http://localhost:3000',
    provider: oidcProvider(idp),
    session: { secret: 'a benchmark secret of at least thirty-two characters' }
  }
}

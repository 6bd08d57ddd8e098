/**
 * Which identity provider the example uses, from the environment (example/.env, see
 * example/.env.example). With no IdP variable set it is a multi-tenant app: each demo customer
 * (example/tenants.ts) signs in through its own embedded development IdP, chosen by the work
 * email's domain with `connections()`, so `npm start` works with no account anywhere.
 *
 *   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET      any OpenID Connect IdP
 *   WORKOS_API_KEY, WORKOS_CLIENT_ID                     WorkOS SSO (the names of WorkOS's own example)…
 *     CUSTOMER_ORGANIZATION_ID                           …for one organization (else routed by email domain)
 *     WORKOS_AUTHKIT=1                                   …or WorkOS AuthKit instead
 *   SESSION_SECRET                                       ≥ 32 characters (generated for development)
 *   WORKOS_WEBHOOK_SECRET                                the directory-sync webhook secret
 */
import { randomBytes } from 'node:crypto'
import { WorkOS } from '@workos-inc/node'
import { connections, oidcProvider, workosAuthKit, workosSso, type SsoProvider } from '../src/index.ts'
import { closeTenants, startTenants, tenantResolver, type RunningTenant } from './tenants.ts'

/** The development webhook secret (`npm run webhook:send` signs with it too). */
export const devWebhookSecret = 'whsec_dev_fastify_sso_example_secret'

export interface ExampleConfig {
  provider: SsoProvider
  /** Which IdP, in words: shown on the home page and printed at start-up. */
  description: string
  /** The WorkOS SDK client when the example runs on WorkOS (for the directory pages). */
  workosClient?: WorkOS
  /** With no IdP configured: the demo customers, each on its own development IdP (closed with the app). */
  tenants?: RunningTenant[]
  sessionSecret: string
  webhookSecret: string
  /** SCIM tokens by hash, `org_acme=<sha256>,…` (SCIM_TOKEN_HASHES); on the development IdP, fixed demo tokens (example/scim.ts). */
  scimTokenHashes?: string | undefined
  /** Things the developer should fix, printed at start-up. */
  warnings: string[]
}

export type Env = Record<string, string | undefined>

/**
 * Reads the configuration. Starts the demo customers' development IdPs (registered for `baseUrl`)
 * when no IdP is configured; nothing else touches the network.
 *
 * @example
 * ```ts
 * const config = await exampleConfig(process.env, 'http://localhost:3000')
 * await app.register(ssoPlugin, { baseUrl, provider: config.provider, session: { secret: config.sessionSecret } })
 * ```
 */
export async function exampleConfig (env: Env, baseUrl: string): Promise<ExampleConfig> {
  const warnings: string[] = []
  let sessionSecret = env.SESSION_SECRET
  if (!sessionSecret) {
    sessionSecret = randomBytes(32).toString('base64url')
    warnings.push('SESSION_SECRET is not set: using a random development secret, so sessions end when the server restarts. Set SESSION_SECRET to 32+ random characters in example/.env (e.g. `openssl rand -base64 32`).')
  }
  const webhookSecret = env.WORKOS_WEBHOOK_SECRET || devWebhookSecret
  const common = { sessionSecret, webhookSecret, warnings, scimTokenHashes: env.SCIM_TOKEN_HASHES || undefined }

  if (env.WORKOS_API_KEY || env.WORKOS_CLIENT_ID) {
    if (!env.WORKOS_API_KEY || !env.WORKOS_CLIENT_ID) {
      throw new Error('WorkOS needs both WORKOS_API_KEY and WORKOS_CLIENT_ID (dashboard → API Keys): set both in example/.env.')
    }
    const clientId = env.WORKOS_CLIENT_ID
    const workosClient = new WorkOS(env.WORKOS_API_KEY, { clientId })
    if (env.WORKOS_AUTHKIT === '1') {
      return { ...common, workosClient, provider: workosAuthKit({ client: workosClient, clientId }), description: 'WorkOS AuthKit' }
    }
    const organizationId = env.CUSTOMER_ORGANIZATION_ID || undefined
    return {
      ...common,
      workosClient,
      provider: workosSso({ client: workosClient, clientId, ...(organizationId ? { organizationId } : { domainRouting: true }) }),
      description: organizationId ? `WorkOS SSO (organization ${organizationId})` : 'WorkOS SSO (routed by email domain)'
    }
  }
  if (env.OIDC_ISSUER || env.OIDC_CLIENT_ID) {
    if (!env.OIDC_ISSUER || !env.OIDC_CLIENT_ID) {
      throw new Error('OpenID Connect needs both OIDC_ISSUER and OIDC_CLIENT_ID (and OIDC_CLIENT_SECRET for a confidential client): set them in example/.env.')
    }
    return {
      ...common,
      provider: oidcProvider({ issuer: env.OIDC_ISSUER, clientId: env.OIDC_CLIENT_ID, ...(env.OIDC_CLIENT_SECRET ? { clientSecret: env.OIDC_CLIENT_SECRET } : {}) }),
      description: `OpenID Connect (${env.OIDC_ISSUER})`
    }
  }
  const tenants = await startTenants(baseUrl)
  return {
    ...common,
    tenants,
    provider: connections({ resolve: tenantResolver(tenants) }),
    description: `each customer's own identity provider, chosen by the email's domain (${tenants.map(({ tenant }) => `${tenant.domains.join(', ')} → ${tenant.name}'s embedded development IdP`).join('; ')})`
  }
}

/** Stops whatever the configuration started (the development IdPs). */
export async function closeConfig (config: ExampleConfig): Promise<void> {
  if (config.tenants) await closeTenants(config.tenants)
}

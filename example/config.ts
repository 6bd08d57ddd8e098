/**
 * Which identity provider the example uses, from the environment. With nothing set it uses the
 * embedded development IdP, so `npm start` works with no account anywhere.
 *
 *   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET      any OpenID Connect IdP
 *   WORKOS_API_KEY, WORKOS_CLIENT_ID                     WorkOS SSO (as in WorkOS's own example)…
 *     CUSTOMER_ORGANIZATION_ID                           …for one organization (else by email domain)
 *     WORKOS_AUTHKIT=1                                   …or WorkOS AuthKit instead
 *   SESSION_SECRET                                       ≥ 32 characters (generated for development)
 *   WORKOS_WEBHOOK_SECRET                                the directory-sync webhook secret
 */
import { randomBytes } from 'node:crypto'
import { WorkOS } from '@workos-inc/node'
import { oidcProvider, workosAuthKit, workosSso, type SsoProvider } from '../src/index.ts'
import { defaultDevUsers, startDevIdp, type DevIdp } from '../src/testing/index.ts'

/** The development webhook secret (`npm run webhook:send` signs with it too). */
export const devWebhookSecret = 'whsec_dev_fastify_sso_example_secret'

export interface ExampleConfig {
  provider: SsoProvider
  /** Shown on the pages and printed at start-up. */
  description: string
  /** Set when the example runs on WorkOS (for the directories pages). */
  workos?: WorkOS
  /** Set when the example runs on the embedded development IdP (closed with the app). */
  devIdp?: DevIdp
  sessionSecret: string
  webhookSecret: string
  warnings: string[]
}

type Env = Record<string, string | undefined>

export async function exampleConfig (env: Env, baseUrl: string): Promise<ExampleConfig> {
  const warnings: string[] = []
  let sessionSecret = env.SESSION_SECRET
  if (!sessionSecret) {
    sessionSecret = randomBytes(32).toString('base64url')
    warnings.push('SESSION_SECRET is not set: using a random development secret (sessions end when the server restarts). Set SESSION_SECRET to 32+ random characters in example/.env.')
  }
  const webhookSecret = env.WORKOS_WEBHOOK_SECRET || devWebhookSecret
  const common = { sessionSecret, webhookSecret, warnings }

  if (env.WORKOS_API_KEY && env.WORKOS_CLIENT_ID) {
    const workos = new WorkOS(env.WORKOS_API_KEY, { clientId: env.WORKOS_CLIENT_ID })
    if (env.WORKOS_AUTHKIT === '1') {
      return { ...common, workos, provider: workosAuthKit({ client: workos, clientId: env.WORKOS_CLIENT_ID }), description: 'WorkOS AuthKit' }
    }
    const organizationId = env.CUSTOMER_ORGANIZATION_ID || undefined
    return {
      ...common,
      workos,
      provider: workosSso({ client: workos, clientId: env.WORKOS_CLIENT_ID, ...(organizationId ? { organizationId } : { domainRouting: true }) }),
      description: organizationId ? `WorkOS SSO (organization ${organizationId})` : 'WorkOS SSO (routed by email domain)'
    }
  }
  if (env.OIDC_ISSUER) {
    if (!env.OIDC_CLIENT_ID) throw new Error('OIDC_ISSUER is set but OIDC_CLIENT_ID is not: set both (and OIDC_CLIENT_SECRET for a confidential client) in example/.env.')
    return {
      ...common,
      provider: oidcProvider({ issuer: env.OIDC_ISSUER, clientId: env.OIDC_CLIENT_ID, ...(env.OIDC_CLIENT_SECRET ? { clientSecret: env.OIDC_CLIENT_SECRET } : {}) }),
      description: `OpenID Connect (${env.OIDC_ISSUER})`
    }
  }
  const devIdp = await startDevIdp({ users: defaultDevUsers, app: { baseUrl } })
  return {
    ...common,
    devIdp,
    provider: oidcProvider({ issuer: devIdp.issuer, clientId: devIdp.clientId, clientSecret: devIdp.clientSecret }),
    description: `the embedded development IdP (${devIdp.issuer})`
  }
}

/**
 * The example's customers when no IdP is configured: each tenant signs in through its own
 * embedded development IdP, and `connections()` routes a login there by the work email's domain
 * (alice@acme.test → Acme's OpenID Provider, bob@globex.test → Globex's, ivy@initech.test →
 * Initech's SAML IdP).
 *
 * In a real app this table is a database table (see docs/multi-tenant.md), with verified domains
 * and each customer's IdP settings. To add a tenant here, add one entry to `demoTenants`; a
 * tenant on another kind of IdP (SAML) only needs its own `start` function.
 */
import { oidcProvider, samlProvider, type ConnectionLookup, type SsoConnection, type SsoProvider } from '../src/index.ts'
import { defaultDevUsers, startDevIdp, startDevSamlIdp, type DevIdpUser } from '../src/testing/index.ts'

/** A customer of the example app and the development IdP it signs in through. */
export interface DemoTenant {
  /** The connection id (URL-safe). */
  id: string
  name: string
  organizationId: string
  /** The email domains routed to this tenant (in a real app: verified, e.g. by a DNS TXT record). */
  domains: string[]
  /** The demo people at the tenant's IdP. */
  users: DevIdpUser[]
  /** Starts the tenant's development IdP, registered for the app at `baseUrl`. */
  start: (tenant: DemoTenant, baseUrl: string) => Promise<RunningIdp>
}

/** A tenant's IdP, running. */
export interface RunningIdp {
  /** What signs the tenant's users in (becomes the connection's provider). */
  provider: SsoProvider
  /** Where it runs (shown at start-up): the OIDC issuer, or the SAML IdP's URL. */
  url: string
  /** `oidc`, `saml`…: shown at start-up. */
  protocol: string
  close(): Promise<void>
}

/** A tenant with its IdP running and the connection `connections()` resolves. */
export interface RunningTenant {
  tenant: DemoTenant
  idp: RunningIdp
  connection: SsoConnection
}

/** A tenant on an embedded development OpenID Provider (`startDevIdp`). */
export async function devOidcIdp (tenant: DemoTenant, baseUrl: string): Promise<RunningIdp> {
  const idp = await startDevIdp({ name: tenant.name, users: tenant.users, app: { baseUrl } })
  return {
    provider: oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }),
    url: idp.issuer,
    protocol: 'oidc',
    close: () => idp.close()
  }
}

/**
 * A tenant on the embedded development SAML IdP (`startDevSamlIdp`): the connection reads the IdP's
 * settings from its metadata URL, as it would an Okta SAML app's or ADFS's.
 */
export async function devSamlIdp (tenant: DemoTenant, baseUrl: string): Promise<RunningIdp> {
  const idp = await startDevSamlIdp({ users: tenant.users, app: { baseUrl } })
  return {
    provider: samlProvider({ idp: { metadataUrl: idp.metadataUrl } }),
    url: idp.metadataUrl,
    protocol: 'saml',
    close: () => idp.close()
  }
}

const usersOf = (organizationId: string) => defaultDevUsers.filter(user => user.organizationId === organizationId)

/** Initech's people (on its SAML IdP). */
const initechUsers: DevIdpUser[] = [
  { email: 'ivy@initech.test', name: 'Ivy Irwin', givenName: 'Ivy', familyName: 'Irwin', organizationId: 'org_initech', organizationName: 'Initech', roles: ['admin'], groups: ['Finance'] }
]

/** The example's tenants. */
export const demoTenants: DemoTenant[] = [
  { id: 'acme', name: 'Acme', organizationId: 'org_acme', domains: ['acme.test'], users: usersOf('org_acme'), start: devOidcIdp },
  { id: 'globex', name: 'Globex', organizationId: 'org_globex', domains: ['globex.test'], users: usersOf('org_globex'), start: devOidcIdp },
  { id: 'initech', name: 'Initech', organizationId: 'org_initech', domains: ['initech.test'], users: initechUsers, start: devSamlIdp }
]

/** Starts every tenant's IdP (closing the ones already started if one fails). */
export async function startTenants (baseUrl: string, tenants: DemoTenant[] = demoTenants): Promise<RunningTenant[]> {
  const running: RunningTenant[] = []
  try {
    for (const tenant of tenants) {
      const idp = await tenant.start(tenant, baseUrl)
      running.push({ tenant, idp, connection: { id: tenant.id, organizationId: tenant.organizationId, domains: tenant.domains, provider: idp.provider } })
    }
  } catch (err) {
    await closeTenants(running)
    throw err
  }
  return running
}

export async function closeTenants (tenants: RunningTenant[]): Promise<void> {
  await Promise.all(tenants.map(running => running.idp.close()))
}

/**
 * `connections()`'s `resolve` over the running tenants: what an app does with a query on its
 * connections table (by domain, organization or id).
 */
export function tenantResolver (tenants: RunningTenant[]) {
  return async (by: ConnectionLookup): Promise<SsoConnection | null> => {
    const found = tenants.find(({ connection }) =>
      'domain' in by ? connection.domains.includes(by.domain)
        : 'organization' in by ? connection.organizationId === by.organization
          : connection.id === by.connection)
    return found?.connection ?? null
  }
}

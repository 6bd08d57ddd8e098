/**
 * Session cookie sizes as browsers store them (`name=value`, URL-encoded), each from a real login:
 * WorkOS SSO and AuthKit through the real `@workos-inc/node` SDK against the local WorkOS API of
 * the tests. (The OpenID Connect cookie comes from the login benchmark.)
 */
import { Browser } from '../test/fixtures/browser.ts'
import { clientId, startWorkOS, workosApp } from '../test/fixtures/workos-api.ts'
import { workosAuthKit, workosSso } from '../src/index.ts'

export interface CookieSize { what: string, bytes: number }

/** Runs `fn` with a teardown list, then tears down (the fixtures expect tap's `t.teardown`). */
async function withTeardown<T> (fn: (t: { teardown(fn: () => unknown): void }) => Promise<T>): Promise<T> {
  const teardowns: Array<() => unknown> = []
  try {
    return await fn({ teardown: (task) => { teardowns.push(task) } })
  } finally {
    for (const task of teardowns.reverse()) await task()
  }
}

async function sessionCookieAfterLogin (provider: 'sso' | 'authkit'): Promise<number> {
  return withTeardown(async (t) => {
    const api = await startWorkOS(t)
    const app = await workosApp(t, provider === 'sso'
      ? workosSso({ client: api.client(), clientId, organizationId: 'org_acme' })
      : workosAuthKit({ client: api.client(), clientId }))
    const browser = new Browser(app, 'http://localhost:3000', { accept: 'application/json' })
    const page = await browser.navigate('/auth/login?login_hint=alice%40acme.test&returnTo=%2Fdashboard')
    if (page.status !== 200) throw new Error(`WorkOS ${provider} login: ${page.status} ${page.body}`)
    const value = browser.cookies('http://localhost:3000').get('sso')?.value
    if (!value) throw new Error(`WorkOS ${provider} login set no session cookie`)
    return Buffer.byteLength(`sso=${value}`)
  })
}

/** The WorkOS cookie sizes, with the OpenID Connect one measured by the login benchmark. */
export async function cookieSizes (oidcCookie: string): Promise<CookieSize[]> {
  return [
    { what: 'OpenID Connect, typical profile (name, email, organization, 2 roles, 2 groups, 3 extra claims)', bytes: Buffer.byteLength(oidcCookie) },
    { what: 'WorkOS SSO profile (SAML connection, groups, role, custom attributes)', bytes: await sessionCookieAfterLogin('sso') },
    { what: 'WorkOS AuthKit (profile, permissions, refresh token and WorkOS session id)', bytes: await sessionCookieAfterLogin('authkit') }
  ]
}

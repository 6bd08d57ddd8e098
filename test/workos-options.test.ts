import { test } from 'tap'
import Fastify from 'fastify'
import ssoPlugin, { type SsoProvider } from '../src/index.ts'
import { workosSso } from '../src/providers/workos-sso.ts'
import { workosAuthKit } from '../src/providers/workos-authkit.ts'
import { baseUrl, secret } from './fixtures/app.ts'
import { apiKey, clientId, startWorkOS } from './fixtures/workos-api.ts'

/** Registers the provider and returns the error `ready()` fails with (or undefined). */
async function registerError (provider: SsoProvider): Promise<Error & { code?: string } | undefined> {
  const app = Fastify({ logger: false })
  try {
    await app.register(ssoPlugin, { baseUrl, provider, session: { secret } })
    await app.ready()
    return undefined
  } catch (err) {
    return err as Error
  } finally {
    await app.close()
  }
}

test('workosSso options are validated at register, each with a message that says what to fix', async (t) => {
  const api = await startWorkOS(t)
  const client = api.client()
  const cases: Array<[unknown, RegExp]> = [
    [{ apiKey }, /workosSso\.clientId` is required/],
    [{ clientId }, /workosSso\.apiKey` is required \(or pass client\)/],
    [{ apiKey: 'client_123', clientId }, /must be a WorkOS API key, which starts with sk_/],
    [{ apiKey, clientId: apiKey }, /looks like an API key/],
    [{ apiKey, client, clientId }, /either apiKey or client, not both/],
    [{ client: {}, clientId }, /must be a WorkOS SDK instance/],
    [{ client: Object.assign(Object.create(client), { key: undefined }), clientId }, /must be created with an API key/],
    [{ apiKey, clientId, organizationID: 'org_acme' }, /workosSso\.organizationID` is not a known option/],
    [{ apiKey, clientId, organizationId: 'acme' }, /must be a WorkOS organization id/],
    [{ apiKey, clientId, connectionId: 'org_acme' }, /must be a WorkOS connection id/],
    [{ apiKey, clientId, organizationId: 'org_acme', connectionId: 'conn_acme' }, /organizationId or connectionId, not both/],
    [{ apiKey, clientId, organizationId: 'org_acme', domainRouting: true }, /cannot be combined with a fixed organizationId/],
    [{ apiKey, clientId, domainRouting: 'yes' }, /must be true, false or a function/],
    [{ apiKey, clientId, allowIdpInitiated: 'true' }, /allowIdpInitiated` must be true or false/]
  ]
  for (const [options, message] of cases) {
    const err = await registerError(workosSso(options as never))
    t.equal(err?.code, 'FST_SSO_INVALID_OPTION', String(message))
    t.match(err?.message, message)
  }
  t.equal(await registerError(workosSso({ apiKey, clientId })), undefined, 'apiKey and clientId are enough')
  t.equal(await registerError(workosSso({ client, clientId, connectionId: 'conn_acme', allowIdpInitiated: true })), undefined)
})

test('workosAuthKit options are validated at register', async (t) => {
  const api = await startWorkOS(t)
  const cases: Array<[unknown, RegExp]> = [
    [{ apiKey }, /workosAuthKit\.clientId` is required/],
    [{ apiKey, clientId, screenHint: 'register' }, /must be 'sign-in' or 'sign-up'/],
    [{ apiKey, clientId, organizationId: 'globex' }, /must be a WorkOS organization id/],
    [{ apiKey, clientId, domainRouting: true }, /workosAuthKit\.domainRouting` is not a known option/],
    [{ client: { sso: {} }, clientId }, /has no userManagement\.getAuthorizationUrl\(\)/]
  ]
  for (const [options, message] of cases) {
    const err = await registerError(workosAuthKit(options as never))
    t.equal(err?.code, 'FST_SSO_INVALID_OPTION', String(message))
    t.match(err?.message, message)
  }
  t.equal(await registerError(workosAuthKit({ client: api.client(), clientId, organizationId: 'org_acme', screenHint: 'sign-up' })), undefined)
})

/**
 * What the two WorkOS providers (`workosSso`, `workosAuthKit`) share: the SDK client and its
 * options, the 10-second deadline and the trace of every WorkOS call, the mapping of SDK
 * exceptions onto our coded errors, how long WorkOS lookups are cached, and Admin Portal links.
 *
 * Every call to WorkOS goes through {@link callWorkOS}, so that no SDK exception (HTTP error,
 * network failure, malformed answer, timeout) ever reaches the user as a 500 or a stack trace.
 */
import { WorkOS } from '@workos-inc/node'
import { IdpError, IdpUnavailableError, InvalidArgumentError, InvalidGrantError, isSsoError, NotSupportedError, type SsoError } from '../errors.ts'
import { optionError } from '../option-checks.ts'
import { idpCall, idpRequestTimeoutMs } from './kit/idp-call.ts'
import type { IdpTarget } from './kit/idp-trace.ts'
import type { AdminPortalRequest } from './provider.ts'

/** How long WorkOS lookups (organizations by domain, an organization's domains) are cached. */
export const workosCacheMs = 5 * 60_000

/**
 * The credentials both WorkOS providers take.
 *
 * @example
 * ```ts
 * // Production: the API key and client id from the WorkOS dashboard.
 * const production: WorkOSCredentials = { apiKey: process.env.WORKOS_API_KEY!, clientId: process.env.WORKOS_CLIENT_ID! }
 * // Tests or a private API host: your own SDK instance.
 * const local: WorkOSCredentials = { client: new WorkOS('sk_test_…', { apiHostname: '127.0.0.1', port: 8080, https: false }), clientId: 'client_…' }
 * ```
 */
export interface WorkOSCredentials {
  /** Your WorkOS API key (`sk_…`). Either this or `client`. */
  apiKey?: string
  /**
   * An SDK instance (`new WorkOS(apiKey, { apiHostname, https, port })`), for tests and private
   * API hosts. It must have been created with an API key. Either this or `apiKey`.
   */
  client?: WorkOS
  /** Your WorkOS client id (`client_…`), from the dashboard's API keys page. */
  clientId: string
}

/** The SDK members each provider calls: checked at register so that a wrong `client` fails early. */
const requiredMembers = {
  sso: ['sso.getAuthorizationUrl', 'sso.getProfileAndToken', 'organizations.listOrganizations', 'organizations.getOrganization'],
  userManagement: ['userManagement.getAuthorizationUrl', 'userManagement.authenticateWithCode', 'userManagement.authenticateWithRefreshToken', 'userManagement.getLogoutUrl']
} as const

/**
 * Validates `apiKey | client` and `clientId`, and returns the SDK client to use. A client we
 * create ourselves gets the 10 s timeout per request and a single retry (the SDK retries
 * network errors, 408, 429 and 5xx with an idempotency key, so a retried exchange is safe).
 */
export function workosClient (factory: string, options: WorkOSCredentials, uses: keyof typeof requiredMembers): { client: WorkOS, clientId: string } {
  const { apiKey, client, clientId } = options
  if (typeof clientId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(clientId)) {
    throw optionError(`${factory}.clientId`, 'is required: your WorkOS client id (client_…), from the dashboard\'s API keys page.')
  }
  if (clientId.startsWith('sk_')) {
    throw optionError(`${factory}.clientId`, 'looks like an API key (sk_…). The client id (client_…) travels in login URLs; the API key must never do so. Pass the key as apiKey.')
  }
  if (apiKey !== undefined && client !== undefined) {
    throw optionError(factory, 'takes either apiKey or client, not both (the client already carries its API key).')
  }
  if (client !== undefined) {
    const missing = requiredMembers[uses].find(path => typeof memberAt(client, path) !== 'function')
    if (missing) throw optionError(`${factory}.client`, `must be a WorkOS SDK instance (new WorkOS(apiKey, { … })); it has no ${missing}().`)
    if (!(client as unknown as { key?: unknown }).key) {
      throw optionError(`${factory}.client`, 'must be created with an API key: new WorkOS(apiKey, { … }). The code exchange and organization lookups need it.')
    }
    return { client, clientId }
  }
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    throw optionError(`${factory}.apiKey`, 'is required (or pass client): your WorkOS API key (sk_…), e.g. process.env.WORKOS_API_KEY.')
  }
  if (!apiKey.startsWith('sk_') || /\s/.test(apiKey)) {
    throw optionError(`${factory}.apiKey`, 'must be a WorkOS API key, which starts with sk_ (is the client id in its place?).')
  }
  return { client: new WorkOS(apiKey, { clientId, timeout: idpRequestTimeoutMs, maxRetries: 1 }), clientId }
}

function memberAt (root: unknown, path: string): unknown {
  let value: unknown = root
  for (const part of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined
  return typeof value === 'function' ? value : undefined
}

/** Validates a WorkOS object id such as `org_01H…` or `conn_01H…`. */
export function isWorkOSId (value: unknown, prefix: string): value is string {
  return typeof value === 'string' && value.length <= 128 && value.startsWith(`${prefix}_`) && /^[A-Za-z0-9_]+$/.test(value)
}

/**
 * Runs one WorkOS API call with the 10 s deadline, traced (`fastify-sso:idp`, operation `step`),
 * and turns whatever it throws into a coded error. `step` names the call in messages, logs and
 * traces ("code exchange", "organization lookup"…).
 */
export function callWorkOS<T> (target: IdpTarget, step: string, call: () => Promise<T> | T): Promise<T> {
  // The SDK's own timeout covers one request; this deadline also covers its retries and a
  // client passed in by the application with other settings.
  return idpCall({ ...target, operation: step }, call, err => mapWorkOSError(err, step))
}

/**
 * A URL the SDK builds locally (authorization, logout): no request, so no deadline and no trace;
 * whatever the SDK throws becomes a coded error.
 */
export async function workosUrl (step: string, build: () => string | Promise<string>): Promise<URL> {
  try {
    return new URL(await build())
  } catch (err) {
    throw mapWorkOSError(err, step)
  }
}

/** The SDK's Admin Portal API (`generateLink`). */
interface PortalApi {
  generateLink(options: { organization: string, intent: string, returnUrl?: string }): Promise<{ link?: unknown }>
}

/**
 * A WorkOS Admin Portal link (`portal.generateLink`) for one organization, valid five minutes.
 * Shared by both WorkOS providers.
 */
export async function workosAdminPortalLink (client: WorkOS, target: IdpTarget, request: AdminPortalRequest): Promise<string> {
  const { organizationId, intent, returnUrl } = request
  if (!isWorkOSId(organizationId, 'org')) {
    throw InvalidArgumentError(`app.sso.adminPortalLink() needs a WorkOS organization id such as org_01H… (got ${JSON.stringify(organizationId).slice(0, 80)}).`)
  }
  // `adminPortal` since SDK 11; `portal` in the SDKs before it (an application may pass its own client).
  const sdk = client as unknown as Record<'adminPortal' | 'portal', PortalApi | undefined>
  const portal = sdk.adminPortal ?? sdk.portal
  if (typeof portal?.generateLink !== 'function') throw NotSupportedError('This WorkOS client has no adminPortal.generateLink(): upgrade @workos-inc/node.')
  const answer = await callWorkOS(target, 'admin portal link', async () => {
    try {
      return await portal.generateLink({ organization: organizationId, intent, ...(returnUrl ? { returnUrl } : {}) })
    } catch (err) {
      // The application passed an organization WorkOS does not know: its mistake, not WorkOS's.
      if ((err as { status?: unknown })?.status === 404) throw InvalidArgumentError(`WorkOS has no organization ${organizationId}: pass the WorkOS id of the user's organization (user.organizationId).`)
      throw err
    }
  })
  const link = URL.parse(typeof answer?.link === 'string' ? answer.link : '')
  if (!link || (link.protocol !== 'https:' && link.protocol !== 'http:')) throw IdpUnavailableError('WorkOS answered the admin portal link request without a link.')
  return link.href
}

/** Error codes in a WorkOS 4xx answer that mean "this code or token is spent or invalid". */
const grantErrors = new Set(['invalid_grant', 'expired_code', 'invalid_code', 'invalid_code_verifier', 'invalid_refresh_token'])

/**
 * An SDK exception mapped to our coded errors. The SDK's exception classes are recognised by
 * their shape (`status`, `error`, `code`, `name`), not by `instanceof`: an application may pass a
 * client built by another copy of the SDK (CommonJS and ESM builds are distinct classes).
 */
export function mapWorkOSError (err: unknown, step: string): SsoError {
  if (isSsoError(err)) return err
  // The SDK wraps transport failures (network, unparsable error bodies): `Unexpected error: …` with a cause.
  const cause = (err as { cause?: unknown })?.cause
  const inner = err instanceof Error && err.message.startsWith('Unexpected error') && cause instanceof Error ? cause : err
  const shape = (typeof inner === 'object' && inner !== null ? inner : {}) as { name?: unknown, status?: unknown, rawStatus?: unknown, error?: unknown, code?: unknown }
  if (shape.name === 'ParseError') {
    const raw = typeof shape.rawStatus === 'number' ? shape.rawStatus : 0
    return IdpUnavailableError(raw >= 500
      ? `WorkOS failed the ${step} (HTTP ${raw}). Please try again.`
      : `WorkOS answered the ${step} with something that is not JSON.`)
  }
  if (inner instanceof TypeError && /fetch failed/i.test(inner.message)) return IdpUnavailableError(`WorkOS could not be reached for the ${step}.`)
  const status = typeof shape.status === 'number' ? shape.status : undefined
  const code = safeCode(shape.error) ?? safeCode(shape.code)
  if (status === 408) return IdpUnavailableError(`WorkOS did not answer the ${step} within 10 seconds. Please try again.`)
  if (status === 429) return IdpUnavailableError(`WorkOS is rate-limiting the ${step}. Please try again in a moment.`)
  if (status !== undefined && status >= 500) return IdpUnavailableError(`WorkOS failed the ${step} (HTTP ${status}). Please try again.`)
  if (status !== undefined && status >= 400) {
    // MFA, email verification, organization selection…: steps the hosted page handles; start again.
    if (shape.name === 'AuthenticationException') return IdpError(`WorkOS needs another sign-in step (${code ?? 'unknown'}). Please sign in again.`)
    if (code !== undefined && grantErrors.has(code)) {
      return InvalidGrantError(`WorkOS rejected the ${step} (${code}): the login code or token has expired or was already used. Please sign in again.`)
    }
    if (status === 401 || status === 403) return IdpUnavailableError(`WorkOS refused this application's credentials for the ${step} (HTTP ${status}): check apiKey and clientId.`)
    // invalid_client, unauthorized_client, a redirect URI not registered…: configuration, not the user.
    return IdpUnavailableError(`WorkOS refused the ${step} (HTTP ${status}${code ? ` ${code}` : ''}): check apiKey, clientId and the redirect URI in the WorkOS dashboard.`)
  }
  // Anything else (a malformed answer the SDK could not deserialise…): WorkOS's answer is unusable.
  return IdpUnavailableError(`The ${step} with WorkOS failed: its answer could not be used.`)
}

/** An error code from WorkOS, only when it looks like one (it ends up in messages and logs). */
function safeCode (value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z0-9_.-]{1,64}$/i.test(value) ? value : undefined
}

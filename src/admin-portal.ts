/**
 * `app.sso.adminPortalLink()`: the arguments checked once here, the link made by the provider
 * (only the WorkOS providers have an Admin Portal).
 */
import type { AdminPortalLinkOptions, SsoCore } from './core.ts'
import { InvalidArgumentError, NotSupportedError } from './errors.ts'
import { safeReturnTo } from './return-to.ts'
import type { AdminPortalIntent } from './providers/provider.ts'

/** The portal intents fastify-sso offers (what an organization's IT admin sets up there). */
export const adminPortalIntents: readonly AdminPortalIntent[] = ['sso', 'dsync', 'domain_verification', 'audit_logs', 'log_streams']

/**
 * A WorkOS Admin Portal link for `organizationId`.
 * @throws FST_SSO_NOT_SUPPORTED without a WorkOS provider; FST_SSO_INVALID_ARGUMENT for wrong arguments.
 */
export async function adminPortalLink (core: SsoCore, options: AdminPortalLinkOptions): Promise<string> {
  const provider = core.provider
  if (typeof provider.adminPortalLink !== 'function') {
    throw NotSupportedError(`app.sso.adminPortalLink() needs a WorkOS provider (workosSso or workosAuthKit); this app signs in with ${provider.name}.`)
  }
  const { organizationId, intent, returnUrl } = (options ?? {}) as Partial<AdminPortalLinkOptions>
  if (typeof organizationId !== 'string' || organizationId.length === 0) {
    throw InvalidArgumentError('app.sso.adminPortalLink() needs the organizationId of the organization to administer, e.g. { organizationId: request.user.organizationId, intent: \'sso\' }.')
  }
  if (!adminPortalIntents.includes(intent as AdminPortalIntent)) {
    throw InvalidArgumentError(`app.sso.adminPortalLink() needs an intent: one of ${adminPortalIntents.join(', ')} (got ${JSON.stringify(intent)}).`)
  }
  let absoluteReturnUrl: string | undefined
  if (returnUrl !== undefined) {
    // The portal sends the admin there: only this app's own pages, like every other redirect.
    const safe = safeReturnTo(sameOriginPath(returnUrl, core.options.baseUrl), core.options.baseUrl, '')
    if (!safe) throw InvalidArgumentError(`app.sso.adminPortalLink(): returnUrl must be a path or URL of this app (${core.options.baseUrl.origin}), such as /settings.`)
    absoluteReturnUrl = new URL(safe, core.options.baseUrl).href
  }
  return provider.adminPortalLink({ organizationId, intent: intent as AdminPortalIntent, ...(absoluteReturnUrl ? { returnUrl: absoluteReturnUrl } : {}) })
}

/** An absolute URL on the app's origin as its path (other values as they are, for safeReturnTo to judge). */
function sameOriginPath (value: unknown, baseUrl: URL): unknown {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return value
  const url = URL.parse(value)
  return url?.origin === baseUrl.origin ? url.pathname + url.search + url.hash : undefined
}

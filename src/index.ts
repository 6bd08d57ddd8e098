import './types.ts'
/**
 * fastify-sso: enterprise Single Sign-On for Fastify.
 *
 * @example
 * ```ts
 * import ssoPlugin, { oidcProvider, requireUser } from 'fastify-sso'
 * ```
 */
export { default, fastifySso } from './plugin.ts'
export { requireUser, type RequireUserOptions, type RequireUserHook } from './guard.ts'
export { oidcProvider, type OidcProviderOptions } from './providers/oidc.ts'
export { clientJwks, type ClientPrivateKey } from './providers/oidc-client-auth.ts'
export { workosSso, type WorkOSSsoOptions, type WorkOSDomainRoute, type WorkOSDomainRouter } from './providers/workos-sso.ts'
export { workosAuthKit, type WorkOSAuthKitOptions } from './providers/workos-authkit.ts'
export type { WorkOSCredentials } from './providers/workos-shared.ts'
export { jwtProvider, type JwtProviderOptions, type JwtClaimNames } from './providers/jwt.ts'
export { samlProvider, type SamlProviderOptions, type SamlSpOptions, type SamlIdpOptions, type SamlAttributeNames } from './providers/saml.ts'
export { connections, type ConnectionsOptions, type SsoConnection, type ConnectionLookup } from './providers/connections.ts'
export { memoryStore, type MemoryStoreOptions } from './store/memory.ts'
export { redisStore, type RedisStoreOptions, type RedisStoreClient } from './store/redis.ts'
export { directorySync, type DirectorySyncOptions } from './directory-sync/plugin.ts'
export type { DirectorySyncEvent, UnknownDirectoryEvent } from './directory-sync/events.ts'
export { signWebhook } from './directory-sync/signature.ts'
export { scim, type ScimOptions } from './scim/plugin.ts'
export { memoryScimRepository, type ScimRepository, type ScimRecord, type ScimListQuery, type ScimWriteResult } from './scim/repository.ts'
export { scimTokenVerifier, hashScimToken, createScimToken, type ScimTenant } from './scim/tokens.ts'
export { matchesScimFilter, parseScimFilter, filterableAttributes, caseExactAttributes, type ScimFilter, type ScimFilterAttribute } from './scim/filter.ts'
export type { ScimEvent } from './scim/events.ts'
export { safeReturnTo } from './return-to.ts'
export * from './errors.ts'
export type { SsoPluginOptions, SessionOptions, OnLoginResult } from './options.ts'
export type { SsoUser } from './user.ts'
export type { SsoStore } from './store/store.ts'
export type { RevokeFilter } from './revocation.ts'
export type { SsoDecorator, AdminPortalLinkOptions } from './core.ts'
export { auditEventTypes, type AuditEvent, type AuditEventType, type AuditListener, type RevocationSource } from './audit.ts'
export { idpTraceChannelName, type IdpCallContext } from './providers/kit/idp-trace.ts'
export type {
  SsoProvider, ProviderInstance, ProviderContext, LoginTransaction, LoginRequest, CallbackRequest,
  ProviderSession, SignIn, RestartLogin, Refreshed, AdminPortalIntent, AdminPortalRequest, BackchannelRequest
} from './providers/provider.ts'
export type { RawUser } from './user.ts'

/**
 * Every error fastify-sso raises, each with a stable `FST_SSO_*` code and its HTTP status.
 *
 * The codes are part of the public contract: they appear in JSON error bodies, in the
 * `?error=` parameter of `errorRedirect`, in logs, and in the README's error table.
 * A code never changes meaning; new situations get new codes.
 *
 * @example
 * ```ts
 * import { LoginDeniedError } from 'fastify-sso'
 * // In onLogin: refuse with a message the user sees (other errors show a generic one).
 * onLogin: (user) => { if (!user.email.endsWith('@acme.com')) throw LoginDeniedError('Only Acme accounts may sign in.') }
 * // In an error handler or a test: compare codes.
 * if (err.code === 'FST_SSO_IDP_UNAVAILABLE') retryLater()
 * ```
 */
import createError from '@fastify/error'

// Every constructor takes one argument: the full, human-readable message (what happened and
// what to do). The default text is used when none is given.
function code<C extends string, S extends number> (name: C, status: S, fallback: string) {
  const Ctor = createError<C, S, [string?]>(name, '%s', status)
  const make = (message: string = fallback) => new Ctor(message)
  return Object.assign(make, { code: name, statusCode: status })
}

/** A coded error raised by fastify-sso (an `@fastify/error` instance). */
export type SsoError = Error & { code: SsoErrorCode, statusCode: number }

// ── Configuration (thrown at register / ready) ──────────────────────────────────────────────

/** An option is missing or wrong; the message names the option and how to fix it. */
export const InvalidOptionError = code('FST_SSO_INVALID_OPTION', 500, 'Invalid fastify-sso option')
/** The request decorator (default `user`) is already taken by another plugin. */
export const DecoratorConflictError = code('FST_SSO_DECORATOR_CONFLICT', 500, 'The request decorator is already in use')
/** Application code called an `app.sso` method wrongly (e.g. `app.sso.revoke({})` names nobody). */
export const InvalidArgumentError = code('FST_SSO_INVALID_ARGUMENT', 500, 'Invalid argument to a fastify-sso method')
/** The configured provider cannot do what was asked (e.g. `app.sso.adminPortalLink()` without a WorkOS provider). */
export const NotSupportedError = code('FST_SSO_NOT_SUPPORTED', 501, 'The configured identity provider does not support this operation')
/** `startDevIdp()` refuses to run with NODE_ENV=production. */
export const DevIdpInProductionError = code('FST_SSO_DEV_IDP_IN_PRODUCTION', 500, 'The development IdP must not run in production')
/** An optional package a feature needs is not installed (ioredis for `redisStore({ url })`, oidc-provider for `startDevIdp()`); the message gives the install command. */
export const MissingDependencyError = code('FST_SSO_MISSING_DEPENDENCY', 500, 'An optional package fastify-sso needs is not installed')

// ── Any auth route ──────────────────────────────────────────────────────────────────────────

/** A request to an auth route that Fastify could not read (invalid Content-Length, a malformed body…). */
export const BadRequestError = code('FST_SSO_BAD_REQUEST', 400, 'The request is malformed')
/** A body posted to an auth route is larger than its limit (64 KiB). */
export const BodyTooLargeError = code('FST_SSO_BODY_TOO_LARGE', 413, 'The request body is too large')
/** An unexpected error (a bug in fastify-sso or in the app's own hooks); details are in the log, under the request id. */
export const InternalError = code('FST_SSO_INTERNAL', 500, 'An unexpected error occurred.')

// ── Login transaction (/login and /callback) ────────────────────────────────────────────────

/** The callback arrived without the transaction cookie set by /login. */
export const TransactionMissingError = code('FST_SSO_TRANSACTION_MISSING', 400, 'The login transaction cookie is missing')
/** The callback's `state` matches no pending login of this browser. */
export const StateMismatchError = code('FST_SSO_STATE_MISMATCH', 400, 'The login state does not match')
/** The login took longer than the transaction lifetime (10 minutes). */
export const TransactionExpiredError = code('FST_SSO_TRANSACTION_EXPIRED', 400, 'The login expired; please sign in again')
/** The transaction was already used by an earlier callback (replay, double submit, back button). */
export const TransactionReplayedError = code('FST_SSO_TRANSACTION_REPLAYED', 400, 'This login was already completed; please sign in again')
/** The callback request is malformed (no `code`, repeated parameters, wrong method…). */
export const InvalidCallbackError = code('FST_SSO_INVALID_CALLBACK', 400, 'The login callback is malformed')
/** The login request itself is not acceptable (routing parameter conflicts with the configuration…). */
export const InvalidLoginRequestError = code('FST_SSO_INVALID_LOGIN_REQUEST', 400, 'The login request is not valid')
/** The provider needs an email, domain, organization or connection to know where to send the user. */
export const RoutingRequiredError = code('FST_SSO_ROUTING_REQUIRED', 400, 'Enter your work email or organization to sign in')
/** No organization or connection is configured for this email domain. */
export const UnknownDomainError = code('FST_SSO_UNKNOWN_DOMAIN', 400, 'Single sign-on is not set up for this email domain')

// ── Connections (many IdPs in one registration) ─────────────────────────────────────────────

/** `connections()`: no connection has this organization or connection id. */
export const UnknownConnectionError = code('FST_SSO_UNKNOWN_CONNECTION', 400, 'Single sign-on is not set up for this organization')
/** `connections()`: the connection exists but is switched off (`enabled: false`). */
export const ConnectionDisabledError = code('FST_SSO_CONNECTION_DISABLED', 403, 'Single sign-on is switched off for this organization')
/** `connections()`: the app's `resolve` threw or took longer than 10 s. */
export const ConnectionLookupError = code('FST_SSO_CONNECTION_LOOKUP_FAILED', 503, 'The single sign-on settings could not be read; please try again')
/** `connections()`: `resolve` returned a connection with a missing or wrong field (the message names it). */
export const ConnectionInvalidError = code('FST_SSO_CONNECTION_INVALID', 500, 'The single sign-on connection is misconfigured')
/** `connections()`: the callback names another connection than the one its login was started for. */
export const ConnectionMismatchError = code('FST_SSO_CONNECTION_MISMATCH', 401, 'This answer belongs to another sign-in connection')
/** `connections()`: the IdP asserted an email outside the connection's domains (and guests are not allowed). */
export const EmailDomainNotAllowedError = code('FST_SSO_EMAIL_DOMAIN_NOT_ALLOWED', 403, 'Your email address does not belong to this organization')
/** `{prefix}/saml/metadata?connection=<id>` for a connection whose provider has no SAML metadata. */
export const SamlMetadataNotFoundError = code('FST_SSO_SAML_METADATA_NOT_FOUND', 404, 'This connection has no SAML metadata')

// ── Identity provider outcomes ──────────────────────────────────────────────────────────────

/** The identity provider answered the callback with `error=` (cancelled, denied, misconfigured). */
export const IdpError = code('FST_SSO_IDP_ERROR', 400, 'The identity provider reported an error')
/** The authorization code was rejected by the IdP (expired, already used): start a fresh login. */
export const InvalidGrantError = code('FST_SSO_INVALID_GRANT', 400, 'The identity provider rejected the login code; please sign in again')
/** The ID token or profile failed verification (signature, algorithm, issuer, audience, nonce, expiry, claims). */
export const TokenRejectedError = code('FST_SSO_TOKEN_REJECTED', 401, 'The identity token was rejected')
/** The identity provider could not be reached, failed, answered something malformed, or took longer than 10 s. */
export const IdpUnavailableError = code('FST_SSO_IDP_UNAVAILABLE', 502, 'The identity provider is unavailable; please try again')

// ── Authorization ───────────────────────────────────────────────────────────────────────────

/** `onLogin` denied the user (returned `false` or threw). */
export const LoginDeniedError = code('FST_SSO_LOGIN_DENIED', 403, 'You are not allowed to sign in to this application')
/** The user signed in through a different organization than the one the login asked for. */
export const OrganizationMismatchError = code('FST_SSO_ORGANIZATION_MISMATCH', 403, 'You signed in with a different organization than requested')
/** `requireUser()` found no signed-in user. */
export const UnauthorizedError = code('FST_SSO_UNAUTHORIZED', 401, 'Sign in to continue')
/** `requireUser()` found a user who fails the organization, role or custom check. */
export const ForbiddenError = code('FST_SSO_FORBIDDEN', 403, 'You do not have access to this page')
/** `requireUser({ maxAge, acr })` on an API call: the session's sign-in is too old or not strong enough (the message names the requirement). */
export const StepUpRequiredError = code('FST_SSO_STEP_UP_REQUIRED', 401, 'Sign in again to continue')
/** A step-up login came back without what it asked for: `auth_time` too old or missing, `acr` missing or not one of the required. */
export const StepUpFailedError = code('FST_SSO_STEP_UP_FAILED', 403, 'The identity provider did not confirm the sign-in this page requires')

// ── Session and logout ──────────────────────────────────────────────────────────────────────

/** The session would not fit in a cookie (browsers silently drop cookies over 4,096 bytes). */
export const SessionTooLargeError = code('FST_SSO_SESSION_TOO_LARGE', 500, 'The session is too large for a cookie')
/** The identity provider sent a profile too large to keep in a session cookie. */
export const ProfileTooLargeError = code('FST_SSO_PROFILE_TOO_LARGE', 502, 'The identity provider sent a profile too large for a session cookie')
/** `app.sso.accessToken()`: the session holds no usable access token (signed in without one, its state lost, or expired with no refresh token). */
export const NoAccessTokenError = code('FST_SSO_NO_ACCESS_TOKEN', 401, 'No access token is available for this session; please sign in again')
/** `app.sso.accessToken()`: the IdP refused to renew the tokens (refresh token revoked, expired or reused); the session has been ended. */
export const RefreshRefusedError = code('FST_SSO_REFRESH_REFUSED', 401, 'The identity provider ended this session; please sign in again')
/** A cross-site request tried to log the user out. */
export const CrossSiteRequestError = code('FST_SSO_CROSS_SITE_REQUEST', 403, 'Cross-site requests are not allowed here')
/** `GET /logout` (logout must be a POST so that links and images cannot sign users out). */
export const MethodNotAllowedError = code('FST_SSO_METHOD_NOT_ALLOWED', 405, 'Use POST to log out')

// ── Shared state ────────────────────────────────────────────────────────────────────────────

/** The shared store (Redis…) failed or timed out and the plugin is configured to fail closed. */
export const StoreUnavailableError = code('FST_SSO_STORE_UNAVAILABLE', 503, 'The session store is unavailable; please try again')

// ── Webhooks (directory sync, back-channel logout) ──────────────────────────────────────────

/** The `WorkOS-Signature` header is missing, malformed, stale, or does not match the body. */
export const WebhookSignatureError = code('FST_SSO_WEBHOOK_SIGNATURE_INVALID', 401, 'The webhook signature is invalid')
/** The webhook body is not a JSON event, although its signature is valid. */
export const WebhookBodyError = code('FST_SSO_WEBHOOK_BODY_INVALID', 400, 'The webhook body is not a valid event')
/** The webhook body is larger than the route's limit (1 MiB by default). */
export const WebhookTooLargeError = code('FST_SSO_WEBHOOK_TOO_LARGE', 413, 'The webhook body is too large')
/** The same event id is being handled by another delivery right now; retry later. */
export const WebhookInProgressError = code('FST_SSO_WEBHOOK_IN_PROGRESS', 409, 'This event is already being processed')
/** `onEvent` threw: answered 500 so that WorkOS delivers the event again. */
export const WebhookHandlerError = code('FST_SSO_WEBHOOK_HANDLER_FAILED', 500, 'The event handler failed; the event will be retried')
/** An OpenID Connect back-channel `logout_token` failed validation. */
export const BackchannelLogoutError = code('FST_SSO_BACKCHANNEL_LOGOUT_INVALID', 400, 'The logout token is invalid')

/** Any value that carries a status code and an `FST_SSO_*` code. */
export function isSsoError (err: unknown): err is SsoError {
  return err instanceof Error &&
    typeof (err as SsoError).code === 'string' &&
    (err as SsoError).code.startsWith('FST_SSO_') &&
    typeof (err as SsoError).statusCode === 'number'
}

/** Every error constructor, in the order the README's table lists them. */
const allErrors = [
  InvalidOptionError, DecoratorConflictError, InvalidArgumentError, NotSupportedError, DevIdpInProductionError, MissingDependencyError,
  BadRequestError, BodyTooLargeError, InternalError,
  TransactionMissingError, StateMismatchError, TransactionExpiredError, TransactionReplayedError,
  InvalidCallbackError, InvalidLoginRequestError, RoutingRequiredError, UnknownDomainError,
  UnknownConnectionError, ConnectionDisabledError, ConnectionLookupError, ConnectionInvalidError, ConnectionMismatchError,
  EmailDomainNotAllowedError, SamlMetadataNotFoundError,
  IdpError, InvalidGrantError, TokenRejectedError, IdpUnavailableError,
  LoginDeniedError, OrganizationMismatchError, UnauthorizedError, ForbiddenError, StepUpRequiredError, StepUpFailedError,
  SessionTooLargeError, ProfileTooLargeError, NoAccessTokenError, RefreshRefusedError, CrossSiteRequestError, MethodNotAllowedError,
  StoreUnavailableError,
  WebhookSignatureError, WebhookBodyError, WebhookTooLargeError, WebhookInProgressError, WebhookHandlerError,
  BackchannelLogoutError
] as const

/**
 * Every `FST_SSO_*` code, as a union type: `switch` on `err.code` and TypeScript checks the cases.
 *
 * @example
 * ```ts
 * import { isSsoError, type SsoErrorCode } from 'fastify-sso'
 * function advice (code: SsoErrorCode): string {
 *   switch (code) {
 *     case 'FST_SSO_IDP_UNAVAILABLE': return 'Your identity provider is down; try again shortly.'
 *     case 'FST_SSO_UNKNOWN_DOMAIN': return 'Single sign-on is not set up for your email domain.'
 *     default: return 'Sign-in failed.'
 *   }
 * }
 * if (isSsoError(err)) console.log(advice(err.code))
 * ```
 */
export type SsoErrorCode = typeof allErrors[number]['code']

/** Every code this module defines with its HTTP status, for the README check and for users who switch on codes. */
export const errorCodes: ReadonlyArray<{ code: SsoErrorCode, statusCode: number }> = allErrors.map(e => ({ code: e.code, statusCode: e.statusCode }))

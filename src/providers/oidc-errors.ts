/**
 * openid-client's exceptions mapped to our coded errors, by what they mean for the user:
 * the IdP is down or broken (502), the token is untrustworthy (401), the code is spent (400).
 */
import * as client from 'openid-client'
import { IdpError, IdpUnavailableError, InvalidGrantError, isSsoError, RefreshRefusedError, StepUpFailedError, TokenRejectedError, type SsoError } from '../errors.ts'

/** The `step` name of the code exchange (the token endpoint), as `mapOidcError` callers pass it. */
export const tokenStep = 'code exchange'
/** The steps at endpoints where the client authenticates (a 401 there is about the client, not the user). */
const clientAuthenticatedSteps = new Set([tokenStep, 'pushed authorization request', 'token refresh', 'token revocation'])

/** Transport and protocol-shape failures: the IdP, not the user or the token, is at fault. */
const unavailableCodes = new Set([
  'OAUTH_RESPONSE_IS_NOT_CONFORM', // unexpected HTTP status
  'OAUTH_RESPONSE_IS_NOT_JSON',
  'OAUTH_PARSE_ERROR',
  'OAUTH_HTTP_REQUEST_FORBIDDEN',
  'OAUTH_REQUEST_PROTOCOL_FORBIDDEN',
  'OAUTH_MISSING_SERVER_METADATA',
  'OAUTH_INVALID_SERVER_METADATA',
  'OAUTH_WWW_AUTHENTICATE_CHALLENGE'
])

/**
 * fetch() rejects with a DOMException named TimeoutError (AbortError when aborted), and
 * openid-client wraps that in a ClientError coded OAUTH_TIMEOUT / OAUTH_ABORT: a slow IdP, which
 * must not fall through to the OAUTH_* "rejected token" branch below.
 */
/** Verification failures: the answer arrived, but it cannot be trusted. Any other code is a 502. */
const rejectedCodes = new Set([
  'OAUTH_INVALID_RESPONSE', // signature, alg, malformed JWT, RFC 9207 iss (the malformed-response case is filtered above)
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', // exp, iat, nbf, auth_time
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED', // iss, aud, azp, nonce, hashes
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', // user-info sub, response iss
  'OAUTH_KEY_SELECTION_FAILED', // no JWKS key for the token's kid/alg
  'OAUTH_UNSUPPORTED_OPERATION' // an algorithm we do not accept
])

function isTimeout (err: unknown): boolean {
  const { name, code, cause } = (err ?? {}) as { name?: unknown, code?: unknown, cause?: { name?: unknown } }
  return name === 'TimeoutError' || name === 'AbortError' || code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT' ||
    cause?.name === 'TimeoutError' || cause?.name === 'AbortError'
}

/** The innermost cause's message, for logs (never contains tokens: openid-client redacts). */
function describe (err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause
  const message = err instanceof Error ? err.message : String(err)
  return cause instanceof Error && cause.message !== message ? `${message} (${cause.message})` : message
}

/**
 * Token endpoint answers about a spent or unknown code, by the names IdPs give them: the user's to
 * retry with a fresh login (400), not the IdP's fault. RFC 6749 says `invalid_grant`; some IdPs
 * (Glewlwyd) answer `invalid_code`.
 */
const spentCodeErrors = new Set(['invalid_grant', 'invalid_code'])

/**
 * The IdP refused the client's own credentials: a configuration error of this app, reported as
 * the IdP answer being unusable (502) with what to fix, never as a broken or forged answer.
 */
function clientRefused (status: number, error: string): SsoError {
  const fix = 'Check oidcProvider\'s clientId and clientSecret (or privateKey: its public key registered at the IdP, the assertion audience clientAssertionAudience) against the client registered at the IdP, and set tokenAuthMethod to the authentication method that registration names (\'client_secret_basic\', \'client_secret_post\' or \'private_key_jwt\').'
  if (error === 'unauthorized_client') {
    return IdpUnavailableError(`The identity provider refused this application's client (${status} unauthorized_client). ${fix} Also check that the client may use the authorization code grant.`)
  }
  return IdpUnavailableError(`The identity provider refused this application's client credentials (${status} ${error}). ${fix}`)
}

/**
 * Maps a failed refresh: the IdP refusing the refresh token (`invalid_grant`: revoked, expired,
 * reused) ends the session; anything else (IdP down, client misconfigured) leaves it.
 */
export function mapRefreshError (err: unknown): SsoError {
  if (err instanceof client.ResponseBodyError && spentCodeErrors.has(err.error)) {
    return RefreshRefusedError(`The identity provider refused to renew the tokens (${err.error}): the refresh token was revoked, has expired or was already used. Please sign in again.`)
  }
  return mapOidcError(err, 'token refresh')
}

/** Maps a failure during discovery, the code exchange or user-info to a coded error. */
export function mapOidcError (err: unknown, step: string): SsoError {
  if (isSsoError(err)) return err
  if (err instanceof client.ResponseBodyError) {
    if (spentCodeErrors.has(err.error)) {
      return InvalidGrantError('The identity provider rejected the login code (expired or already used). Please sign in again.')
    }
    if (err.error === 'invalid_client' || err.error === 'unauthorized_client') return clientRefused(err.status, err.error)
    return IdpUnavailableError(`The identity provider answered the ${step} with an error (${err.status} ${err.error}).`)
  }
  if (err instanceof client.WWWAuthenticateChallengeError && err.status === 401 && clientAuthenticatedSteps.has(step)) {
    // RFC 6749 §5.2: a 401 with a challenge from an endpoint the client authenticates at is how
    // `invalid_client` is answered to a client that authenticated with the Authorization header.
    return clientRefused(401, 'invalid_client')
  }
  if (err instanceof client.AuthorizationResponseError) {
    return IdpError(`The identity provider refused the sign-in (${err.error}).`)
  }
  if (isTimeout(err)) return IdpUnavailableError(`The identity provider did not answer the ${step} within 10 seconds.`)
  const code = (err as { code?: unknown })?.code
  if (typeof code === 'string' && unavailableCodes.has(code)) {
    return IdpUnavailableError(`The identity provider's ${step} answer is unusable: ${describe(err)}.`)
  }
  if (code === 'OAUTH_INVALID_RESPONSE' && !/JWT|ID Token|id_token|signature|claim|nonce|issuer|"iss"|state/i.test(describe(err))) {
    // A token response missing required members is a broken IdP answer, not a forged token.
    return IdpUnavailableError(`The identity provider's ${step} answer is malformed: ${describe(err)}.`)
  }
  if (/"auth_time"|authentication time|last End-User authentication/.test(describe(err))) {
    // Only asked for on a step-up login (max_age): the IdP did not sign the user in again.
    return StepUpFailedError(`The identity provider did not confirm a recent sign-in: ${describe(err)}.`)
  }
  if (typeof code === 'string' && rejectedCodes.has(code)) {
    // Claim, signature, algorithm, key selection, nonce, issuer checks: an untrustworthy token.
    return TokenRejectedError(`The identity token was rejected: ${describe(err)}.`)
  }
  if (err instanceof TypeError) {
    // fetch() rejects with a TypeError when the connection fails.
    return IdpUnavailableError(`The identity provider could not be reached for the ${step}: ${describe(err)}.`)
  }
  return IdpUnavailableError(`The ${step} with the identity provider failed: ${describe(err)}.`)
}

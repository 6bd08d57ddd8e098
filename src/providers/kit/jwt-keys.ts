/**
 * Verifying JWTs from identity providers: which algorithms go with which key, the clock
 * tolerance, one policy for fetching a remote key set, and what jose's failures mean for the user.
 * Shared by the OpenID Connect provider (back-channel logout tokens) and the JWT redirect provider.
 */
import { createRemoteJWKSet, customFetch, errors as joseErrors, type JWTVerifyGetKey } from 'jose'
import { IdpUnavailableError, isSsoError, TokenRejectedError, type SsoError } from '../../errors.ts'
import { idpRequestTimeoutMs } from './idp-call.ts'
import { tracedFetch, type IdpTarget } from './idp-trace.ts'

/** Signature algorithms that prove the IdP signed (a public key verifies): never `none`, never HMAC. */
export const asymmetricAlgorithms: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']
/** HMAC algorithms: only with a secret shared with the IdP, never with a public key (algorithm confusion). */
export const hmacAlgorithms: readonly string[] = ['HS256', 'HS384', 'HS512']
/** Clock difference accepted between the IdP and this server, in seconds, for every time claim. */
export const clockToleranceSeconds = 30

/** At most one key-set refetch per this many ms for unknown key ids (anyone can post a token). */
const unknownKidRefetchMs = 1000

/**
 * An IdP's JWKS, fetched on first use and cached. A token naming a key we have not seen makes us
 * fetch the set again at once (the IdP rotated its keys), but no more than once a second: tokens
 * reach us from browsers and from anyone who can post, so a stream of made-up key ids must not turn
 * into a stream of requests to the IdP. Every fetch times out after 10 seconds and is traced as a
 * `jwks` call of `target` (`fastify-sso:idp`).
 *
 * @example
 * ```ts
 * const keys = remoteKeySet(new URL('https://idp.example.com/.well-known/jwks.json'), idpTarget('jwt'))
 * await jwtVerify(token, keys, { algorithms: ['RS256'] })
 * ```
 */
export function remoteKeySet (url: URL, target: IdpTarget, now: () => number = Date.now): JWTVerifyGetKey {
  const jwks = createRemoteJWKSet(url, { timeoutDuration: idpRequestTimeoutMs, cooldownDuration: 30_000, [customFetch]: tracedFetch(target, 'jwks') })
  let lastForced = 0
  return async (header, token) => {
    try {
      return await jwks(header, token)
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || now() - lastForced < unknownKidRefetchMs) throw err
      lastForced = now()
      await jwks.reload()
      return jwks(header, token)
    }
  }
}

/**
 * jose's verification failures as coded errors: an untrustworthy token (401), or a key set that
 * cannot be fetched (502).
 */
export function joseFailure (err: unknown): SsoError {
  if (isSsoError(err)) return err
  if (err instanceof joseErrors.JWKSTimeout) return IdpUnavailableError('The identity provider\'s key set (jwksUri) did not answer within 10 seconds.')
  if (err instanceof joseErrors.JWKSNoMatchingKey) return TokenRejectedError('The token is signed with a key the identity provider does not publish.')
  if (err instanceof joseErrors.JWKSInvalid || (err instanceof joseErrors.JOSEError && /JSON Web Key Set/.test(err.message))) {
    return IdpUnavailableError('The identity provider\'s key set (jwksUri) is unavailable or not a valid JWKS.')
  }
  if (err instanceof joseErrors.JOSEError) {
    if (err instanceof joseErrors.JWTExpired) return TokenRejectedError('The token has expired (or is older than maxAge).')
    if (err instanceof joseErrors.JWTClaimValidationFailed) return TokenRejectedError(`The token's ${err.claim} claim is not acceptable (${err.reason}).`)
    if (err instanceof joseErrors.JOSEAlgNotAllowed) return TokenRejectedError('The token is signed with an algorithm this application does not accept.')
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return TokenRejectedError('The token\'s signature is not valid.')
    return TokenRejectedError('The token is malformed or cannot be verified.')
  }
  // fetch() failing for the JWKS (connection refused, DNS…).
  if (err instanceof TypeError || (err as Error)?.name === 'AbortError' || (err as Error)?.name === 'TimeoutError') {
    return IdpUnavailableError('The identity provider\'s key set (jwksUri) could not be fetched.')
  }
  return TokenRejectedError('The token could not be verified.')
}

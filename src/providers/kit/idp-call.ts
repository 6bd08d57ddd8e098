/**
 * Calls to identity providers: the deadline every request to an IdP (discovery, metadata, JWKS,
 * token, user-info, WorkOS API) is held to, so a slow IdP is a 502, never a hanging request.
 */
import { withTimeout } from '../../timeout.ts'

/** Milliseconds any single request to an identity provider may take. */
export const idpRequestTimeoutMs = 10_000

/**
 * Runs one call to an IdP with a deadline (default {@link idpRequestTimeoutMs}), mapping whatever it
 * throws with `mapError` (to a coded error).
 *
 * @example
 * ```ts
 * const metadata = await idpCall(() => fetchMetadata(url), err => IdpUnavailableError(`metadata: ${err}`))
 * ```
 */
export async function idpCall<T> (call: () => Promise<T> | T, mapError: (err: unknown) => Error, timeoutMs = idpRequestTimeoutMs): Promise<T> {
  try {
    return await withTimeout(Promise.resolve().then(call), timeoutMs)
  } catch (err) {
    throw mapError(err)
  }
}

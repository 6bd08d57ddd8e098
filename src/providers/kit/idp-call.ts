/**
 * Calls to identity providers: the deadline every request to an IdP (discovery, metadata, JWKS,
 * token, user-info, WorkOS API) is held to, so a slow IdP is a 502, never a hanging request, and
 * the trace (`fastify-sso:idp`, see idp-trace.ts) each call runs in.
 */
import { withTimeout } from '../../timeout.ts'
import { traceIdp, type IdpCallContext } from './idp-trace.ts'

/** Milliseconds any single request to an identity provider may take. */
export const idpRequestTimeoutMs = 10_000

/**
 * Runs one call to an IdP, traced as `trace` (provider, connection, operation), with a deadline
 * (default {@link idpRequestTimeoutMs}), mapping whatever it throws with `mapError` (to a coded
 * error). The trace reports the mapped error, whose message is safe to record.
 *
 * @example
 * ```ts
 * const metadata = await idpCall({ provider: 'saml', connection: 'acme', operation: 'metadata' },
 *   () => fetchMetadata(url), err => IdpUnavailableError(`metadata: ${err}`))
 * ```
 */
export function idpCall<T> (trace: IdpCallContext, call: () => Promise<T> | T, mapError: (err: unknown) => Error, timeoutMs = idpRequestTimeoutMs): Promise<T> {
  return traceIdp(trace, async () => {
    try {
      return await withTimeout(Promise.resolve().then(call), timeoutMs)
    } catch (err) {
      throw mapError(err)
    }
  })
}

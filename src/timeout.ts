/**
 * A last line of defence against a provider call that never settles: whatever a provider does,
 * the browser gets an answer (502) instead of a hanging request.
 */
import { IdpUnavailableError } from './errors.ts'

/** How long any single provider step may take, end to end (its own requests time out at 10 s). */
export const providerStepTimeoutMs = 15_000

/** Resolves like `promise`, or rejects with FST_SSO_IDP_UNAVAILABLE after `ms`. */
export function withTimeout<T> (promise: Promise<T>, ms: number = providerStepTimeoutMs): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(IdpUnavailableError(`The identity provider did not answer within ${Math.round(ms / 1000)} seconds.`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

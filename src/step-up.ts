/**
 * Step-up re-authentication: what `requireUser({ maxAge, acr })` asks of a session's sign-in, how
 * the requirement travels to the IdP, and the one check applied to sessions by the guard and to new
 * sessions at the callback.
 *
 * The requirement travels as OIDC's own parameters: the guard sends the browser to
 * `/login?max_age=…&acr_values=…`, `/login` keeps them in the transaction's routing (encrypted in
 * the transaction cookie, so the callback can trust them), the provider passes them to the IdP, and
 * the callback refuses a new session that does not meet them. That last check is what prevents a
 * redirect loop whatever the provider or IdP did: a session that reaches the guard again meets the
 * requirement it was sent to get.
 *
 * What is checked is the provider session's `authTime` (epoch seconds, the ID token's `auth_time`)
 * and `acr`, kept in the cookie (a few dozen bytes).
 */
import { InvalidLoginRequestError } from './errors.ts'
import { optionError } from './option-checks.ts'
import { clockToleranceSeconds } from './providers/kit/jwt-keys.ts'
import type { ProviderSession } from './providers/provider.ts'

/** A step-up requirement: a sign-in at most `maxAge` seconds old, and/or with one of these `acr` values. */
export interface StepUp {
  maxAge?: number
  acr?: readonly string[]
}

/** An `acr` value: printable, no spaces (acr_values is space-separated). */
const acrValue = /^[\x21-\x7e]{1,255}$/
/** The largest max_age accepted from a login URL (ten years; anything larger is a mistake). */
const maxMaxAge = 10 * 365 * 86_400

/**
 * `requireUser`'s `maxAge` and `acr` options, checked; `undefined` when neither is given.
 *
 * @example
 * ```ts
 * stepUpOption('requireUser', { maxAge: 300, acr: ['mfa', 'phr'] }) // { maxAge: 300, acr: ['mfa', 'phr'] }
 * ```
 */
export function stepUpOption (option: string, value: { maxAge?: unknown, acr?: unknown }): StepUp | undefined {
  const { maxAge, acr } = value
  if (maxAge === undefined && acr === undefined) return undefined
  const stepUp: StepUp = {}
  if (maxAge !== undefined) {
    if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 1 || maxAge > maxMaxAge) {
      throw optionError(`${option}.maxAge`, `must be a whole number of seconds, at least 1: how long ago the user may have signed in at the IdP (got ${JSON.stringify(maxAge)}).`)
    }
    stepUp.maxAge = maxAge
  }
  if (acr !== undefined) {
    const values = Array.isArray(acr) ? acr : [acr]
    if (values.length === 0 || !values.every(item => typeof item === 'string' && acrValue.test(item))) {
      throw optionError(`${option}.acr`, `must be an acr value or a non-empty array of them, each without spaces, as the IdP names them (e.g. 'phr' or ['mfa', 'phr']) (got ${JSON.stringify(acr)}).`)
    }
    stepUp.acr = values as string[]
  }
  return stepUp
}

/**
 * What is wrong with a session's sign-in for `stepUp`, or `undefined` when it meets it. `now` in
 * epoch ms. `authTime` may lag by the clock tolerance allowed for every IdP time claim.
 *
 * @example
 * ```ts
 * unmetStepUp({ maxAge: 300 }, record.p, Date.now()) // 'a sign-in within the last 300 seconds' or undefined
 * ```
 */
export function unmetStepUp (stepUp: StepUp, session: ProviderSession | undefined, now: number): string | undefined {
  if (stepUp.maxAge !== undefined) {
    const authTime = session?.authTime
    if (typeof authTime !== 'number' || authTime + stepUp.maxAge + clockToleranceSeconds < now / 1000) {
      return `a sign-in within the last ${stepUp.maxAge} seconds`
    }
  }
  if (stepUp.acr !== undefined) {
    const acr = session?.acr
    if (typeof acr !== 'string' || !stepUp.acr.includes(acr)) return `a sign-in with ${stepUp.acr.length === 1 ? 'acr' : 'one of the acr values'} ${stepUp.acr.join(', ')}`
  }
  return undefined
}

/**
 * The login query parameters that ask for `stepUp` (`max_age`, `acr_values`), for a login URL.
 *
 * @example
 * ```ts
 * stepUpQuery({ maxAge: 300, acr: ['mfa'] }) // [['max_age', '300'], ['acr_values', 'mfa']]
 * ```
 */
export function stepUpQuery (stepUp: StepUp | undefined): Array<[string, string]> {
  const query: Array<[string, string]> = []
  if (stepUp?.maxAge !== undefined) query.push(['max_age', String(stepUp.maxAge)])
  if (stepUp?.acr !== undefined) query.push(['acr_values', stepUp.acr.join(' ')])
  return query
}

/**
 * `/login`'s `max_age` and `acr_values`, checked, as routing entries for the transaction.
 * Anyone may link to a step-up login: it can only ask the IdP for a fresher or stronger sign-in.
 * @throws FST_SSO_INVALID_LOGIN_REQUEST for malformed values.
 */
export function stepUpRouting (query: Readonly<Record<string, string>>): Record<string, string> {
  const routing: Record<string, string> = {}
  const { max_age: maxAge, acr_values: acrValues } = query
  if (maxAge !== undefined) {
    if (!/^\d{1,9}$/.test(maxAge) || Number(maxAge) > maxMaxAge) throw InvalidLoginRequestError('The login request\'s max_age must be a whole number of seconds.')
    routing.max_age = String(Number(maxAge))
  }
  if (acrValues !== undefined) {
    const values = acrValues.split(' ').filter(Boolean)
    if (values.length === 0 || values.length > 10 || !values.every(value => acrValue.test(value))) {
      throw InvalidLoginRequestError('The login request\'s acr_values must be up to ten space-separated values.')
    }
    routing.acr_values = values.join(' ')
  }
  return routing
}

/**
 * The step-up a login transaction asked for (from {@link stepUpRouting}), or `undefined`.
 *
 * @example
 * ```ts
 * stepUpOfRouting({ max_age: '300' }) // { maxAge: 300 }
 * ```
 */
export function stepUpOfRouting (routing: Readonly<Record<string, string>>): StepUp | undefined {
  const { max_age: maxAge, acr_values: acrValues } = routing
  if (maxAge === undefined && acrValues === undefined) return undefined
  return {
    ...(maxAge !== undefined ? { maxAge: Number(maxAge) } : {}),
    ...(acrValues !== undefined ? { acr: acrValues.split(' ') } : {})
  }
}

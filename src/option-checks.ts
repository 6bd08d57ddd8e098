/**
 * The checks every option of the plugin, its providers, its stores and its other plugins goes
 * through, written once. A leaf module: it imports only the error codes, so any module may use it.
 *
 * Every failure is `FST_SSO_INVALID_OPTION` with a message that names the option (`oidcProvider.issuer`)
 * and says how to fix it, thrown at `register`, so a wrong option fails `ready()`.
 */
import { InvalidOptionError, type SsoError } from './errors.ts'

/**
 * A problem with an option: names it and says how to fix it.
 *
 * @example
 * ```ts
 * throw optionError('oidcProvider.clientId', 'is required: the client id registered at the IdP.')
 * ```
 */
export function optionError (option: string, problem: string): SsoError {
  return InvalidOptionError(`fastify-sso: option \`${option}\` ${problem}`)
}

/** Rejects keys the plugin does not know (a typo must not silently disable a setting). */
export function rejectUnknownKeys (value: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw optionError(path ? `${path}.${key}` : key, `is not a known option. Known options: ${known.join(', ')}.`)
    }
  }
}

/**
 * An options object: an object, with no key outside `known`. `needs` completes "needs …" in the
 * message for anything else (`{ issuer, clientId }`).
 *
 * @example
 * ```ts
 * const options = optionsObject<RedisStoreOptions>('redisStore', input, ['url', 'client'], '{ url } or { client }')
 * ```
 */
export function optionsObject<T extends object> (option: string, value: unknown, known: readonly string[], needs: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw optionError(option, `must be an object: it needs ${needs}.`)
  rejectUnknownKeys(value, known, option)
  return value as T
}

/** Is this hostname the machine itself? (`http:` is allowed only there.) */
export function isLoopbackHost (hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '')
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host)
}

/**
 * An absolute http(s) URL; `http:` only on loopback hosts (cookies and tokens would otherwise
 * travel in clear text); no credentials in it.
 */
export function parseHttpUrl (option: string, value: unknown): URL {
  if (typeof value !== 'string' || value.length === 0) throw optionError(option, 'is required: an absolute https:// URL.')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw optionError(option, `must be an absolute URL such as https://app.example.com (got ${JSON.stringify(value)}).`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw optionError(option, `must use https:// (got ${url.protocol}).`)
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw optionError(option, `must use https:// outside localhost (got ${url.origin}): cookies and tokens would travel in clear text.`)
  }
  if (url.username || url.password) throw optionError(option, 'must not contain credentials.')
  return url
}

/** A positive whole number (`unit` names it in the message: seconds, bytes…); `fallback` when absent. */
export function positiveInteger (option: string, value: unknown, fallback: number, unit: string, advice = ''): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw optionError(option, `must be a positive whole number of ${unit}${advice} (got ${JSON.stringify(value)}).`)
  }
  return value
}

/** `true` or `false`; `fallback` when absent. */
export function booleanOption (option: string, value: unknown, fallback = false): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw optionError(option, `must be true or false (got ${JSON.stringify(value)}).`)
  return value
}

/** A function, or undefined when absent; `shape` shows its signature in the message. */
export function functionOption<F extends (...args: never[]) => unknown> (option: string, value: unknown, shape: string): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw optionError(option, `must be a function ${shape}.`)
  return value as F
}

/** One of a few allowed strings; `fallback` when absent. */
export function oneOf<T extends string> (option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const quoted = allowed.map(entry => `'${entry}'`)
    throw optionError(option, `must be ${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)} (got ${JSON.stringify(value)}).`)
  }
  return value as T
}

/** A non-empty string; `what` says what it is (`the client id registered at the IdP`). */
export function requiredString (option: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw optionError(option, `is required: ${what}.`)
  return value
}

/**
 * The name a provider puts in `user.provider`: 1-32 lowercase letters, digits or dashes (it is
 * compared at logout and shown in logs and audit events).
 */
export function providerName (option: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^[a-z0-9-]{1,32}$/.test(value)) throw optionError(option, `must be 1-32 lowercase letters, digits or dashes (got ${JSON.stringify(value)}).`)
  return value
}

/**
 * A route path such as `/auth` or `/webhooks/workos`: starts with `/`, no trailing slash, only
 * letters, digits and `. _ ~ -` in each segment, no `.` or `..` segment.
 */
export function routePath (option: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^(?:\/[A-Za-z0-9._~-]+)+$/.test(value) || value.split('/').some(part => part === '.' || part === '..')) {
    throw optionError(option, `must be a path such as ${fallback}: starts with /, no trailing slash, letters, digits, . _ ~ - only (got ${JSON.stringify(value)}).`)
  }
  return value
}

/**
 * IdPs that skip OAuth and redirect back with a signed JWT (miniOrange's JWT SSO and many
 * in-house IdPs): `/login` sends the browser to the IdP's login URL, the IdP comes back to the
 * callback with `?id_token=<JWT>` (or posts it).
 *
 * This flow is weaker than OpenID Connect, and the code makes up for what it can:
 * - no PKCE and no code exchange: the token itself travels through the browser, in the URL for
 *   GET callbacks, so `maxAge` should be short and each token is accepted ONCE (its `jti`, or a
 *   hash of the whole token, stays in the replay cache until the token expires);
 * - `algorithms` is required and pinned: `none` never, HMAC only with a shared `secret`,
 *   asymmetric only with a `publicKey`/`jwksUri` (no algorithm confusion, e.g. an HS256 token
 *   "signed" with the public key as the HMAC secret);
 * - `exp` is required, `iat` may not be in the future, `nbf`, `iss`, `aud` and `maxAge` checked
 *   with a 30 s clock tolerance;
 * - the login is bound to the browser only when the IdP echoes our state (`stateParam`);
 *   otherwise the newest pending login of the browser is used, and tokens that arrive with no
 *   pending login at all (unsolicited) are refused unless `allowUnsolicited` is set.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { InvalidCallbackError, TokenRejectedError, TransactionMissingError } from '../errors.ts'
import { booleanOption, optionError, optionsObject, parseHttpUrl, positiveInteger, providerName } from '../option-checks.ts'
import { sha256 } from '../crypto.ts'
import { asymmetricAlgorithms, clockToleranceSeconds, hmacAlgorithms, joseFailure, remoteKeySet } from './kit/jwt-keys.ts'
import { mapClaims, type ClaimNames } from './kit/profile.ts'
import { idpTarget } from './kit/idp-trace.ts'
import { firstUse } from '../store/single-use.ts'
import type { CallbackRequest, LoginTransaction, ProviderContext, ProviderInstance, SignIn, SsoProvider } from './provider.ts'

/** Which claim holds each user field (a name, or names tried in order). */
export interface JwtClaimNames {
  id?: string | string[]
  email?: string | string[]
  name?: string | string[]
  firstName?: string | string[]
  lastName?: string | string[]
  groups?: string | string[]
  roles?: string | string[]
  organizationId?: string | string[]
}

/** Options of {@link jwtProvider}. */
export interface JwtProviderOptions {
  /** The IdP's login URL (its query parameters are kept). */
  loginUrl: string
  /** HS256/384/512: the secret shared with the IdP (at least 32 bytes). */
  secret?: string | Uint8Array
  /** RS*, PS*, ES*, EdDSA: the IdP's public key as a PEM string, a JWK object or a KeyObject. */
  publicKey?: string | JWK | KeyObject
  /** RS*, PS*, ES*, EdDSA: the IdP's JWKS URL (cached; refetched for an unknown `kid`). */
  jwksUri?: string
  /** The accepted signing algorithms (required; e.g. `['HS256']` or `['RS256']`). */
  algorithms: string[]
  /** Expected `iss`. */
  issuer?: string
  /** Expected `aud`. */
  audience?: string | string[]
  /** Callback parameter (query or form field) holding the token (default `id_token`). */
  tokenParam?: string
  /** Parameter in which the IdP echoes our state back (RelayState-style); enables the state check. */
  stateParam?: string
  /** Parameter with the IdP's suggested landing path (same-origin only; unsolicited logins only). */
  returnToParam?: string
  /** Claim names for the user fields (defaults fit miniOrange). */
  claims?: JwtClaimNames
  /** Refuse tokens issued more than this many seconds ago. */
  maxAge?: number
  /** Accept tokens with no pending login in this browser (IdP-initiated; as miniOrange sends them). */
  allowUnsolicited?: boolean
  /** Name in `user.provider` (default `jwt`). */
  name?: string
}

const knownOptions = ['loginUrl', 'secret', 'publicKey', 'jwksUri', 'algorithms', 'issuer', 'audience', 'tokenParam', 'stateParam', 'returnToParam', 'claims', 'maxAge', 'allowUnsolicited', 'name']
const defaultClaims: Required<{ [K in keyof JwtClaimNames]: string[] }> = {
  id: ['sub'],
  email: ['email'],
  name: ['name'],
  firstName: ['first_name', 'given_name', 'firstname'],
  lastName: ['last_name', 'family_name', 'lastname'],
  groups: ['groups'],
  roles: ['roles'],
  organizationId: ['org', 'organization', 'org_id']
}
/** A token longer than this is refused before it is parsed. */
const maxTokenLength = 8192
const parameterName = /^[A-Za-z0-9_.-]{1,64}$/

interface Settings {
  loginUrl: URL
  key: Uint8Array | KeyObject | JWTVerifyGetKey
  algorithms: string[]
  issuer: string | undefined
  audience: string | string[] | undefined
  tokenParam: string
  stateParam: string | undefined
  returnToParam: string | undefined
  claims: ClaimNames
  maxAge: number | undefined
  allowUnsolicited: boolean
  name: string
}

function validateKey (options: JwtProviderOptions, name: string, connection: string | undefined): Settings['key'] {
  const sources = (['secret', 'publicKey', 'jwksUri'] as const).filter(name => options[name] !== undefined)
  if (sources.length !== 1) {
    throw optionError('jwtProvider.secret', 'needs exactly one key: secret (HS*), publicKey (PEM, JWK or KeyObject) or jwksUri.')
  }
  const algorithms = options.algorithms
  if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every(alg => typeof alg === 'string')) {
    throw optionError('jwtProvider.algorithms', 'is required: the accepted signing algorithms, e.g. [\'HS256\'] or [\'RS256\']. "none" is never accepted.')
  }
  if (options.secret !== undefined) {
    const wrong = algorithms.find(alg => !hmacAlgorithms.includes(alg))
    if (wrong) throw optionError('jwtProvider.algorithms', `with a shared secret only ${hmacAlgorithms.join(', ')} are accepted (got ${JSON.stringify(wrong)}).`)
    const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret
    if (!(secret instanceof Uint8Array) || secret.byteLength < 32) {
      throw optionError('jwtProvider.secret', 'must be at least 32 bytes: a short HMAC secret can be guessed offline from a single token.')
    }
    return secret
  }
  const wrong = algorithms.find(alg => !asymmetricAlgorithms.includes(alg))
  if (wrong) {
    throw optionError('jwtProvider.algorithms', `with a public key only ${asymmetricAlgorithms.join(', ')} are accepted (got ${JSON.stringify(wrong)}): an HMAC algorithm here would let anyone holding the public key sign tokens.`)
  }
  if (options.jwksUri !== undefined) return remoteKeySet(parseHttpUrl('jwtProvider.jwksUri', options.jwksUri), idpTarget(name, connection))
  try {
    const key = options.publicKey
    const publicKey = typeof key === 'string' ? createPublicKey(key)
      : isKeyObject(key) ? key
        : createPublicKey({ key: key as JWK & { kty: string }, format: 'jwk' })
    if (publicKey.type !== 'public') throw new Error('not a public key')
    return publicKey
  } catch {
    throw optionError('jwtProvider.publicKey', 'must be the IdP\'s public key: a PEM string (-----BEGIN PUBLIC KEY-----), a public JWK object or a public KeyObject.')
  }
}

function isKeyObject (value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && typeof (value as KeyObject).export === 'function' && 'type' in value
}

function claimList (option: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every(name => typeof name === 'string' && name.length > 0)) {
    throw optionError(`jwtProvider.claims.${option}`, 'must be a claim name or a list of claim names.')
  }
  return list
}

function validate (options: JwtProviderOptions, context: ProviderContext): Settings {
  optionsObject('jwtProvider', options, knownOptions, '{ loginUrl, algorithms, secret | publicKey | jwksUri }')
  const loginUrl = parseHttpUrl('jwtProvider.loginUrl', options.loginUrl)
  const name = providerName('jwtProvider.name', options.name, 'jwt')
  const key = validateKey(options, name, context.connectionId)
  for (const name of ['tokenParam', 'stateParam', 'returnToParam'] as const) {
    const value = options[name]
    if (value !== undefined && (typeof value !== 'string' || !parameterName.test(value))) {
      throw optionError(`jwtProvider.${name}`, 'must be a query parameter name such as id_token or RelayState.')
    }
  }
  if (options.issuer !== undefined && (typeof options.issuer !== 'string' || options.issuer.length === 0)) throw optionError('jwtProvider.issuer', 'must be a non-empty string.')
  const audience = options.audience
  if (audience !== undefined && !(typeof audience === 'string' && audience) && !(Array.isArray(audience) && audience.length > 0 && audience.every(entry => typeof entry === 'string' && entry))) {
    throw optionError('jwtProvider.audience', 'must be a non-empty string or a list of them.')
  }
  const maxAge = options.maxAge === undefined ? undefined : positiveInteger('jwtProvider.maxAge', options.maxAge, 0, 'seconds', ' (keep it short: the token travels in the URL)')
  const allowUnsolicited = booleanOption('jwtProvider.allowUnsolicited', options.allowUnsolicited)
  const names = optionsObject<JwtClaimNames>('jwtProvider.claims', options.claims ?? {}, Object.keys(defaultClaims), 'claim names such as { email: \'mail\' }')
  // JWT IdPs have no email_verified convention: the email is whatever the IdP signed.
  const claims = { emailVerified: [], ...Object.fromEntries(Object.entries(defaultClaims).map(([field, fallback]) => [field, claimList(field, names[field as keyof JwtClaimNames], fallback)])) } as unknown as ClaimNames
  return {
    loginUrl,
    key,
    algorithms: options.algorithms,
    issuer: options.issuer,
    audience,
    tokenParam: options.tokenParam ?? 'id_token',
    stateParam: options.stateParam,
    returnToParam: options.returnToParam,
    claims,
    maxAge,
    allowUnsolicited,
    name
  }
}

/**
 * A JWT redirect provider.
 *
 * @example
 * ```ts
 * await app.register(ssoPlugin, {
 *   baseUrl: 'https://app.example.com',
 *   provider: jwtProvider({
 *     loginUrl: 'https://acme.xecurify.com/moas/idp/jwtsso/123456',
 *     secret: process.env.JWT_SSO_SECRET,   // HS256, shared with the IdP
 *     algorithms: ['HS256'],
 *     maxAge: 60,
 *   }),
 *   session: { secret: process.env.SESSION_SECRET },
 * })
 * // The IdP's redirect URL: https://app.example.com/auth/callback
 * ```
 */
export function jwtProvider (options: JwtProviderOptions): SsoProvider {
  return {
    name: 'jwt',
    setup: (context) => new JwtProvider(validate(options, context), context)
  }
}

class JwtProvider implements ProviderInstance {
  readonly name: string
  readonly callbackMethods = ['GET', 'POST'] as const
  readonly usesState: boolean
  readonly stateParam: string | undefined
  readonly acceptsUnsolicited: boolean
  readonly #settings: Settings
  readonly #context: ProviderContext

  constructor (settings: Settings, context: ProviderContext) {
    this.#settings = settings
    this.#context = context
    this.name = settings.name
    this.usesState = settings.stateParam !== undefined
    this.stateParam = settings.stateParam
    this.acceptsUnsolicited = settings.allowUnsolicited
  }

  async authorizationUrl (transaction: LoginTransaction): Promise<URL> {
    const url = new URL(this.#settings.loginUrl)
    if (this.#settings.stateParam) url.searchParams.set(this.#settings.stateParam, transaction.state)
    return url
  }

  async callback (request: CallbackRequest): Promise<SignIn> {
    if (!request.transaction && !this.acceptsUnsolicited) throw TransactionMissingError()
    const token = request.params[this.#settings.tokenParam]
    if (!token) throw InvalidCallbackError(`The identity provider's answer has no ${this.#settings.tokenParam} parameter.`)
    if (token.length > maxTokenLength) throw TokenRejectedError(`The token is longer than ${maxTokenLength} characters.`)
    const payload = await this.#verify(token)
    await this.#useOnce(token, payload)
    const signIn: SignIn = { user: mapClaims(payload, this.#settings.claims, this.name) }
    const returnTo = this.#settings.returnToParam ? request.params[this.#settings.returnToParam] : undefined
    if (returnTo) signIn.returnTo = returnTo
    return signIn
  }

  async #verify (token: string): Promise<JWTPayload> {
    const { key, algorithms, issuer, audience, maxAge } = this.#settings
    const now = this.#context.now()
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        issuer,
        audience,
        maxTokenAge: maxAge,
        requiredClaims: ['exp'],
        clockTolerance: clockToleranceSeconds,
        currentDate: new Date(now)
      }))
    } catch (err) {
      throw joseFailure(err)
    }
    if (typeof payload.iat === 'number' && payload.iat > now / 1000 + clockToleranceSeconds) {
      throw TokenRejectedError('The token was issued in the future (iat); check the clocks of the IdP and this server.')
    }
    return payload
  }

  /** Each token works once, until it expires (a token in a URL ends up in logs and histories). */
  async #useOnce (token: string, payload: JWTPayload): Promise<void> {
    const key = typeof payload.jti === 'string' && payload.jti.length > 0 && payload.jti.length <= 255
      ? `jwt:jti:${sha256(payload.jti)}`
      : `jwt:token:${sha256(token)}`
    const ttl = (payload.exp! + clockToleranceSeconds) * 1000 - this.#context.now()
    if (!await firstUse(this.#context.store, key, ttl, this.#context.log)) throw TokenRejectedError('This token was already used to sign in.')
  }
}

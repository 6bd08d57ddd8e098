/**
 * Any OpenID Connect issuer (Okta, Entra ID, Keycloak, Auth0, SSOJet…) through `openid-client`.
 *
 * Security choices, each deliberate:
 * - Authorization code flow with PKCE S256, `state` and `nonce` on every login.
 * - ID token signatures are always verified (`enableNonRepudiationChecks`: openid-client skips
 *   them by default, trusting TLS), with the signing algorithm pinned (never `none`, never HS*).
 * - RFC 9207 `iss` in the callback is required and matched when the OP advertises it.
 * - `iat` at most 10 minutes old and not in the future; `sub` 1 to 255 characters.
 * - A new, unknown signing key (`kid`) makes us fetch the JWKS again before verifying, so a key
 *   rotation at the IdP is accepted at once, and an unknown key is still refused.
 * - Discovery is lazy (an IdP outage at boot does not stop the app), cached, retried after a
 *   failure; every request to the IdP times out after 10 seconds.
 * - Every request to the IdP (discovery, token, user-info, JWKS) goes through one traced fetch
 *   (`fastify-sso:idp`), so OpenTelemetry can show it as a span.
 * - Tokens (`tokens: true`) stay server-side, sealed in the store; a refreshed ID token must be
 *   for the same `sub`. A step-up login's `max_age` is checked by openid-client (`auth_time`).
 */
import * as client from 'openid-client'
import type { JWTVerifyGetKey } from 'jose'
import { IdpUnavailableError, InvalidCallbackError, NoAccessTokenError, RefreshRefusedError, TokenRejectedError, TransactionMissingError } from '../errors.ts'
import { booleanOption, oneOf, optionError, optionsObject, parseHttpUrl, providerName, requiredString } from '../option-checks.ts'
import { pkceChallenge, randomId } from '../crypto.ts'
import { mapOidcError, mapRefreshError, tokenStep } from './oidc-errors.ts'
import { clientSecretBasic, clientSigningKey, privateKeyJwt, type AssertionAudience, type ClientPrivateKey } from './oidc-client-auth.ts'
import { verifyLogoutToken, type LogoutTokenClaims } from './oidc-logout-token.ts'
import { asymmetricAlgorithms, clockToleranceSeconds, remoteKeySet } from './kit/jwt-keys.ts'
import { idpRequestTimeoutMs } from './kit/idp-call.ts'
import { idpTarget, tracedFetch, type IdpTarget } from './kit/idp-trace.ts'
import { loginHint } from './kit/login-hint.ts'
import { mapClaims, standardClaimNames } from './kit/profile.ts'
import type { CallbackRequest, LoginRequest, LoginTransaction, ProviderContext, ProviderInstance, ProviderSession, SignIn, SsoProvider } from './provider.ts'

/** Options of {@link oidcProvider}. */
export interface OidcProviderOptions {
  /** The issuer identifier, e.g. `https://acme.okta.com` (discovery at `/.well-known/openid-configuration`). */
  issuer: string
  clientId: string
  /** Confidential clients; omit for public clients (PKCE only). */
  clientSecret?: string
  /** Scopes to request (default `['openid', 'email', 'profile']`; must include `openid`). */
  scopes?: string[]
  /** The only ID token signing algorithm accepted (default `RS256`). */
  idTokenSigningAlg?: string
  /**
   * How the client authenticates at the token, PAR and revocation endpoints (default
   * `private_key_jwt` with a `privateKey`, `client_secret_basic` with a secret, `none` without).
   */
  tokenAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'
  /**
   * `private_key_jwt`: the client's private key, PEM or JWK (RSA ≥ 2048 bits, EC P-256/384/521 or
   * Ed25519). The assertions name it by `kid`: the JWK's own, else its RFC 7638 thumbprint;
   * `clientJwks(privateKey)` gives the public JWKS to register at the IdP. Signed with the JWK's
   * `alg`, else RS256 / ES256 / ES384 / ES512 / EdDSA by key type.
   */
  privateKey?: ClientPrivateKey
  /**
   * `private_key_jwt`: the assertion's `aud`: `issuer` (default; Auth0, Keycloak, RFC 7523bis) or
   * `endpoint`, the URL of the endpoint being called (Okta, Entra ID).
   */
  clientAssertionAudience?: AssertionAudience
  /** `private_key_jwt` with a certificate (Entra ID): its PEM; assertions then carry `x5t` and `x5t#S256`. */
  clientCertificate?: string
  /**
   * Pushed authorization requests (RFC 9126): the login parameters go to the IdP server to server
   * and the browser carries only a reference. Always on when the IdP's metadata says
   * `require_pushed_authorization_requests`; `true` uses PAR with any IdP that offers it (needed
   * when only this client's registration requires it). Default false.
   */
  par?: boolean
  /**
   * Keep the access and refresh tokens (server-side, like the ID token: sealed in the store under
   * the session, never in the cookie or the logs) for `app.sso.accessToken(request)`, which renews
   * the access token when it is about to expire. Logout revokes them at the IdP's
   * `revocation_endpoint`. Most IdPs issue refresh tokens only for the `offline_access` scope.
   * Default false.
   */
  tokens?: boolean
  /** `prompt` sent to the IdP (`login`, `select_account`, `consent`, `none`). */
  prompt?: string
  /**
   * `true`: always fetch the user-info endpoint and merge its claims (its `sub` must equal the ID
   * token's; the ID token's claims win). Default: fetch it only when the ID token lacks the claims
   * the requested `email` / `profile` scopes promise (no `email`; none of `name`, `given_name`,
   * `family_name`), as with IdPs that put them in user-info only.
   */
  userinfo?: boolean
  /**
   * Keep the ID token to send it as `id_token_hint` at logout (default true). It is kept
   * server-side, in the store (`store` option), sealed with the session keys, until logout or the
   * session's absolute expiry; never in the cookie. `false`: logout without the hint (some IdPs
   * then ask the user to confirm, or do not return to `logoutRedirect`).
   */
  keepIdToken?: boolean
  /** Name in `user.provider` (default `oidc`). */
  name?: string
}

const knownOptions = [
  'issuer', 'clientId', 'clientSecret', 'scopes', 'idTokenSigningAlg', 'tokenAuthMethod', 'privateKey', 'clientAssertionAudience',
  'clientCertificate', 'par', 'tokens', 'prompt', 'userinfo', 'keepIdToken', 'name'
]
/** Seconds any request to the IdP may take (openid-client counts in seconds). */
const requestTimeout = idpRequestTimeoutMs / 1000

/**
 * A configuration's server metadata, read once: openid-client's `serverMetadata()` deep-copies it
 * on every call (~25 µs, at every login), and it never changes for a configuration.
 */
const metadataByConfig = new WeakMap<client.Configuration, Readonly<client.ServerMetadata>>()
function serverMetadata (config: client.Configuration): Readonly<client.ServerMetadata> {
  let metadata = metadataByConfig.get(config)
  if (!metadata) metadataByConfig.set(config, metadata = Object.freeze(config.serverMetadata()))
  return metadata
}

/** An ID token older than this is refused even if not expired (a replayed or cached token). */
const maxIdTokenAgeSeconds = 600

interface Settings {
  issuer: URL
  insecure: boolean
  clientId: string
  clientSecret: string | undefined
  scopes: string[]
  scope: string
  alg: string
  auth: client.ClientAuth
  /** How requests to the IdP are sent: fetch, or fetch signing client assertions for their endpoint. */
  /** Signs each request at send time (`private_key_jwt` with the endpoint as audience). */
  signRequests: ((send: client.CustomFetch) => client.CustomFetch) | undefined
  par: boolean
  tokens: boolean
  prompt: string | undefined
  userinfo: boolean
  keepIdToken: boolean
  name: string
}

function validate (options: OidcProviderOptions): Settings {
  optionsObject('oidcProvider', options, knownOptions, '{ issuer, clientId, clientSecret? }')
  const issuer = parseHttpUrl('oidcProvider.issuer', options.issuer)
  if (issuer.search || issuer.hash) throw optionError('oidcProvider.issuer', 'must not contain a query or fragment.')
  if (issuer.hostname === 'login.microsoftonline.com' && /^\/(common|organizations|consumers)(\/|$)/i.test(issuer.pathname)) {
    // These publish an issuer template (`…/{tenantid}/v2.0`): tokens from any tenant would match it.
    throw optionError('oidcProvider.issuer', `is an Entra ID multi-tenant endpoint, which is not supported: use your tenant's issuer, https://login.microsoftonline.com/<tenant-id>/v2.0 (got ${issuer.href}).`)
  }
  const clientId = requiredString('oidcProvider.clientId', options.clientId, 'the client id registered at the IdP')
  if (options.clientSecret !== undefined && (typeof options.clientSecret !== 'string' || options.clientSecret.length === 0)) {
    throw optionError('oidcProvider.clientSecret', 'must be a non-empty string (omit it for a public client).')
  }
  const scopes = options.scopes ?? ['openid', 'email', 'profile']
  if (!Array.isArray(scopes) || !scopes.every(scope => typeof scope === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) {
    throw optionError('oidcProvider.scopes', 'must be an array of scope names such as ["openid", "email", "profile"].')
  }
  if (!scopes.includes('openid')) throw optionError('oidcProvider.scopes', 'must include "openid" (without it there is no ID token to verify).')
  const alg = options.idTokenSigningAlg ?? 'RS256'
  if (!asymmetricAlgorithms.includes(alg)) {
    throw optionError('oidcProvider.idTokenSigningAlg', `must be an asymmetric algorithm (${asymmetricAlgorithms.join(', ')}); "none" and HS* are refused because the signature could not prove the IdP signed the token (got ${JSON.stringify(alg)}).`)
  }
  const { auth, signRequests } = clientAuthentication(options)
  if (options.prompt !== undefined && (typeof options.prompt !== 'string' || !/^[a-z_ ]+$/.test(options.prompt))) {
    throw optionError('oidcProvider.prompt', 'must be a prompt value such as "login" or "select_account".')
  }
  const name = providerName('oidcProvider.name', options.name, 'oidc')
  return {
    issuer,
    insecure: issuer.protocol === 'http:',
    clientId,
    clientSecret: options.clientSecret,
    scopes,
    scope: scopes.join(' '),
    alg,
    auth,
    signRequests,
    par: booleanOption('oidcProvider.par', options.par),
    tokens: booleanOption('oidcProvider.tokens', options.tokens),
    prompt: options.prompt,
    userinfo: booleanOption('oidcProvider.userinfo', options.userinfo),
    keepIdToken: booleanOption('oidcProvider.keepIdToken', options.keepIdToken, true),
    name
  }
}

/** The client authentication at the IdP's endpoints, from `tokenAuthMethod` and the credentials. */
function clientAuthentication (options: OidcProviderOptions): { auth: client.ClientAuth, signRequests?: (send: client.CustomFetch) => client.CustomFetch } {
  const method = options.tokenAuthMethod ?? (options.privateKey !== undefined ? 'private_key_jwt' : options.clientSecret ? 'client_secret_basic' : 'none')
  if (method !== 'private_key_jwt') {
    for (const option of ['privateKey', 'clientAssertionAudience', 'clientCertificate'] as const) {
      if (options[option] !== undefined) throw optionError(`oidcProvider.${option}`, `is for tokenAuthMethod 'private_key_jwt' (tokenAuthMethod is '${method}').`)
    }
  }
  if (method === 'none') return { auth: client.None() }
  if (method === 'client_secret_basic' || method === 'client_secret_post') {
    if (!options.clientSecret) throw optionError('oidcProvider.tokenAuthMethod', `"${method}" needs a clientSecret.`)
    return { auth: method === 'client_secret_basic' ? clientSecretBasic(options.clientSecret) : client.ClientSecretPost(options.clientSecret) }
  }
  if (method !== 'private_key_jwt') {
    throw optionError('oidcProvider.tokenAuthMethod', `must be 'client_secret_basic', 'client_secret_post', 'private_key_jwt' or 'none' (got ${JSON.stringify(method)}).`)
  }
  if (options.privateKey === undefined) throw optionError('oidcProvider.privateKey', 'is required with tokenAuthMethod \'private_key_jwt\': the PEM or JWK of the key whose public half is registered at the IdP.')
  if (options.clientSecret !== undefined) throw optionError('oidcProvider.clientSecret', 'must not be set with private_key_jwt (the client authenticates with its privateKey).')
  const audience = oneOf('oidcProvider.clientAssertionAudience', options.clientAssertionAudience, ['issuer', 'endpoint'], 'issuer')
  const key = clientSigningKey('oidcProvider.privateKey', options.privateKey, options.clientCertificate, 'oidcProvider.clientCertificate')
  const { auth, signing } = privateKeyJwt(key, audience)
  return { auth, ...(audience === 'endpoint' ? { signRequests: signing } : {}) }
}

/**
 * An OpenID Connect provider.
 *
 * @example
 * ```ts
 * await app.register(ssoPlugin, {
 *   baseUrl: 'https://app.example.com',
 *   provider: oidcProvider({
 *     issuer: 'https://acme.okta.com',
 *     clientId: process.env.OIDC_CLIENT_ID,
 *     clientSecret: process.env.OIDC_CLIENT_SECRET,
 *   }),
 *   session: { secret: process.env.SESSION_SECRET },
 * })
 * // Register https://app.example.com/auth/callback as the redirect URI at the IdP.
 * ```
 */
export function oidcProvider (options: OidcProviderOptions): SsoProvider {
  return {
    name: 'oidc',
    setup: (context) => new OidcProvider(validate(options), context)
  }
}

class OidcProvider implements ProviderInstance {
  readonly name: string
  readonly #settings: Settings
  readonly #context: ProviderContext
  #discovery: Promise<client.Configuration> | undefined
  #jwksCache: client.ExportedJWKSCache | undefined
  /** See {@link OidcProvider.#exchangeConfig}. */
  #exchange: { discovered: client.Configuration, config: client.Configuration } | undefined
  readonly #tokenResponses = new Map<string, TokenResponse>()
  #logoutKeys: JWTVerifyGetKey | undefined
  /** Who its requests are traced as. */
  readonly #idp: IdpTarget
  /** Tokens on request: present only with `tokens: true` (the plugin reads their presence). */
  readonly refreshTokens?: (state: ProviderSession) => Promise<ProviderSession>
  readonly revokeTokens?: (state: ProviderSession) => Promise<void>

  constructor (settings: Settings, context: ProviderContext) {
    this.#settings = settings
    this.#context = context
    this.name = settings.name
    this.#idp = idpTarget(settings.name, context.connectionId)
    if (settings.tokens) {
      this.refreshTokens = (state) => this.#refreshTokens(state)
      this.revokeTokens = (state) => this.#revokeTokens(state)
    }
  }

  /** A fetch that signs the client assertion at send time, when the settings ask for it. */
  #signed (send: client.CustomFetch): client.CustomFetch {
    return this.#settings.signRequests?.(send) ?? send
  }

  /** The traced fetch for the endpoints of this discovery: `token`, `userinfo`, `jwks`, `par`, `revocation`. */
  #fetchFor (discovered: client.Configuration): client.CustomFetch {
    const metadata = serverMetadata(discovered)
    const operations = new Map<string, string>()
    for (const [operation, endpoint] of [
      ['token', metadata.token_endpoint], ['userinfo', metadata.userinfo_endpoint], ['jwks', metadata.jwks_uri],
      ['par', metadata.pushed_authorization_request_endpoint], ['revocation', metadata.revocation_endpoint]
    ] as const) {
      const url = URL.parse(endpoint ?? '')
      if (url) operations.set(url.origin + url.pathname, operation)
    }
    return tracedFetch<client.CustomFetchOptions>(this.#idp, url => operations.get(url.origin + url.pathname) ?? 'request')
  }

  /** Discovery, cached; a failure is not cached, so the next login tries again. */
  #discover (): Promise<client.Configuration> {
    this.#discovery ??= this.#runDiscovery().catch((err: unknown) => {
      this.#discovery = undefined
      throw err
    })
    return this.#discovery
  }

  async #runDiscovery (): Promise<client.Configuration> {
    const { issuer, insecure, clientId } = this.#settings
    let config: client.Configuration
    try {
      config = await client.discovery(issuer, clientId, this.#clientMetadata(), this.#settings.auth, {
        execute: insecure ? [client.allowInsecureRequests] : [],
        timeout: requestTimeout,
        [client.customFetch]: this.#signed(tracedFetch<client.CustomFetchOptions>(this.#idp, 'discovery'))
      })
    } catch (err) {
      const reason = mapOidcError(err, 'discovery').message
      this.#context.log.error({ issuer: issuer.href, reason }, 'fastify-sso: OpenID Connect discovery failed')
      throw IdpUnavailableError(`Could not read the OpenID configuration of ${issuer.href}. ${reason}`)
    }
    if (serverMetadata(config).issuer.includes('{')) {
      // A template such as Entra ID's `{tenantid}` is not an issuer we can compare tokens with.
      throw IdpUnavailableError(`The OpenID configuration of ${issuer.href} has a templated issuer (${serverMetadata(config).issuer}); configure the tenant-specific issuer instead.`)
    }
    if (!serverMetadata(config).jwks_uri) {
      throw IdpUnavailableError(`The OpenID configuration of ${issuer.href} has no jwks_uri: ID token signatures cannot be verified.`)
    }
    return config
  }

  #clientMetadata (): Partial<client.ClientMetadata> {
    const metadata: Partial<client.ClientMetadata> = { id_token_signed_response_alg: this.#settings.alg }
    if (this.#settings.clientSecret) metadata.client_secret = this.#settings.clientSecret
    return metadata
  }

  /**
   * A configuration for token requests (code exchanges, refreshes), seeded with the last JWKS we
   * saw. They share one (`#exchange`), so the IdP's keys are imported once, not at every login.
   *
   * Key rotation: openid-client refuses a token whose `kid` its cached JWKS lacks until the cache
   * is a minute old. So the shared configuration keeps each token response (by PKCE verifier, or
   * by refresh token) until its request ends; when one fails to select a key, `#grant` gives the
   * same response to a fresh configuration (`replay`), which fetches the JWKS again and validates
   * everything anew. The code or refresh token is never sent twice: the IdP's answer is replayed.
   */
  #exchangeConfig (discovered: client.Configuration, replay?: TokenResponse): client.Configuration {
    const config = new client.Configuration(serverMetadata(discovered), this.#settings.clientId, this.#clientMetadata(), this.#settings.auth)
    if (this.#settings.insecure) client.allowInsecureRequests(config)
    client.enableNonRepudiationChecks(config)
    config.timeout = requestTimeout
    if (this.#jwksCache && !replay) client.setJwksCache(config, this.#jwksCache)
    // Normalised: openid-client fetches `new URL(token_endpoint).href`, which differs from the raw
    // metadata string when the IdP writes it unnormalised (`:443`, `/./`, upper-case scheme).
    const tokenEndpoint = URL.parse(serverMetadata(discovered).token_endpoint ?? '')?.href
    const send = this.#signed(this.#fetchFor(discovered))
    config[client.customFetch] = async (url, init) => {
      const toTokenEndpoint = tokenEndpoint !== undefined && URL.parse(String(url))?.href === tokenEndpoint
      if (replay && toTokenEndpoint) return new Response(replay.body, { status: replay.status, headers: { 'content-type': replay.contentType } })
      const response = await send(url, init)
      const key = init.body instanceof URLSearchParams ? responseKey(init.body) : null
      if (replay || !toTokenEndpoint || !response.ok || key === null) return response
      // Kept until the request ends, in case its ID token names a key we have not seen. Read
      // once and handed on as a new Response: cheaper than clone(), which tees the stream.
      const body = await response.text()
      const contentType = response.headers.get('content-type') ?? ''
      this.#tokenResponses.set(key, { status: response.status, contentType, body })
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
    }
    return config
  }

  /** The shared exchange configuration of the current discovery. */
  #sharedExchange (discovered: client.Configuration): client.Configuration {
    if (this.#exchange?.discovered !== discovered) this.#exchange = { discovered, config: this.#exchangeConfig(discovered) }
    return this.#exchange.config
  }

  /**
   * A token request on the shared configuration, validated again by a fresh one when its ID token
   * names a key we have not seen (see `#exchangeConfig`). `key` is what the request's answer is
   * kept under (`responseKey`). Returns the result and the configuration that validated it.
   */
  async #grant<T> (discovered: client.Configuration, key: string, request: (config: client.Configuration) => Promise<T>): Promise<{ result: T, config: client.Configuration }> {
    let config = this.#sharedExchange(discovered)
    try {
      try {
        return { result: await request(config), config }
      } catch (err) {
        const answered = this.#tokenResponses.get(key)
        if (!answered || (err as { code?: unknown }).code !== 'OAUTH_KEY_SELECTION_FAILED') throw err
        // A key the cached JWKS lacks (the IdP rotated its keys): the same answer, validated by a
        // configuration that fetches the JWKS again. Later requests start from those keys.
        config = this.#exchangeConfig(discovered, answered)
        try {
          return { result: await request(config), config }
        } finally {
          this.#jwksCache = client.getJwksCache(config) ?? this.#jwksCache
          this.#exchange = undefined
        }
      }
    } finally {
      this.#tokenResponses.delete(key)
      if (this.#exchange?.config === config) this.#jwksCache = client.getJwksCache(config) ?? this.#jwksCache
    }
  }

  async authorizationUrl (transaction: LoginTransaction, login: LoginRequest): Promise<URL> {
    const config = await this.#discover()
    const parameters: Record<string, string> = {
      redirect_uri: this.#context.redirectUri,
      scope: this.#settings.scope,
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: pkceChallenge(transaction.codeVerifier),
      code_challenge_method: 'S256'
    }
    if (this.#settings.prompt) parameters.prompt = this.#settings.prompt
    const hint = loginHint(login.query)
    if (hint) parameters.login_hint = hint
    // Step-up (requireUser({ maxAge, acr })): the plugin validated these at /login.
    const { max_age: maxAge, acr_values: acrValues } = transaction.routing
    if (maxAge !== undefined) {
      parameters.max_age = maxAge
      // Some IdPs (Entra ID) ignore max_age but honour prompt=login; the callback checks
      // auth_time against max_age either way.
      const prompts = new Set((parameters.prompt ?? '').split(' ').filter(value => value !== '' && value !== 'none'))
      parameters.prompt = [...prompts.add('login')].join(' ')
    }
    if (acrValues !== undefined) parameters.acr_values = acrValues
    const metadata = serverMetadata(config)
    if (!this.#settings.par && metadata.require_pushed_authorization_requests !== true) return client.buildAuthorizationUrl(config, parameters)
    if (!metadata.pushed_authorization_request_endpoint) {
      throw IdpUnavailableError(`The identity provider ${metadata.issuer} offers no pushed authorization requests (no pushed_authorization_request_endpoint in its metadata): turn PAR on at the IdP, or remove oidcProvider's par option.`)
    }
    try {
      // The parameters go to the IdP server to server; the browser carries only their reference.
      return await client.buildAuthorizationUrlWithPAR(config, parameters)
    } catch (err) {
      throw mapOidcError(err, 'pushed authorization request')
    }
  }

  async callback (request: CallbackRequest): Promise<SignIn> {
    const transaction = request.transaction
    if (!transaction) throw TransactionMissingError()
    if (!request.params.code) throw InvalidCallbackError('The identity provider\'s answer has no authorization code.')
    const discovered = await this.#discover()
    const maxAge = transaction.routing.max_age
    let grant: { result: Awaited<ReturnType<typeof client.authorizationCodeGrant>>, config: client.Configuration }
    try {
      grant = await this.#grant(discovered, transaction.codeVerifier, (config) => client.authorizationCodeGrant(config, request.url, {
        pkceCodeVerifier: transaction.codeVerifier,
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        idTokenExpected: true,
        // A step-up login: openid-client requires auth_time and checks it against max_age.
        ...(maxAge !== undefined ? { maxAge: Number(maxAge) } : {})
      }))
    } catch (err) {
      throw mapOidcError(err, tokenStep)
    }
    const { result: tokens, config } = grant
    const claims = tokens.claims()
    if (!claims) throw TokenRejectedError('The identity provider returned no ID token.')
    this.#checkClaims(claims)

    let profile: Record<string, unknown> = claims
    if (this.#needsUserinfo(claims, config)) {
      try {
        // openid-client checks that the user-info `sub` equals the ID token's.
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
        profile = { ...info, ...claims }
      } catch (err) {
        throw mapOidcError(err, 'user-info request')
      }
    }
    const session: ProviderSession = {}
    if (typeof claims.sid === 'string' && claims.sid.length <= 255) session.sid = claims.sid
    // For requireUser({ maxAge, acr }): small enough for the cookie.
    if (typeof claims.auth_time === 'number') session.authTime = claims.auth_time
    if (typeof claims.acr === 'string' && claims.acr.length > 0 && claims.acr.length <= 255) session.acr = claims.acr
    const user = mapClaims(profile, standardClaimNames, this.name)
    // The ID token for `id_token_hint` at logout, and the tokens for app.sso.accessToken(), kept
    // server-side: in the cookie the ID token alone would about double what every request carries.
    const secrets = this.#keptTokens(tokens, claims.sub)
    return Object.keys(secrets).length > 0 ? { user, session, secrets } : { user, session }
  }

  /** What a token response leaves in the secret state: the ID token (`keepIdToken`), and the tokens (`tokens`). */
  #keptTokens (tokens: client.TokenEndpointResponse, sub: string, previous?: ProviderSession): ProviderSession {
    const kept: ProviderSession = {}
    const idToken = tokens.id_token ?? previous?.idt
    if (this.#settings.keepIdToken && typeof idToken === 'string') kept.idt = idToken
    if (!this.#settings.tokens) return kept
    kept.sub = sub
    kept.accessToken = tokens.access_token
    kept.accessTokenIssuedAt = this.#context.now()
    if (typeof tokens.expires_in === 'number') kept.accessTokenExpiresAt = kept.accessTokenIssuedAt + tokens.expires_in * 1000
    // RFC 6749 §6: a new refresh token replaces the old one (rotation); none means keep the old.
    const refreshToken = tokens.refresh_token ?? previous?.refreshToken
    if (typeof refreshToken === 'string') kept.refreshToken = refreshToken
    return kept
  }

  /** Renews the access token with the refresh token (see `ProviderInstance.refreshTokens`). */
  async #refreshTokens (state: ProviderSession): Promise<ProviderSession> {
    const { refreshToken, sub } = state
    if (typeof refreshToken !== 'string' || typeof sub !== 'string') {
      throw NoAccessTokenError('The access token has expired and the identity provider issued no refresh token (most IdPs issue one only for the "offline_access" scope, or when the client may use refresh tokens). Sign in again.')
    }
    const discovered = await this.#discover()
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>
    try {
      tokens = (await this.#grant(discovered, refreshToken, (config) => client.refreshTokenGrant(config, refreshToken))).result
    } catch (err) {
      throw mapRefreshError(err)
    }
    // OIDC Core §12.2: a refreshed ID token is for the same user (openid-client checks iss, aud, exp).
    const claims = tokens.claims()
    if (claims && claims.sub !== sub) throw RefreshRefusedError('The identity provider renewed the tokens for another user (a different sub).')
    return this.#keptTokens(tokens, sub, state)
  }

  /** Revokes the refresh token (or the access token) at the IdP's revocation endpoint, if it has one. */
  async #revokeTokens (state: ProviderSession): Promise<void> {
    const token = typeof state.refreshToken === 'string' ? state.refreshToken : state.accessToken
    if (typeof token !== 'string') return
    const config = await this.#discover()
    if (!serverMetadata(config).revocation_endpoint) return
    try {
      await client.tokenRevocation(config, token, { token_type_hint: token === state.refreshToken ? 'refresh_token' : 'access_token' })
    } catch (err) {
      throw mapOidcError(err, 'token revocation')
    }
  }

  /**
   * `userinfo: true` always calls the user-info endpoint. Otherwise it is called only when the ID
   * token lacks what a requested scope promises for the user's fields (OIDC Core §5.4): some IdPs
   * put email and names only in the user-info answer, and a user signed in with `email: ''`
   * would be worse than one more request. `email_verified` alone missing does not count: IdPs
   * that omit it (Entra ID) omit it from user-info too.
   */
  #needsUserinfo (claims: client.IDToken, config: client.Configuration): boolean {
    if (this.#settings.userinfo) return true
    const missing = this.#settings.scopes.some(scope => {
      const promised = promisedClaims[scope]
      return promised !== undefined && !promised.some(name => typeof claims[name] === 'string' && claims[name] !== '')
    })
    if (missing && !serverMetadata(config).userinfo_endpoint) {
      this.#context.log.info('fastify-sso: the ID token lacks the claims of the requested scopes and the IdP has no user-info endpoint')
      return false
    }
    return missing
  }

  /** Checks openid-client leaves to the caller. */
  #checkClaims (claims: client.IDToken): void {
    const now = Math.floor(this.#context.now() / 1000)
    if (typeof claims.iat !== 'number' || claims.iat > now + clockToleranceSeconds) {
      throw TokenRejectedError('The ID token was issued in the future (iat); check the clocks of the IdP and this server.')
    }
    if (claims.iat < now - maxIdTokenAgeSeconds) {
      throw TokenRejectedError('The ID token was issued more than 10 minutes ago (iat).')
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) {
      throw TokenRejectedError('The ID token\'s sub claim must be 1 to 255 characters.')
    }
  }

  /**
   * Back-channel logout tokens come server to server, outside any code exchange: their signature
   * is checked against the OP's JWKS with jose (same pinned algorithm; a new `kid` triggers a
   * refetch, at most once a second since anyone can post to this route).
   */
  async verifyLogoutToken (token: string): Promise<LogoutTokenClaims> {
    const metadata = serverMetadata(await this.#discover())
    this.#logoutKeys ??= remoteKeySet(new URL(metadata.jwks_uri!), this.#idp)
    return verifyLogoutToken(token, {
      issuer: metadata.issuer,
      clientId: this.#settings.clientId,
      algorithm: this.#settings.alg,
      keys: this.#logoutKeys,
      now: this.#context.now
    })
  }

  async logoutUrl (session: ProviderSession | undefined, postLogoutRedirectUri: string): Promise<URL | null> {
    const config = await this.#discover()
    if (!serverMetadata(config).end_session_endpoint) return null
    // `state` is optional (RP-Initiated Logout §2) but some IdPs honour post_logout_redirect_uri
    // only with it; nothing checks it on the way back (the session has already ended here).
    const parameters: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, client_id: this.#settings.clientId, state: randomId() }
    if (typeof session?.idt === 'string') parameters.id_token_hint = session.idt
    return client.buildEndSessionUrl(config, parameters)
  }
}

/** A token endpoint answer, kept to be validated again (see `#exchangeConfig`). */
interface TokenResponse { status: number, contentType: string, body: string }

/**
 * Per scope, the claims the user's fields come from: when the ID token has none of them, they
 * are fetched from user-info (see `#needsUserinfo`).
 */
const promisedClaims: Record<string, readonly string[] | undefined> = {
  email: ['email'],
  profile: ['name', 'given_name', 'family_name']
}

/**
 * What a token request's answer is kept under while it is validated: the PKCE verifier of a code
 * exchange (unique to one login and secret, unlike the code), or the refresh token being spent.
 */
function responseKey (body: URLSearchParams): string | null {
  return body.get('code_verifier') ?? (body.get('grant_type') === 'refresh_token' ? body.get('refresh_token') : null)
}

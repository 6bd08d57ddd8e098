/**
 * SAML 2.0 service provider on @node-saml/node-saml (≥ 5.1: earlier versions read assertions from
 * unsigned parts of the document, the 2025 signature-wrapping CVEs).
 *
 * - `/login` sends the browser to the IdP's SSO URL with an AuthnRequest (HTTP-Redirect binding,
 *   signed when `sp.privateKey` is set) whose ID is derived from the transaction, and our state
 *   as RelayState. The AuthnRequest ID is never stored: the transaction cookie holds the nonce it
 *   comes from, so the answer must carry this browser's own request id (no login CSRF even for a
 *   response that is valid in every other way).
 * - The IdP posts `SAMLResponse` + `RelayState` to the callback (the plugin brings cross-site
 *   posts back to the same site first, see src/routes/post-back.ts); saml-response.ts verifies it.
 * - Each assertion id is accepted once, across instances (the store).
 * - Logout: a LogoutRequest to the IdP's SLO URL when it has one; its LogoutResponse comes back to
 *   `{prefix}/saml/logout`.
 */
import { inflateRawSync } from 'node:zlib'
import { SAML, generateServiceProviderMetadata, type CacheProvider, type SamlConfig } from '@node-saml/node-saml'
import { definedFields } from '../defined-fields.ts'
import { IdpError, InvalidCallbackError, TokenRejectedError, TransactionMissingError } from '../errors.ts'
import { booleanOption, optionError, optionsObject, providerName } from '../option-checks.ts'
import { sha256 } from '../crypto.ts'
import { firstUse } from '../store/single-use.ts'
import type { ClaimNames } from './kit/profile.ts'
import { idpTarget } from './kit/idp-trace.ts'
import type {
  CallbackRequest, LoginTransaction, ProviderContext, ProviderInstance, ProviderSession, SignIn, SsoProvider
} from './provider.ts'
import { attributeNames, samlUser, type SamlAttributeNames } from './saml-attributes.ts'
import { certificatePem, idpSource, type IdpSettings, type IdpSource, type SamlIdpOptions } from './saml-idp.ts'
import { verifySamlResponse } from './saml-response.ts'
import { maxXmlBytes, ns, onlyChild, parseXml, text } from './saml-xml.ts'
import { createPrivateKey } from 'node:crypto'

export type { SamlIdpOptions } from './saml-idp.ts'
export type { SamlAttributeNames } from './saml-attributes.ts'

/** The service provider's own identity (`samlProvider({ sp })`). */
export interface SamlSpOptions {
  /** This app's entity id (default: the metadata URL, `{baseUrl}{prefix}/saml/metadata`). */
  entityId?: string
  /** PEM private key: signs AuthnRequests and LogoutRequests, decrypts encrypted assertions. */
  privateKey?: string
  /** PEM certificate of `privateKey`, published in the SP metadata (required with `privateKey`). */
  certificate?: string
}

/** Options of {@link samlProvider}. */
export interface SamlProviderOptions {
  /** The IdP: `{ metadata }` (XML), `{ metadataUrl }`, or `{ entityId, ssoUrl, certificates, sloUrl? }`. */
  idp: SamlIdpOptions
  sp?: SamlSpOptions
  /** Accept responses the IdP sends without a login started here (default false; see docs/saml.md). */
  allowIdpInitiated?: boolean
  /** Attribute names for the user fields; defaults cover Okta, Entra ID, ADFS, Google and Shibboleth. */
  attributes?: SamlAttributeNames
  /** Accept SHA-1 signatures from a legacy IdP (default false). */
  allowSha1?: boolean
  /** Name in `user.provider` (default `saml`). */
  name?: string
}

interface Settings {
  idp: IdpSource
  spEntityId: string | undefined
  privateKey: string | undefined
  certificate: string | undefined
  allowIdpInitiated: boolean
  allowSha1: boolean
  names: ClaimNames
  name: string
}

const knownOptions = ['idp', 'sp', 'allowIdpInitiated', 'attributes', 'allowSha1', 'name']
/** A LogoutRequest's id is remembered this long, for its LogoutResponse. */
const logoutRequestTtlMs = 10 * 60_000

function validate (options: SamlProviderOptions, context: ProviderContext): Settings {
  optionsObject('samlProvider', options, knownOptions, '{ idp: { metadataUrl } } (or { metadata } / { entityId, ssoUrl, certificates })')
  const sp = optionsObject<SamlSpOptions>('samlProvider.sp', options.sp ?? {}, ['entityId', 'privateKey', 'certificate'], '{ entityId?, privateKey?, certificate? }')
  if (sp.entityId !== undefined && (typeof sp.entityId !== 'string' || sp.entityId.length === 0 || sp.entityId.length > 1024)) {
    throw optionError('samlProvider.sp.entityId', 'must be a non-empty string (a URI such as https://app.example.com/auth/saml/metadata).')
  }
  if ((sp.privateKey === undefined) !== (sp.certificate === undefined)) {
    throw optionError('samlProvider.sp.privateKey', 'and sp.certificate go together: the certificate of the key is what the IdP is given (in the SP metadata).')
  }
  if (sp.privateKey !== undefined) {
    try {
      if (createPrivateKey(String(sp.privateKey)).asymmetricKeyType !== 'rsa') throw new Error('not RSA')
    } catch {
      throw optionError('samlProvider.sp.privateKey', 'must be an RSA private key in PEM (-----BEGIN PRIVATE KEY-----).')
    }
    try {
      certificatePem(String(sp.certificate))
    } catch {
      throw optionError('samlProvider.sp.certificate', 'must be an X.509 certificate in PEM (-----BEGIN CERTIFICATE-----).')
    }
  }
  const name = providerName('samlProvider.name', options.name, 'saml')
  return {
    idp: idpSource(options.idp, context.now, idpTarget(name, context.connectionId)),
    spEntityId: sp.entityId,
    privateKey: sp.privateKey,
    certificate: sp.certificate === undefined ? undefined : certificatePem(sp.certificate),
    allowIdpInitiated: booleanOption('samlProvider.allowIdpInitiated', options.allowIdpInitiated),
    allowSha1: booleanOption('samlProvider.allowSha1', options.allowSha1),
    names: attributeNames(options.attributes),
    name
  }
}

/**
 * A SAML 2.0 identity provider (Okta, Microsoft Entra ID, ADFS, Google Workspace, Shibboleth,
 * PingFederate…), without a broker. docs/saml.md says what to enter at each IdP.
 *
 * @example
 * ```ts
 * await app.register(ssoPlugin, {
 *   baseUrl: 'https://app.example.com',
 *   provider: samlProvider({ idp: { metadataUrl: 'https://login.microsoftonline.com/<tenant>/federationmetadata/2007-06/federationmetadata.xml?appid=<app>' } }),
 *   session: { secret: process.env.SESSION_SECRET },
 * })
 * // At the IdP: ACS URL https://app.example.com/auth/callback,
 * // entity id and metadata https://app.example.com/auth/saml/metadata
 * ```
 */
export function samlProvider (options: SamlProviderOptions): SsoProvider {
  return {
    name: 'saml',
    setup: (context) => new SamlProvider(validate(options, context), context)
  }
}

class SamlProvider implements ProviderInstance {
  readonly name: string
  readonly callbackMethods = ['POST'] as const
  readonly stateParam = 'RelayState'
  readonly acceptsUnsolicited: boolean
  readonly #settings: Settings
  readonly #context: ProviderContext
  /** The assertion consumer service: the callback URL (with its query, e.g. a connection's). */
  readonly #acsUrl: string
  readonly #logoutUrl: string
  readonly #entityId: string
  readonly #logoutRequests: CacheProvider

  constructor (settings: Settings, context: ProviderContext) {
    this.#settings = settings
    this.#context = context
    this.name = settings.name
    this.acceptsUnsolicited = settings.allowIdpInitiated
    this.#acsUrl = context.redirectUri
    this.#logoutUrl = sibling(context.redirectUri, '/saml/logout')
    this.#entityId = settings.spEntityId ?? sibling(context.redirectUri, '/saml/metadata')
    this.#logoutRequests = storeCache(context)
  }

  #saml (idp: IdpSettings, extra: Partial<SamlConfig> = {}): SAML {
    const { privateKey, certificate } = this.#settings
    return new SAML({
      callbackUrl: this.#acsUrl,
      issuer: this.#entityId,
      audience: this.#entityId,
      entryPoint: idp.ssoUrl,
      logoutUrl: idp.sloUrl ?? idp.ssoUrl,
      logoutCallbackUrl: this.#logoutUrl,
      idpCert: idp.certificates,
      idpIssuer: idp.entityId,
      // No NameIDPolicy format and no RequestedAuthnContext: IdPs answer with their configured
      // format, and an MFA login does not fail a "password" authentication context.
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      ...(privateKey ? { privateKey, publicCert: certificate, decryptionPvk: privateKey } : {}),
      ...extra
    })
  }

  async authorizationUrl (transaction: LoginTransaction): Promise<URL> {
    const idp = await this.#settings.idp.get()
    const saml = this.#saml(idp, { generateUniqueId: () => authnRequestId(transaction) })
    return new URL(await saml.getAuthorizeUrlAsync(transaction.state, undefined, {}))
  }

  async callback (request: CallbackRequest): Promise<SignIn> {
    if (request.method !== 'POST') throw InvalidCallbackError('SAML responses arrive by POST (HTTP-POST binding); check the ACS binding at the IdP.')
    const encoded = request.params.SAMLResponse
    if (!encoded) throw InvalidCallbackError('The identity provider\'s answer has no SAMLResponse.')
    const transaction = request.transaction
    if (!transaction && !this.acceptsUnsolicited) throw TransactionMissingError()
    const expectations = {
      spEntityId: this.#entityId,
      acsUrl: this.#acsUrl,
      inResponseTo: transaction ? authnRequestId(transaction) : null,
      now: this.#context.now(),
      allowSha1: this.#settings.allowSha1,
      decryptionKey: this.#settings.privateKey,
      log: this.#context.log
    }
    const idp = await this.#settings.idp.get()
    let assertion
    try {
      assertion = await verifySamlResponse(encoded, { ...expectations, idp })
    } catch (err) {
      // A signature by a certificate we do not know: the IdP may have rotated. Fetch its
      // metadata again (at most once a minute, whoever posts) and verify once more.
      if (!/not validly signed/.test((err as Error).message)) throw err
      const fresh = await this.#settings.idp.get({ refresh: true })
      if (fresh === idp) throw err
      assertion = await verifySamlResponse(encoded, { ...expectations, idp: fresh })
    }
    const key = `saml:assertion:${sha256(`${assertion.issuer}\n${assertion.id}`)}`
    if (!await firstUse(this.#context.store, key, assertion.usableUntil - this.#context.now(), this.#context.log)) {
      throw TokenRejectedError('This assertion was already used to sign in (replay).')
    }
    const signIn: SignIn = { user: samlUser(assertion, this.#settings.names, this.name) }
    if (assertion.nameId) signIn.session = definedFields({ n: assertion.nameId, f: assertion.nameIdFormat, s: assertion.sessionIndex, q: assertion.nameQualifier, sq: assertion.spNameQualifier })
    return signIn
  }

  async samlMetadata (): Promise<string> {
    const { privateKey, certificate } = this.#settings
    return generateServiceProviderMetadata({
      issuer: this.#entityId,
      callbackUrl: this.#acsUrl,
      logoutCallbackUrl: this.#logoutUrl,
      wantAssertionsSigned: true,
      identifierFormat: null,
      ...(privateKey ? { privateKey, publicCerts: certificate, decryptionPvk: privateKey, decryptionCert: certificate, signatureAlgorithm: 'sha256' as const } : {})
    })
  }

  async logoutUrl (session: ProviderSession | undefined): Promise<URL | null> {
    if (typeof session?.n !== 'string') return null
    const idp = await this.#settings.idp.get()
    if (!idp.sloUrl) return null
    const saml = this.#saml(idp, { cacheProvider: this.#logoutRequests })
    const profile = { issuer: idp.entityId, nameID: session.n, nameIDFormat: str(session.f) ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', sessionIndex: str(session.s), nameQualifier: str(session.q), spNameQualifier: str(session.sq) }
    return new URL(await saml.getLogoutUrlAsync(profile, '', {}))
  }

  /**
   * The IdP's answer to our LogoutRequest (HTTP-Redirect or HTTP-POST binding). The session is
   * already over here; this only tells whether the IdP ended its own, so it throws `IdpError`
   * when the answer is not a success for a LogoutRequest we sent.
   */
  async samlLogoutResponse (message: Omit<CallbackRequest, 'transaction'>): Promise<void> {
    const encoded = message.params.SAMLResponse
    if (!encoded) throw InvalidCallbackError('The identity provider\'s answer has no SAMLResponse.')
    const idp = await this.#settings.idp.get()
    const saml = this.#saml(idp, { cacheProvider: this.#logoutRequests })
    try {
      const doc = parseXml(message.method === 'GET' ? inflate(encoded) : Buffer.from(encoded, 'base64').toString('utf8'))
      // node-saml checks the signature (required for the POST binding, checked when present for
      // the redirect binding); the rest is checked here, the same way for both bindings.
      if (message.method === 'GET') await saml.validateRedirectAsync(message.params, message.url.search.slice(1))
      else await saml.validatePostResponseAsync({ SAMLResponse: encoded })
      const root = doc.documentElement
      const status = onlyChild(onlyChild(root, ns.protocol, 'Status') ?? root, ns.protocol, 'StatusCode')?.getAttribute('Value')
      if (root.localName !== 'LogoutResponse' || root.namespaceURI !== ns.protocol) throw new Error('not a LogoutResponse')
      if (status !== 'urn:oasis:names:tc:SAML:2.0:status:Success') throw new Error(`status ${status}`)
      const issuer = onlyChild(root, ns.assertion, 'Issuer')
      if (issuer && text(issuer) !== idp.entityId) throw new Error('another issuer')
      const inResponseTo = root.getAttribute('InResponseTo') ?? ''
      if (!inResponseTo || await this.#logoutRequests.getAsync(inResponseTo) === null) throw new Error('answers no LogoutRequest of ours')
      await this.#logoutRequests.removeAsync(inResponseTo)
    } catch (err) {
      this.#context.log.info({ reason: (err as Error)?.message }, 'fastify-sso: SAML LogoutResponse refused')
      throw IdpError('You are signed out of this application, but the identity provider did not confirm ending its own session. Sign out there too if you share this computer.')
    }
  }
}

/** The AuthnRequest ID for a transaction: from its nonce (random, kept in the encrypted cookie). */
function authnRequestId (transaction: LoginTransaction): string {
  return `_${sha256(`saml-authn-request:${transaction.nonce}`)}`
}

/** `{prefix}/callback?x` → `{prefix}/saml/metadata?x` (same query: a connection's id). */
function sibling (callbackUrl: string, path: string): string {
  const url = new URL(callbackUrl)
  url.pathname = url.pathname.replace(/\/callback$/, path)
  return url.href
}

/** node-saml's request-id cache on the plugin's store (logout requests, across instances). */
function storeCache (context: ProviderContext): CacheProvider {
  const key = (id: string) => `saml:logout-request:${sha256(id)}`
  return {
    async saveAsync (id, value) {
      await context.store.set(key(id), value, logoutRequestTtlMs)
      return { value, createdAt: context.now() }
    },
    async getAsync (id) {
      return context.store.get(key(id))
    },
    async removeAsync (id) {
      if (id) await context.store.delete(key(id))
      return id
    }
  }
}

function inflate (encoded: string): string {
  try {
    return inflateRawSync(Buffer.from(encoded, 'base64'), { maxOutputLength: maxXmlBytes }).toString('utf8')
  } catch {
    throw new Error('not a deflated SAML message')
  }
}

function str (value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}


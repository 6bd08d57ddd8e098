/**
 * The identity provider a SAML service provider trusts: its entity id, its single sign-on and
 * single logout URLs (HTTP-Redirect binding), and its signing certificates, from metadata XML, a
 * metadata URL (fetched on first use, cached, refreshed) or explicit fields.
 *
 * Several certificates at once are normal: during a rotation the IdP publishes the old and the new
 * one, and a signature by either is accepted.
 */
import { X509Certificate } from 'node:crypto'
import { IdpUnavailableError } from '../errors.ts'
import { optionError, optionsObject, parseHttpUrl, requiredString } from '../option-checks.ts'
import { idpCall, idpRequestTimeoutMs } from './kit/idp-call.ts'
import { children, descendants, ns, parseXml, text } from './saml-xml.ts'

/** Where the IdP's settings come from (`samlProvider({ idp })`). */
export type SamlIdpOptions =
  | { metadata: string, entityId?: string }
  | { metadataUrl: string, entityId?: string }
  | { entityId: string, ssoUrl: string, certificates: string[], sloUrl?: string }

/** The IdP's settings, ready to use. */
export interface IdpSettings {
  entityId: string
  ssoUrl: string
  sloUrl: string | undefined
  /** PEM certificates; a signature by any of them is accepted. */
  certificates: string[]
}

const redirectBinding = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'
/** Largest metadata document read (one IdP's metadata is a few KB; federation aggregates are not supported). */
const maxMetadataBytes = 1024 * 1024
/** A fetched metadata document is used this long before it is fetched again. */
export const metadataRefreshMs = 60 * 60_000
/** After a signature by an unknown certificate, the metadata is fetched again at most this often. */
const forcedRefreshMs = 60_000

/** Normalises a certificate given as PEM or bare base64 into PEM; throws when it is not one. */
export function certificatePem (value: string): string {
  const body = value.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
  const pem = `-----BEGIN CERTIFICATE-----\n${body.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`
  new X509Certificate(pem) // eslint-disable-line no-new -- throws for anything that is not a certificate
  return pem
}

/**
 * Reads an IdP's metadata (an `EntityDescriptor`, or an `EntitiesDescriptor` from which `entityId`
 * picks one). Throws an Error whose message says what is missing.
 */
export function parseIdpMetadata (xml: string, entityId?: string): IdpSettings {
  const doc = parseXml(xml, maxMetadataBytes)
  const entities = descendants(doc, ns.metadata, 'EntityDescriptor').filter(entity => children(entity, ns.metadata, 'IDPSSODescriptor').length > 0)
  const entity = entityId ? entities.find(candidate => candidate.getAttribute('entityID') === entityId) : entities.length === 1 ? entities[0] : undefined
  if (!entity) {
    throw new Error(entityId
      ? `it describes no identity provider with entityID ${JSON.stringify(entityId)}`
      : entities.length === 0 ? 'it describes no identity provider (no IDPSSODescriptor)' : 'it describes several identity providers: give idp.entityId to pick one')
  }
  const descriptor = children(entity, ns.metadata, 'IDPSSODescriptor')[0]!
  const endpoint = (name: string) => children(descriptor, ns.metadata, name).find(service => service.getAttribute('Binding') === redirectBinding)?.getAttribute('Location') ?? undefined
  const ssoUrl = endpoint('SingleSignOnService')
  if (!ssoUrl) throw new Error('it has no SingleSignOnService with the HTTP-Redirect binding')
  const certificates = children(descriptor, ns.metadata, 'KeyDescriptor')
    .filter(key => (key.getAttribute('use') ?? 'signing') !== 'encryption')
    .flatMap(key => descendants(key, ns.dsig, 'X509Certificate').map(text))
    .filter(Boolean)
  if (certificates.length === 0) throw new Error('it lists no signing certificate (KeyDescriptor use="signing")')
  return { entityId: entity.getAttribute('entityID') ?? '', ssoUrl, sloUrl: endpoint('SingleLogoutService'), certificates: [...new Set(certificates)].map(certificatePem) }
}

/** The IdP settings, now or after fetching them. */
export interface IdpSource {
  /** The settings; `refresh` asks for newer metadata (a signature by a certificate we do not know). */
  get(options?: { refresh?: boolean }): Promise<IdpSettings>
}

/** Checks `samlProvider({ idp })` at register and returns where the settings come from. */
export function idpSource (value: unknown, now: () => number): IdpSource {
  const option = 'samlProvider.idp'
  const idp = optionsObject<Record<string, unknown>>(option, value, ['metadata', 'metadataUrl', 'entityId', 'ssoUrl', 'certificates', 'sloUrl'], '{ metadata } (XML), { metadataUrl } or { entityId, ssoUrl, certificates }')
  const entityId = idp.entityId === undefined ? undefined : requiredString(`${option}.entityId`, idp.entityId, 'the IdP\'s entity id (Issuer)')
  if (idp.metadata !== undefined || idp.metadataUrl !== undefined) {
    const extra = ['ssoUrl', 'certificates', 'sloUrl'].find(key => idp[key] !== undefined)
    if (extra) throw optionError(`${option}.${extra}`, 'comes from the metadata: give either metadata / metadataUrl or the explicit fields, not both.')
  }
  if (idp.metadata !== undefined) {
    const xml = requiredString(`${option}.metadata`, idp.metadata, 'the IdP\'s metadata XML')
    let settings: IdpSettings
    try {
      settings = parseIdpMetadata(xml, entityId)
    } catch (err) {
      throw optionError(`${option}.metadata`, `is not usable IdP metadata: ${(err as Error).message}.`)
    }
    return { get: async () => settings }
  }
  if (idp.metadataUrl !== undefined) return new MetadataUrlSource(parseHttpUrl(`${option}.metadataUrl`, idp.metadataUrl), entityId, now)
  if (entityId === undefined) throw optionError(option, 'needs { metadata } (XML), { metadataUrl } or { entityId, ssoUrl, certificates }.')
  const ssoUrl = parseHttpUrl(`${option}.ssoUrl`, idp.ssoUrl).href
  const sloUrl = idp.sloUrl === undefined ? undefined : parseHttpUrl(`${option}.sloUrl`, idp.sloUrl).href
  const list = idp.certificates
  if (!Array.isArray(list) || list.length === 0) throw optionError(`${option}.certificates`, 'is required: the IdP\'s signing certificates (PEM), one or more (several during a rotation).')
  const certificates = list.map((certificate, index) => {
    try {
      return certificatePem(String(certificate))
    } catch {
      throw optionError(`${option}.certificates[${index}]`, 'is not an X.509 certificate (PEM, -----BEGIN CERTIFICATE-----).')
    }
  })
  const settings: IdpSettings = { entityId, ssoUrl, sloUrl, certificates }
  return { get: async () => settings }
}

/**
 * Metadata fetched on first use and kept for an hour; a failed refresh keeps the last good
 * settings (an IdP's metadata endpoint being down must not stop its logins), a first fetch that
 * fails or takes longer than 10 s is a 502. Concurrent callers share one fetch.
 */
class MetadataUrlSource implements IdpSource {
  readonly #url: URL
  readonly #entityId: string | undefined
  readonly #now: () => number
  #settings: IdpSettings | undefined
  #fetchedAt = 0
  #pending: Promise<IdpSettings> | undefined

  constructor (url: URL, entityId: string | undefined, now: () => number) {
    this.#url = url
    this.#entityId = entityId
    this.#now = now
  }

  async get (options: { refresh?: boolean } = {}): Promise<IdpSettings> {
    const age = this.#now() - this.#fetchedAt
    const stale = !this.#settings || age >= metadataRefreshMs || (options.refresh === true && age >= forcedRefreshMs)
    if (!stale) return this.#settings!
    this.#pending ??= this.#fetch().finally(() => { this.#pending = undefined })
    try {
      return await this.#pending
    } catch (err) {
      if (this.#settings) return this.#settings
      throw err
    }
  }

  async #fetch (): Promise<IdpSettings> {
    const where = `The identity provider's metadata (${this.#url.href})`
    const xml = await idpCall(async () => {
      const response = await fetch(this.#url, { signal: AbortSignal.timeout(idpRequestTimeoutMs), headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } })
      if (!response.ok) throw new Error(`HTTP ${response.status}`)
      const body = await response.text()
      if (Buffer.byteLength(body) > maxMetadataBytes) throw new Error('larger than 1 MB')
      return body
    }, (err) => IdpUnavailableError(`${where} could not be fetched: ${(err as Error)?.message ?? 'no answer within 10 seconds'}.`))
    let settings: IdpSettings
    try {
      settings = parseIdpMetadata(xml, this.#entityId)
    } catch (err) {
      throw IdpUnavailableError(`${where} is not usable: ${(err as Error).message}.`)
    }
    this.#settings = settings
    this.#fetchedAt = this.#now()
    return settings
  }
}

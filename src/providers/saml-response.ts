/**
 * Verifying a SAMLResponse posted to the assertion consumer service.
 *
 * Three layers, each of which alone refuses the known attacks:
 * 1. Before any signature work, on the raw message: size (256 KB), no DTD or entity declarations,
 *    exactly one assertion in the whole document (signature wrapping always adds a second one:
 *    the signed original must stay to keep its signature valid), no comment inside the assertion
 *    (the NameID truncation trick), and only SHA-256/512 signature and digest algorithms.
 * 2. node-saml ≥ 5.1 verifies the signature against the IdP's certificates and hands back only the
 *    bytes that were signed (its fix of the 2025 wrapping CVEs: nothing is read from unsigned XML).
 * 3. On those signed bytes only: Issuer, Audience, the bearer confirmation's Recipient,
 *    InResponseTo and times (node-saml skips the last three when it is not tracking request ids
 *    itself), the Response's Destination, and the values the user is made of.
 */
import { promisify } from 'node:util'
import { SAML, SamlStatusError } from '@node-saml/node-saml'
import { decrypt } from 'xml-encryption'
import { IdpError, InvalidCallbackError, TokenRejectedError } from '../errors.ts'
import { clockToleranceSeconds } from './kit/jwt-keys.ts'
import type { IdpSettings } from './saml-idp.ts'
import { children, descendants, hasComment, maxXmlBytes, ns, onlyChild, parseXml, text, XmlRefusal } from './saml-xml.ts'

/** What the response must match. */
export interface ResponseExpectations {
  idp: IdpSettings
  spEntityId: string
  /** The assertion consumer service URL (Destination and Recipient). */
  acsUrl: string
  /** The pending AuthnRequest's ID, or `null` for an unsolicited (IdP-initiated) response. */
  inResponseTo: string | null
  /** Epoch milliseconds. */
  now: number
  allowSha1: boolean
  /** The SP's private key, for encrypted assertions. */
  decryptionKey: string | undefined
  /** Where node-saml's own reasons are logged (they may name values; the user gets a summary). */
  log: { info (details: object, message: string): void }
}

/** A verified assertion: what the user and the session are made of. */
export interface VerifiedAssertion {
  id: string
  issuer: string
  nameId: string | undefined
  nameIdFormat: string | undefined
  nameQualifier: string | undefined
  spNameQualifier: string | undefined
  sessionIndex: string | undefined
  /** Attribute name → value (several values → a list). */
  attributes: Record<string, string | string[]>
  /** Epoch ms after which the assertion is useless anyway (the replay cache keeps its id until then). */
  usableUntil: number
}

const skewMs = clockToleranceSeconds * 1000
const bearer = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'
const success = 'urn:oasis:names:tc:SAML:2.0:status:Success'
const strongSignatures = [
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1'
]
const strongDigests = ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']
const sha1Signature = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'
const sha1Digest = 'http://www.w3.org/2000/09/xmldsig#sha1'
const decryptXml = promisify(decrypt) as (xml: string, options: { key: string }) => Promise<string>

/**
 * Verifies a base64 `SAMLResponse` and returns its one assertion, or throws a coded error:
 * malformed → `InvalidCallbackError` (400); the IdP's own error status → `IdpError` (400); anything
 * untrustworthy → `TokenRejectedError` (401).
 */
export async function verifySamlResponse (encoded: string, expected: ResponseExpectations): Promise<VerifiedAssertion> {
  const doc = decodeResponse(encoded)
  const response = doc.documentElement
  checkStatus(response)
  await checkShape(doc, expected)

  const saml = new SAML({
    callbackUrl: expected.acsUrl,
    issuer: expected.spEntityId,
    audience: expected.spEntityId,
    idpCert: expected.idp.certificates,
    idpIssuer: expected.idp.entityId,
    // Either signature suffices (the assertion's, or the response's over its only assertion);
    // the checks below read nothing but the signed bytes node-saml returns.
    wantAssertionsSigned: false,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: skewMs,
    ...(expected.decryptionKey ? { decryptionPvk: expected.decryptionKey } : {})
  })
  let signedXml: string
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: encoded })
    if (!profile) throw new Error('no assertion')
    signedXml = profile.getAssertionXml!()
  } catch (err) {
    throw nodeSamlFailure(err, expected.log)
  }
  const assertion = parseXml(signedXml).documentElement as unknown as Element
  if (assertion.namespaceURI !== ns.assertion || assertion.localName !== 'Assertion') throw TokenRejectedError('The signed part of the SAML response is not its assertion.')
  checkResponseEnvelope(response, expected)
  return readAssertion(assertion, expected)
}

function decodeResponse (encoded: string): Document {
  const compact = encoded.replace(/\s+/g, '')
  if (compact.length > Math.ceil(maxXmlBytes / 3) * 4) throw TokenRejectedError(`The SAML response is larger than ${maxXmlBytes / 1024} KB.`)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw InvalidCallbackError('The SAMLResponse parameter is not base64.')
  const doc = parse(Buffer.from(compact, 'base64').toString('utf8'))
  const root = doc.documentElement
  if (root.namespaceURI !== ns.protocol || root.localName !== 'Response') throw InvalidCallbackError('The SAMLResponse parameter is not a SAML Response.')
  return doc
}

function parse (xml: string): Document {
  try {
    return parseXml(xml)
  } catch (err) {
    if (err instanceof XmlRefusal && err.kind === 'unsafe') throw TokenRejectedError(`The SAML response was refused: ${err.message}`)
    throw InvalidCallbackError('The SAML response is not well-formed XML.')
  }
}

/** The IdP's own refusal (user cancelled, not assigned to the app…): its status, shown as it is. */
function checkStatus (response: Element): void {
  const code = onlyChild(response, ns.protocol, 'Status')
  const top = code && onlyChild(code, ns.protocol, 'StatusCode')
  const value = top?.getAttribute('Value') ?? ''
  if (value === success) return
  const detail = top && onlyChild(top, ns.protocol, 'StatusCode')?.getAttribute('Value')
  const message = code && text(onlyChild(code, ns.protocol, 'StatusMessage'))
  const name = (uri: string | null | undefined) => uri ? uri.slice(uri.lastIndexOf(':') + 1) : 'unknown status'
  throw IdpError(`The identity provider refused the sign-in (${[name(value), detail && name(detail), message].filter(Boolean).join(', ')}).`.slice(0, 300))
}

/** Layer 1: what no genuine response from an IdP contains. */
async function checkShape (doc: Document, expected: ResponseExpectations): Promise<void> {
  // Counted by local name in any namespace, as node-saml selects them.
  const plain = descendants(doc, '*', 'Assertion')
  const encrypted = descendants(doc, '*', 'EncryptedAssertion')
  if (plain.length + encrypted.length === 0) throw TokenRejectedError('The SAML response contains no assertion.')
  if (plain.length + encrypted.length > 1) throw TokenRejectedError('The SAML response contains more than one assertion (signature wrapping?).')
  if ((plain[0] ?? encrypted[0])!.namespaceURI !== ns.assertion) throw TokenRejectedError('The SAML response\'s assertion is not a SAML 2.0 assertion.')
  checkAlgorithms(doc, expected.allowSha1)
  if (plain[0]) {
    if (hasComment(plain[0])) throw TokenRejectedError('The assertion contains an XML comment (a comment inside the NameID can change whose identity is read).')
    return
  }
  // An encrypted assertion carries its own signature: look inside it the same way.
  if (!expected.decryptionKey) throw TokenRejectedError('The assertion is encrypted, but this app has no sp.privateKey to decrypt it. Configure sp.privateKey and sp.certificate, or turn assertion encryption off at the IdP.')
  const data = onlyChild(encrypted[0]!, 'http://www.w3.org/2001/04/xmlenc#', 'EncryptedData')
  let inner: Document
  try {
    inner = parseXml(await decryptXml(String(data ?? encrypted[0]), { key: expected.decryptionKey }))
  } catch {
    throw TokenRejectedError('The encrypted assertion cannot be decrypted with this app\'s sp.privateKey (was it encrypted for another certificate?).')
  }
  if (descendants(inner, '*', 'Assertion').length !== 1 || inner.documentElement.namespaceURI !== ns.assertion) throw TokenRejectedError('The encrypted assertion does not hold exactly one assertion.')
  if (hasComment(inner.documentElement)) throw TokenRejectedError('The assertion contains an XML comment (a comment inside the NameID can change whose identity is read).')
  checkAlgorithms(inner, expected.allowSha1)
}

function checkAlgorithms (doc: Document, allowSha1: boolean): void {
  const signatures = allowSha1 ? [...strongSignatures, sha1Signature] : strongSignatures
  const digests = allowSha1 ? [...strongDigests, sha1Digest] : strongDigests
  // Only what signatures use: RSA-OAEP key transport has a DigestMethod of its own (SHA-1 there is fine).
  const signedInfos = descendants(doc, ns.dsig, 'SignedInfo')
  const used = (name: string) => signedInfos.flatMap(info => descendants(info, ns.dsig, name)).map(method => method.getAttribute('Algorithm') ?? '')
  const weak = [...used('SignatureMethod').filter(alg => !signatures.includes(alg)), ...used('DigestMethod').filter(alg => !digests.includes(alg))]
  if (weak.length === 0) return
  const sha1 = weak.every(alg => alg === sha1Signature || alg === sha1Digest)
  throw TokenRejectedError(sha1
    ? 'The SAML response is signed with SHA-1, which this app refuses: set the IdP to sign with SHA-256 (or, for a legacy IdP, samlProvider({ allowSha1: true })).'
    : `The SAML response uses a signature algorithm this app does not accept (${weak[0]}).`)
}

/** node-saml's failures: the IdP's status (400), everything else untrustworthy (401). */
function nodeSamlFailure (err: unknown, log: ResponseExpectations['log']): Error {
  if (err instanceof SamlStatusError) return IdpError(`The identity provider refused the sign-in: ${err.message}`.slice(0, 300))
  const reason = (err as Error)?.message ?? String(err)
  log.info({ reason }, 'fastify-sso: SAML response refused')
  if (/audience/i.test(reason)) return TokenRejectedError('The assertion is meant for another service provider (its Audience is not this app\'s entity id).')
  if (/expired|not yet valid/i.test(reason)) return TokenRejectedError('The assertion is expired or not yet valid (check the clocks of the IdP and this server).')
  if (/decrypt/i.test(reason)) return TokenRejectedError('The encrypted assertion cannot be decrypted with this app\'s sp.privateKey.')
  return TokenRejectedError('The SAML response is not validly signed by one of the identity provider\'s certificates (unsigned, altered, or signed with a key the IdP does not publish).')
}

/** The unsigned envelope around the assertion must not contradict it. */
function checkResponseEnvelope (response: Element, expected: ResponseExpectations): void {
  const destination = response.getAttribute('Destination')
  if (destination && destination !== expected.acsUrl) {
    throw TokenRejectedError(`The SAML response is addressed to ${destination}, not to this app's assertion consumer service (${expected.acsUrl}).`)
  }
  const issuer = onlyChild(response, ns.assertion, 'Issuer')
  if (issuer && text(issuer) !== expected.idp.entityId) throw TokenRejectedError('The SAML response comes from another identity provider (Issuer).')
  const inResponseTo = response.getAttribute('InResponseTo')
  if (inResponseTo && inResponseTo !== expected.inResponseTo) {
    throw TokenRejectedError('The SAML response answers another sign-in request than the one this browser started (InResponseTo).')
  }
}

/** Layer 3, on the signed assertion. */
function readAssertion (assertion: Element, expected: ResponseExpectations): VerifiedAssertion {
  const issuer = text(onlyChild(assertion, ns.assertion, 'Issuer'))
  if (issuer !== expected.idp.entityId) {
    throw TokenRejectedError(`The assertion was issued by ${JSON.stringify(issuer.slice(0, 200))}, not by the configured identity provider (${expected.idp.entityId}).`)
  }
  const id = assertion.getAttribute('ID') ?? ''
  if (!id || id.length > 256) throw TokenRejectedError('The assertion has no usable ID.')

  const conditions = children(assertion, ns.assertion, 'Conditions')
  if (conditions.length !== 1) throw TokenRejectedError('The assertion must have exactly one Conditions element.')
  const audiences = children(conditions[0]!, ns.assertion, 'AudienceRestriction').flatMap(restriction => children(restriction, ns.assertion, 'Audience').map(text))
  if (!audiences.includes(expected.spEntityId)) throw TokenRejectedError('The assertion is meant for another service provider (its Audience is not this app\'s entity id).')
  const conditionsUntil = checkWindow(conditions[0]!, expected.now, false)

  const subject = onlyChild(assertion, ns.assertion, 'Subject')
  if (!subject) throw TokenRejectedError('The assertion has no Subject.')
  const confirmedUntil = checkConfirmation(subject, expected)

  const nameIdElement = onlyChild(subject, ns.assertion, 'NameID')
  const attributes: Record<string, string | string[]> = Object.create(null)
  for (const statement of children(assertion, ns.assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, ns.assertion, 'Attribute')) {
      const name = attribute.getAttribute('Name')
      const values = children(attribute, ns.assertion, 'AttributeValue').map(text).filter(value => value.length > 0)
      if (!name || values.length === 0) continue
      const previous = attributes[name]
      const all = previous === undefined ? values : [...[previous].flat(), ...values]
      attributes[name] = all.length === 1 ? all[0]! : all
    }
  }
  const authn = children(assertion, ns.assertion, 'AuthnStatement')[0]
  return {
    id,
    issuer,
    nameId: nameIdElement ? text(nameIdElement) || undefined : undefined,
    nameIdFormat: nameIdElement?.getAttribute('Format') || undefined,
    nameQualifier: nameIdElement?.getAttribute('NameQualifier') || undefined,
    spNameQualifier: nameIdElement?.getAttribute('SPNameQualifier') || undefined,
    sessionIndex: authn?.getAttribute('SessionIndex') || undefined,
    attributes,
    usableUntil: Math.max(conditionsUntil ?? 0, confirmedUntil) + skewMs
  }
}

/** NotBefore / NotOnOrAfter with the clock tolerance; returns NotOnOrAfter (epoch ms) when present. */
function checkWindow (element: Element, now: number, required: boolean): number | undefined {
  const instant = (name: string) => {
    const value = element.getAttribute(name)
    if (!value) return undefined
    const ms = Date.parse(value)
    if (Number.isNaN(ms)) throw TokenRejectedError(`The assertion's ${name} is not a valid time.`)
    return ms
  }
  const notBefore = instant('NotBefore')
  const notOnOrAfter = instant('NotOnOrAfter')
  if (notBefore !== undefined && now + skewMs < notBefore) throw TokenRejectedError('The assertion is not valid yet (NotBefore; check the clocks of the IdP and this server).')
  if (notOnOrAfter === undefined && required) throw TokenRejectedError('The assertion\'s bearer confirmation has no NotOnOrAfter.')
  if (notOnOrAfter !== undefined && now - skewMs >= notOnOrAfter) throw TokenRejectedError('The assertion has expired (NotOnOrAfter).')
  return notOnOrAfter
}

/**
 * The Web SSO profile's bearer confirmation: Recipient is our ACS URL, the time window holds,
 * and InResponseTo names the AuthnRequest of this browser's pending login (none when unsolicited).
 */
function checkConfirmation (subject: Element, expected: ResponseExpectations): number {
  const confirmations = children(subject, ns.assertion, 'SubjectConfirmation').filter(confirmation => confirmation.getAttribute('Method') === bearer)
  if (confirmations.length !== 1) throw TokenRejectedError('The assertion must have exactly one bearer SubjectConfirmation.')
  const data = onlyChild(confirmations[0]!, ns.assertion, 'SubjectConfirmationData')
  if (!data) throw TokenRejectedError('The assertion\'s bearer confirmation has no SubjectConfirmationData.')
  const recipient = data.getAttribute('Recipient')
  if (recipient !== expected.acsUrl) {
    throw TokenRejectedError(`The assertion's Recipient (${String(recipient).slice(0, 200)}) is not this app's assertion consumer service (${expected.acsUrl}).`)
  }
  const inResponseTo = data.getAttribute('InResponseTo') || null
  if (expected.inResponseTo === null && inResponseTo !== null) {
    throw TokenRejectedError('The assertion answers a sign-in request this browser did not start (InResponseTo of another login).')
  }
  if (expected.inResponseTo !== null && inResponseTo === null) throw TokenRejectedError('The assertion has no InResponseTo, but this sign-in was started by the app.')
  if (expected.inResponseTo !== null && inResponseTo !== expected.inResponseTo) {
    throw TokenRejectedError('The assertion answers another sign-in request than the one this browser started (InResponseTo).')
  }
  return checkWindow(data, expected.now, true)!
}

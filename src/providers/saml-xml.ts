/**
 * Reading SAML XML safely: the namespaces, a strict parse that refuses document type declarations
 * (entity expansion, external entities) before any parser sees them, and namespace-aware lookups.
 * node-saml does the signature work; these helpers serve the checks around it and the metadata.
 */
import { DOMParser } from '@xmldom/xmldom'

export const ns = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#'
} as const

/** Largest SAML message or metadata document we read (a SAMLResponse with many groups is ~30 KB). */
export const maxXmlBytes = 256 * 1024

/** Why an XML document was refused: `shape` (malformed, 400) or `unsafe` (DTD, size; 401). */
export class XmlRefusal extends Error {
  readonly kind: 'shape' | 'unsafe'
  constructor (kind: 'shape' | 'unsafe', message: string) {
    super(message)
    this.kind = kind
  }
}

/**
 * Parses XML, refusing what SAML never needs: a DOCTYPE or entity declaration (billion laughs,
 * external entities), more than {@link maxXmlBytes}, or anything the parser reports as an error.
 */
export function parseXml (xml: string, limit = maxXmlBytes): Document {
  if (Buffer.byteLength(xml) > limit) throw new XmlRefusal('unsafe', `The XML is larger than ${limit / 1024} KB.`)
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new XmlRefusal('unsafe', 'The XML contains a document type or entity declaration, which SAML never needs.')
  const problems: string[] = []
  const report = (message: string) => { problems.push(message) }
  const doc = new DOMParser({ errorHandler: { warning: () => {}, error: report, fatalError: report } }).parseFromString(xml, 'text/xml')
  if (problems.length > 0 || !doc?.documentElement) throw new XmlRefusal('shape', 'The XML is malformed.')
  return doc as unknown as Document
}

/** Child elements of `parent` in namespace `namespace` named `localName` (direct children only). */
export function children (parent: Node, namespace: string, localName: string): Element[] {
  const found: Element[] = []
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).namespaceURI === namespace && (node as Element).localName === localName) found.push(node as Element)
  }
  return found
}

/** The single child element, or undefined when there is none; more than one is `undefined` too. */
export function onlyChild (parent: Node, namespace: string, localName: string): Element | undefined {
  const found = children(parent, namespace, localName)
  return found.length === 1 ? found[0] : undefined
}

/** Every element below `root` (at any depth) in `namespace` (`*`: any) named `localName`. */
export function descendants (root: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(namespace, localName) as ArrayLike<Element>)
}

/** Whether any comment node sits below `root`. */
export function hasComment (root: Node): boolean {
  for (let node = root.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 8 || hasComment(node)) return true
  }
  return false
}

/** The element's text, trimmed. */
export function text (element: Element | undefined): string {
  return (element?.textContent ?? '').trim()
}

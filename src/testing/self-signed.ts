/**
 * A self-signed X.509 certificate and its RSA key, for the development SAML IdP and for tests
 * (SAML exchanges signing and encryption keys as certificates).
 *
 * Written here rather than taken from a library: Node can create keys but not certificates, and a
 * self-signed RSA certificate is one fixed DER structure (RFC 5280 §4.1), a few dozen lines, where
 * the PKI libraries that issue certificates would add a dependency tree to every app that tests
 * with the development IdP. `crypto.X509Certificate` parses the result, which the tests check.
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto'

/** A private key and the self-signed certificate of its public key, both PEM. */
export interface SelfSignedCertificate {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  privateKey: string
  /** PEM (`-----BEGIN CERTIFICATE-----`). */
  certificate: string
}

/** Options of {@link selfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Subject and issuer common name (default `fastify-sso development`). */
  commonName?: string
  /** Days of validity from now (default 365). */
  days?: number
  /** RSA modulus length (default 2048). */
  modulusLength?: number
}

/**
 * A new RSA key and a self-signed certificate for it (SHA-256), for SAML tests and development
 * (`samlProvider({ sp: { privateKey, certificate } })`). In production, use a key your team keeps.
 *
 * @example
 * ```ts
 * import { selfSignedCertificate } from 'fastify-sso/testing'
 * const sp = selfSignedCertificate({ commonName: 'app.example.com' })
 * samlProvider({ idp: { metadataUrl }, sp: { privateKey: sp.privateKey, certificate: sp.certificate } })
 * ```
 */
export function selfSignedCertificate (options: SelfSignedOptions = {}): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 })
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8(options.commonName ?? 'fastify-sso development'))))
  const now = Date.now()
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // version 3
    integer(serialNumber()),
    sha256WithRsa,
    name,
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + (options.days ?? 365) * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' })
  )
  const certificate = sequence(tbs, sha256WithRsa, bitString(sign('sha256', tbs, privateKey)))
  const pem = `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`
  new X509Certificate(pem) // eslint-disable-line no-new -- fails loudly should the encoding ever be wrong
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certificate: pem }
}

// ── DER (ITU-T X.690), just what a certificate needs ───────────────────────────────────────

function tlv (tag: number, content: Buffer): Buffer {
  const length = content.length
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content])
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content])
}

function sequence (...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items))
}

function set (...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items))
}

function explicit (tagNumber: number, content: Buffer): Buffer {
  return tlv(0xa0 | tagNumber, content)
}

/** A non-negative INTEGER from big-endian bytes (a leading zero keeps it positive). */
function integer (bytes: Buffer): Buffer {
  return tlv(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes)
}

function oid (dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number)
  const bytes = [first! * 40 + second!]
  for (const arc of rest) {
    const chunk = [arc & 0x7f]
    for (let value = arc >>> 7; value > 0; value >>>= 7) chunk.unshift(0x80 | (value & 0x7f))
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

function utf8 (text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'))
}

function utcTime (date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z' // YYMMDDHHMMSSZ
  return tlv(0x17, Buffer.from(text, 'ascii'))
}

function bitString (bytes: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]))
}

/**
 * 16 random bytes, the first in 0x40-0x7f (RFC 5280: positive, at most 20 bytes). Never 0x00: DER
 * forbids a leading zero byte that is not needed for the sign ("illegal padding").
 */
function serialNumber (): Buffer {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0]! & 0x3f) | 0x40
  return bytes
}

const sha256WithRsa = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]))

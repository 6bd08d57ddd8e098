/**
 * Small cryptographic helpers shared by every module, so that each rule (constant-time
 * comparison, id length, hashing) is written once.
 */
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/** A random identifier with `bytes` bytes of entropy, base64url-encoded (session ids, cache keys). */
export function randomId (bytes = 16): string {
  return randomBytes(bytes).toString('base64url')
}

/** SHA-256 of a string, base64url-encoded (store keys that must not reveal their input). */
export function sha256 (value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

/**
 * The PKCE S256 code challenge of a verifier (RFC 7636 §4.2: BASE64URL(SHA256(verifier))).
 * Synchronous node:crypto, not WebCrypto: it runs on every login, and an async WebCrypto job
 * costs several times the hash itself.
 */
export function pkceChallenge (codeVerifier: string): string {
  return sha256(codeVerifier)
}

/**
 * Constant-time string comparison. Both sides are hashed first so that neither the content nor
 * the length of the secret side leaks through timing.
 */
export function safeEqual (a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb) && a.length === b.length
}

/**
 * Derives a 32-byte key from a long secret with HKDF-SHA256. The secret must already carry
 * enough entropy (at least 32 characters, checked at register): HKDF separates purposes, it does
 * not strengthen a weak password, so no slow password hash is needed at start-up.
 */
export function deriveKey (secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'fastify-sso', purpose, 32))
}

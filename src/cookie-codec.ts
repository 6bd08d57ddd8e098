/**
 * Authenticated encryption of cookie values, by `@fastify/secure-session` (libsodium secretbox:
 * XSalsa20-Poly1305 with a random nonce per cookie).
 *
 * We use its encode/decode functions on demand rather than its per-request hooks: the hooks
 * would decrypt every request's cookie, and the plugin decodes lazily, only when a route reads
 * the user. The functions come from a private Fastify instance so that they never clash with
 * an application's own `@fastify/secure-session` registration.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySecureSession from '@fastify/secure-session'

/** Browsers silently drop a cookie whose name and value exceed 4,096 bytes. */
export const maxCookieBytes = 4096

type SecureSession = { data(): Record<string, unknown>, changed: boolean }
interface SecureSessionHost {
  createSecureSession(data: Record<string, unknown>): SecureSession
  encodeSecureSession(session: SecureSession): string
  decodeSecureSession(cookie: string, log?: FastifyBaseLogger): SecureSession | null
}

/** A decoded cookie: its JSON object, and whether it was sealed with an older key. */
export interface Decoded<T> { data: T, rotated: boolean }

/** Encrypts and decrypts cookie values with a key list (first encrypts, all decrypt). */
export class CookieCodec {
  readonly #host: SecureSessionHost
  readonly #instance: FastifyInstance

  private constructor (instance: FastifyInstance) {
    this.#instance = instance
    this.#host = instance as unknown as SecureSessionHost
  }

  /** Builds a codec for these keys (each exactly 32 bytes). */
  static async create (keys: Buffer[], expirySeconds: number): Promise<CookieCodec> {
    const instance = Fastify({ logger: false })
    await instance.register(fastifyCookie)
    // secure-session's own expiry is sliding only; it is set beyond our absolute timeout, which
    // the session module enforces itself from timestamps inside the encrypted payload.
    await instance.register(fastifySecureSession, { key: keys, expiry: expirySeconds })
    await instance.ready()
    return new CookieCodec(instance)
  }

  /** Seals a JSON-serialisable object into a cookie value. */
  encode (data: object): string {
    // createSecureSession stamps `__ts` into the object it is given: give it a copy.
    return toCookieSafe(this.#host.encodeSecureSession(this.#host.createSecureSession({ ...data })))
  }

  /**
   * Opens a cookie value; `null` for anything that is not a valid, current cookie of ours.
   * `maxLength` is for sealed values kept in the store rather than in a cookie.
   */
  decode<T> (value: string | undefined, log?: FastifyBaseLogger, maxLength = maxCookieBytes): Decoded<T> | null {
    if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return null
    try {
      const session = this.#host.decodeSecureSession(fromCookieSafe(value), log)
      if (!session) return null
      return { data: session.data() as T, rotated: session.changed }
    } catch {
      // A payload that decrypts but is not JSON can only come from someone holding our key
      // with another format; treat it as no cookie rather than fail the request.
      return null
    }
  }

  /** Bytes the cookie occupies in the browser's limit: name, `=`, and the URL-encoded value. */
  static size (name: string, value: string): number {
    return Buffer.byteLength(name) + 1 + encodeURIComponent(value).length
  }

  async close (): Promise<void> {
    await this.#instance.close()
  }
}

/**
 * secure-session seals to `base64(ciphertext);base64(nonce)`: `+`, `/`, `=` and `;` are not
 * cookie-safe, so on the wire each became a three-character `%XX`, about 50 bytes of every
 * session cookie, sent with every request. We send the same bytes as base64url, `ciphertext.nonce`
 * (the nonce stays last: the decoded-cookie cache is keyed by it).
 */
function toCookieSafe (sealed: string): string {
  return sealed.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '').replace(';', '.')
}

/**
 * Back to secure-session's form: Node's base64 decoder reads base64url as well. A cookie sealed
 * before this format (`ciphertext;nonce`, once URL-decoded) is taken as it is.
 */
function fromCookieSafe (value: string): string {
  return value.includes(';') ? value : value.replace('.', ';')
}

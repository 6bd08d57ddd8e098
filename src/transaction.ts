/**
 * The login transaction: state, nonce, PKCE verifier, returnTo and routing, kept between
 * `/login` and `/callback` in an encrypted, HttpOnly, short-lived cookie.
 *
 * Several pending logins are kept (parallel tabs); each is single-use: the callback removes it
 * from the cookie, and marks its state consumed in the store so that a replayed copy of the old
 * cookie is refused on every instance.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client'
import type { CookieCodec } from './cookie-codec.ts'
import { safeEqual } from './crypto.ts'
import { expireCookie, requestCookie, writeCookie, type CookieSpec } from './cookies.ts'
import type { LoginTransaction } from './providers/provider.ts'

/** A login must finish within ten minutes. */
export const transactionLifetimeMs = 10 * 60_000
/** Pending logins kept per browser (parallel tabs); the oldest is dropped beyond this. */
export const maxPendingTransactions = 5

interface StoredTransaction {
  s: string
  n: string
  v: string
  r: string
  e: number
  o: Record<string, string>
}

interface TransactionCookieData { v: 1, t: StoredTransaction[] }

function toStored (tx: LoginTransaction): StoredTransaction {
  return { s: tx.state, n: tx.nonce, v: tx.codeVerifier, r: tx.returnTo, e: tx.expiresAt, o: tx.routing }
}

function fromStored (tx: StoredTransaction): LoginTransaction {
  return { state: tx.s, nonce: tx.n, codeVerifier: tx.v, returnTo: tx.r, expiresAt: tx.e, routing: tx.o ?? {} }
}

function isStored (value: unknown): value is StoredTransaction {
  const tx = value as StoredTransaction
  return typeof tx === 'object' && tx !== null && typeof tx.s === 'string' && typeof tx.n === 'string' &&
    typeof tx.v === 'string' && typeof tx.r === 'string' && typeof tx.e === 'number'
}

/** What the callback found for its state. */
export type TakeResult =
  | { kind: 'found', transaction: LoginTransaction }
  | { kind: 'expired', transaction: LoginTransaction }
  | { kind: 'mismatch' }
  | { kind: 'missing' }

/** Reads and writes the transaction cookie. */
export class TransactionCookie {
  readonly #codec: CookieCodec
  readonly #cookie: CookieSpec
  readonly #now: () => number

  constructor (codec: CookieCodec, cookie: CookieSpec, now: () => number) {
    this.#codec = codec
    this.#cookie = cookie
    this.#now = now
  }

  get name (): string {
    return this.#cookie.name
  }

  /** A new transaction with fresh random state, nonce and PKCE verifier. */
  create (returnTo: string, routing: Record<string, string>): LoginTransaction {
    return {
      state: randomState(),
      nonce: randomNonce(),
      codeVerifier: randomPKCECodeVerifier(),
      returnTo,
      expiresAt: this.#now() + transactionLifetimeMs,
      routing
    }
  }

  /** Every transaction in the cookie (expired ones included), or null when there is no usable cookie. */
  #read (request: FastifyRequest): StoredTransaction[] | null {
    const decoded = this.#codec.decode<TransactionCookieData>(requestCookie(request, this.#cookie.name), request.log)
    if (!decoded || decoded.data.v !== 1 || !Array.isArray(decoded.data.t)) return null
    return decoded.data.t.filter(isStored)
  }

  #write (reply: FastifyReply, pending: StoredTransaction[]): void {
    if (pending.length === 0) {
      expireCookie(reply, this.#cookie)
      return
    }
    const maxAge = Math.ceil((Math.max(...pending.map(tx => tx.e)) - this.#now()) / 1000)
    const value = this.#codec.encode({ v: 1, t: pending } satisfies TransactionCookieData)
    writeCookie(reply, this.#cookie, value, Math.min(600, Math.max(1, maxAge)))
  }

  /** Whether the browser sent a transaction cookie we can read. */
  has (request: FastifyRequest): boolean {
    return (this.#read(request)?.length ?? 0) > 0
  }

  /** Adds a pending login, keeping the newest few that have not expired. */
  begin (request: FastifyRequest, reply: FastifyReply, tx: LoginTransaction): void {
    const now = this.#now()
    const pending = (this.#read(request) ?? []).filter(stored => stored.e > now)
    pending.push(toStored(tx))
    this.#write(reply, pending.slice(-maxPendingTransactions))
  }

  /**
   * Finds and removes the transaction for `state`. With `state === null` (a provider that does
   * not echo state) the newest pending transaction is taken. The cookie is rewritten with the
   * remaining ones, whatever the outcome: a transaction is consumed by any callback that names it.
   */
  take (request: FastifyRequest, reply: FastifyReply, state: string | null): TakeResult {
    const stored = this.#read(request)
    if (stored === null || stored.length === 0) return { kind: 'missing' }
    const now = this.#now()
    const index = state === null ? stored.length - 1 : stored.findIndex(tx => safeEqual(tx.s, state))
    if (index < 0) return { kind: 'mismatch' }
    const [match] = stored.splice(index, 1)
    this.#write(reply, stored.filter(tx => tx.e > now))
    const transaction = fromStored(match!)
    return transaction.expiresAt <= now ? { kind: 'expired', transaction } : { kind: 'found', transaction }
  }
}

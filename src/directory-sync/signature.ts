/**
 * `WorkOS-Signature` verification: `t=<ms>, v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 *
 * Written with node:crypto rather than left to the SDK, whose check accepts timestamps in the
 * future, throws a TypeError on a missing header and tries only the first `v1`. Here: the
 * timestamp must be within the tolerance in both directions (a captured request cannot be
 * replayed later, nor pre-signed for later), every `v1` and every configured secret is tried
 * (secret rotation), and the comparison is constant-time over the raw bytes that arrived.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { WebhookSignatureError } from '../errors.ts'

/** A parsed `WorkOS-Signature` header. */
export interface SignatureHeader { timestamp: number, signatures: string[] }

const maxHeaderLength = 2048

/** Parses the header; `null` when it is missing or malformed. */
export function parseSignatureHeader (header: unknown): SignatureHeader | null {
  if (typeof header !== 'string' || header.length === 0 || header.length > maxHeaderLength) return null
  let timestamp: number | undefined
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) return null
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{10,16}$/.test(value)) return null
      timestamp = Number(value)
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return null
      signatures.push(value.toLowerCase())
    }
    // Other schemes (v0…) are ignored, as WorkOS documents.
  }
  return timestamp !== undefined && signatures.length > 0 ? { timestamp, signatures } : null
}

/** The hex signature WorkOS computes for a body at a timestamp (ms). */
export function computeSignature (secret: string, timestamp: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')
}

/**
 * A ready `WorkOS-Signature` header value, for tests and the `webhook:send` script.
 *
 * @example
 * ```ts
 * const body = JSON.stringify(event)
 * await app.inject({ method: 'POST', url: '/webhooks/workos-directory-sync', payload: body,
 *   headers: { 'content-type': 'application/json', 'workos-signature': signWebhook(body, secret) } })
 * ```
 */
export function signWebhook (rawBody: Buffer | string, secret: string, timestamp: number = Date.now()): string {
  return `t=${timestamp}, v1=${computeSignature(secret, timestamp, rawBody)}`
}

/** What matched: the timestamp, and the secret and `v1` signature that verify the body. */
export interface VerifiedSignature { timestamp: number, secret: string, signature: string }

/**
 * Checks a request's signature.
 * @throws FST_SSO_WEBHOOK_SIGNATURE_INVALID
 */
export function verifySignature (header: unknown, rawBody: Buffer, secrets: readonly string[], toleranceMs: number, now: number): VerifiedSignature {
  const parsed = parseSignatureHeader(header)
  if (!parsed) throw WebhookSignatureError('The WorkOS-Signature header is missing or malformed.')
  if (Math.abs(now - parsed.timestamp) > toleranceMs) {
    throw WebhookSignatureError('The WorkOS-Signature timestamp is outside the accepted window (check the server clock).')
  }
  for (const secret of secrets) {
    const expected = Buffer.from(computeSignature(secret, parsed.timestamp, rawBody), 'hex')
    for (const signature of parsed.signatures) {
      if (timingSafeEqual(Buffer.from(signature, 'hex'), expected)) return { timestamp: parsed.timestamp, secret, signature }
    }
  }
  throw WebhookSignatureError('The WorkOS-Signature does not match the body.')
}

/**
 * SCIM bearer tokens: the app stores their SHA-256 hashes, never the tokens, and compares in
 * constant time. A token is a long random value (not a password), so a fast hash is the right
 * one: there is nothing to brute-force.
 */
import { timingSafeEqual } from 'node:crypto'
import { randomId, sha256 } from '../crypto.ts'
import { optionError } from '../option-checks.ts'

/** What `authenticate` returns for a valid token: the tenant it belongs to. */
export interface ScimTenant {
  /** The organization whose users and groups the token may see and change. */
  organizationId: string
  /** `directoryId` of the events (default: the organization id). */
  directoryId?: string
}

/**
 * The hash to store for a SCIM token: SHA-256, base64url (what `scimTokenVerifier` takes; it also
 * takes the hex form, `printf %s "$TOKEN" | sha256sum`).
 *
 * @example
 * ```ts
 * await db.query('INSERT INTO scim_tokens (token_hash, organization_id) VALUES ($1, $2)', [hashScimToken(token), orgId])
 * ```
 */
export function hashScimToken (token: string): string {
  return sha256(token)
}

/**
 * A new SCIM token (shown once to the customer's admin, to paste into Okta or Entra ID) and the
 * hash to store.
 *
 * @example
 * ```ts
 * const { token, hash } = createScimToken()
 * await db.saveScimToken({ organizationId: 'org_acme', hash })
 * reply.send({ baseUrl: 'https://app.example.com/scim/v2', token }) // never stored
 * ```
 */
export function createScimToken (): { token: string, hash: string } {
  const token = `scim_${randomId(32)}`
  return { token, hash: hashScimToken(token) }
}

function digestOf (option: string, hash: string): Buffer {
  if (/^[0-9a-f]{64}$/i.test(hash)) return Buffer.from(hash, 'hex')
  if (/^[A-Za-z0-9_-]{43}$/.test(hash)) return Buffer.from(hash, 'base64url')
  throw optionError(option, 'must be the SHA-256 of a token (hashScimToken(token), or 64 hex digits), not the token itself.')
}

/**
 * An `authenticate` function for a fixed set of tokens, given by hash: every stored hash is
 * compared with the presented token's, in constant time, each time (no early exit), so timing
 * reveals neither a token nor which tenant matched. For tokens kept in a database, look the
 * token up by its hash instead (`WHERE token_hash = $1`): an index lookup on a hash reveals
 * nothing about the token either.
 *
 * @example
 * ```ts
 * await app.register(scim, {
 *   authenticate: scimTokenVerifier({
 *     [process.env.ACME_SCIM_TOKEN_HASH]: 'org_acme',
 *     [process.env.GLOBEX_SCIM_TOKEN_HASH]: { organizationId: 'org_globex', directoryId: 'directory_globex' },
 *   }),
 *   repository,
 * })
 * ```
 */
export function scimTokenVerifier (tokens: Record<string, string | ScimTenant>): (token: string) => Promise<ScimTenant | null> {
  if (typeof tokens !== 'object' || tokens === null || Array.isArray(tokens)) {
    throw optionError('scimTokenVerifier', 'takes an object { [hashScimToken(token)]: organizationId }.')
  }
  // Entries are named by position: a key pasted by mistake may be a token, which must not reach a log.
  const entries = Object.entries(tokens).map(([hash, tenant], position) => {
    const option = `scimTokenVerifier (entry ${position + 1})`
    const resolved = typeof tenant === 'string' ? { organizationId: tenant } : tenant
    if (typeof resolved?.organizationId !== 'string' || resolved.organizationId.length === 0) throw optionError(option, 'must name an organization id.')
    return { digest: digestOf(option, hash), tenant: Object.freeze({ ...resolved }) }
  })
  return async (token) => {
    const presented = Buffer.from(hashScimToken(token), 'base64url')
    let match: ScimTenant | null = null
    for (const entry of entries) if (timingSafeEqual(entry.digest, presented)) match = entry.tenant
    return match
  }
}

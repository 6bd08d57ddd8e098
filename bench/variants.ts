/**
 * What `npm run bench` compares, in one run: each variant is a server process and the request
 * a client sends it. Every route answers the same small JSON body (the user's email).
 */
import { readFileSync } from 'node:fs'
import type { Request } from 'autocannon'
import { signWebhook } from '../src/index.ts'
import { benchScimToken, benchScimUsers, benchWebhookSecret } from './servers/config.ts'

export interface Variant {
  id: string
  /** One line for the tables. */
  label: string
  server: { script: string, args?: string[] }
  path: string
  /** Send the signed-in client's cookie. */
  withCookie: boolean
  /** Rotate through the many session cookies the server wrote (its `file`). */
  rotateCookies?: boolean
  /** POST freshly signed directory-sync events. */
  webhook?: boolean
  /** SCIM: POST a new user each time, or GET one by `filter=userName eq "…"`. */
  scim?: 'create' | 'lookup'
  /** Left out when this is missing (with a line saying so). */
  needs?: 'redis'
  /** Not part of the ratio targets (a worst case shown for honesty, or another kind of route). */
  extra?: boolean
}

export const variants: Variant[] = [
  { id: 'bare', label: 'bare Fastify route', server: { script: 'fastify-bare.ts' }, path: '/public', withCookie: false },
  { id: 'bare-cookie', label: 'bare Fastify route, a cookie of the same size sent (what the header alone costs)', server: { script: 'fastify-bare.ts', args: ['--cookie'] }, path: '/public', withCookie: true, extra: true },
  { id: 'protected', label: 'fastify-sso `requireUser()`, signed in', server: { script: 'fastify-sso.ts' }, path: '/protected', withCookie: true },
  { id: 'public-cookie', label: 'fastify-sso public route, session cookie sent (never read)', server: { script: 'fastify-sso.ts' }, path: '/public', withCookie: true },
  { id: 'public', label: 'fastify-sso public route, no cookie', server: { script: 'fastify-sso.ts' }, path: '/public', withCookie: false },
  { id: 'protected-redis', label: 'fastify-sso `requireUser()`, Redis store (revocation check on, 1,000 revoked users)', server: { script: 'fastify-sso.ts', args: ['--store=redis'] }, path: '/protected', withCookie: true, needs: 'redis' },
  { id: 'protected-cold', label: 'fastify-sso `requireUser()`, 50,000 sessions in rotation (decrypts nearly every request)', server: { script: 'fastify-sso.ts', args: ['--sessions=50000'] }, path: '/protected', withCookie: true, rotateCookies: true, extra: true },
  { id: 'secure-session', label: '`@fastify/secure-session` alone, reading the same profile', server: { script: 'secure-session.ts' }, path: '/protected', withCookie: true },
  { id: 'express-oidc', label: 'Express 5 + `express-openid-connect` `requiresAuth()`', server: { script: 'express-oidc.ts' }, path: '/protected', withCookie: true },
  { id: 'webhook', label: 'directory-sync webhook, verified events', server: { script: 'webhook.ts' }, path: '/webhooks/workos-directory-sync', withCookie: false, webhook: true, extra: true },
  { id: 'scim-create', label: 'SCIM `POST /Users` (memory repository, a new user each request)', server: { script: 'scim.ts' }, path: '/scim/v2/Users', withCookie: false, scim: 'create', extra: true },
  { id: 'scim-lookup', label: `SCIM \`GET /Users?filter=userName eq "…"\` among ${benchScimUsers.toLocaleString('en')} users (memory repository)`, server: { script: 'scim.ts', args: [`--users=${benchScimUsers}`] }, path: '/scim/v2/Users', withCookie: false, scim: 'lookup', extra: true }
]

/**
 * The autocannon request of a variant: one prebuilt request (the cheapest for the load generator,
 * which shares the machine, so that the servers are what limits throughput), or, where each
 * request must differ, a `setupRequest`: many sessions in rotation (the server wrote them to
 * `file`), or a freshly signed directory-sync event.
 *
 * A prebuilt cookie is what a browser would send: every round signs the client in on a new
 * server, and fastify-sso writes last-seen back at most once a minute, so no session is re-issued
 * while it is measured (test/bench-variants.test.ts checks that); Express rewrites its cookie on
 * every response but accepts the one it wrote first.
 */
export function requestFor (variant: Variant, cookie: string, file: string | undefined): Request {
  const headers: Record<string, string> = variant.withCookie && cookie ? { cookie } : {}
  if (variant.rotateCookies) {
    const cookies = JSON.parse(readFileSync(requiredFile(variant, file), 'utf8')) as string[]
    let next = 0
    return { headers, setupRequest: (request) => ({ ...request, headers: { ...request.headers, cookie: cookies[next++ % cookies.length]! } }) }
  }
  if (variant.webhook) {
    let next = 0
    return {
      method: 'POST',
      setupRequest: (request) => {
        // A new event id each time, signed now: every request is verified and handled once.
        const body = webhookEvent(++next)
        return { ...request, method: 'POST', body, headers: { ...request.headers, 'content-type': 'application/json', 'workos-signature': signWebhook(body, benchWebhookSecret) } }
      }
    }
  }
  if (variant.scim) return scimRequest(variant.scim)
  return { method: 'GET', headers }
}

/** A SCIM client with the bench tenant's token: a new user per POST, or a lookup of one of the server's users. */
function scimRequest (kind: 'create' | 'lookup'): Request {
  const headers = { authorization: `Bearer ${benchScimToken}`, 'content-type': 'application/scim+json', accept: 'application/scim+json' }
  if (kind === 'lookup') {
    let next = 0
    return {
      method: 'GET',
      setupRequest: (request) => ({ ...request, method: 'GET', headers: { ...request.headers, ...headers }, path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${scimUserName(next++ % benchScimUsers)}"`)}` })
    }
  }
  // The warm-up and the measurement hit the same server: the counter runs on across them.
  return { method: 'POST', setupRequest: (request) => ({ ...request, method: 'POST', headers: { ...request.headers, ...headers }, body: scimUser(`${runId}-${++createdUsers}`) }) }
}

let createdUsers = 0

/** The userName of the bench server's user `n`. */
export function scimUserName (n: number | string): string {
  return `user-${n}@acme-corp.example`
}

/** A User as Entra ID creates one (about 500 bytes). */
export function scimUser (n: number | string): string {
  const userName = scimUserName(n)
  return JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    externalId: `ext-${n}`,
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: userName }],
    name: { formatted: `User ${n}`, familyName: String(n), givenName: 'User' },
    displayName: `User ${n}`,
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Engineering', employeeNumber: String(n) }
  })
}

function requiredFile (variant: Variant, file: string | undefined): string {
  if (!file) throw new Error(`${variant.id}: the server wrote no cookie file`)
  return file
}

const runId = Date.now().toString(36)

/** A `dsync.user.created` event as WorkOS sends it (about 600 bytes). */
export function webhookEvent (n: number): string {
  const email = `user-${n}@acme-corp.example`
  return JSON.stringify({
    id: `event_${runId}_${n}`,
    event: 'dsync.user.created',
    data: {
      object: 'directory_user',
      id: `directory_user_${runId}_${n}`,
      directory_id: 'directory_01HQ3ZK8XJ5N2M4P6R8T0V2W4Y',
      organization_id: 'org_01HQ3ZK8XJ5N2M4P6R8T0V2W4Y',
      idp_id: `00u${n}`,
      first_name: 'User',
      last_name: String(n),
      email,
      state: 'active',
      raw_attributes: {},
      custom_attributes: { department: 'Engineering' },
      created_at: '2026-11-01T00:00:00.000Z',
      updated_at: '2026-11-24T00:00:00.000Z'
    },
    created_at: new Date().toISOString()
  })
}

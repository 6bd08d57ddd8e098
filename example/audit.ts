/**
 * The example's operations pages:
 *
 * - `GET /audit`: the latest sign-in events (fastify-sso's `onAuditEvent`) of the admin's own
 *   organization. A real app writes them to its audit store or SIEM; this one keeps the last 200
 *   in memory.
 * - `POST /admin/sso-setup` (WorkOS mode): sends an organization's admin to the WorkOS Admin
 *   Portal, where their IT team sets up SSO themselves (`app.sso.adminPortalLink()`).
 */
import type { FastifyInstance } from 'fastify'
import { escapeHtml } from '../src/html.ts'
import { requireUser, type AuditEvent } from '../src/index.ts'
import { layout } from './pages.ts'

/** The latest audit events, newest last (a bounded in-memory log for the demo). */
export class AuditLog {
  readonly events: AuditEvent[] = []
  readonly #limit: number

  constructor (limit = 200) {
    this.#limit = limit
  }

  /** fastify-sso's `onAuditEvent`. */
  readonly record = (event: AuditEvent): void => {
    this.events.push(event)
    if (this.events.length > this.#limit) this.events.shift()
  }

  /** The newest events of one organization, newest first. */
  of (organizationId: string | undefined, count = 50): AuditEvent[] {
    if (!organizationId) return []
    return this.events.filter(event => event.organizationId === organizationId).slice(-count).reverse()
  }
}

const cell = (value: unknown) => `<td>${escapeHtml(value ?? '')}</td>`

function auditTable (events: AuditEvent[]): string {
  if (events.length === 0) return '<p class="note">No events yet: sign out and in again, or try a failed sign-in.</p>'
  const rows = events.map(event => `<tr>${[
    cell(event.at.replace('T', ' ').slice(0, 19)),
    `<td><code>${escapeHtml(event.type)}</code>${event.source ? ` <span class="badge">${escapeHtml(event.source)}</span>` : ''}</td>`,
    cell(event.email ?? event.userId),
    cell(event.provider),
    `<td>${event.code ? `<code>${escapeHtml(event.code)}</code> ` : ''}${escapeHtml(event.reason ?? '')}</td>`,
    cell(event.ip)
  ].join('')}</tr>`).join('')
  return `<table class="audit"><tr><th>When (UTC)</th><th>Event</th><th>User</th><th>Provider</th><th>Outcome</th><th>IP</th></tr>${rows}</table>`
}

/** Registers `/audit` and, with WorkOS, `/admin/sso-setup`. */
export async function auditRoutes (app: FastifyInstance, options: { log: AuditLog, adminPortal: boolean }): Promise<void> {
  const admins = { preHandler: requireUser({ roles: ['admin'] }) }

  app.get('/audit', admins, async (request, reply) => {
    const user = request.user!
    const events = options.log.of(user.organizationId)
    return reply.type('text/html; charset=utf-8').send(layout('Audit log', `
  <h1>Audit log</h1>
  <p class="lead">Sign-ins, failed sign-ins, sign-outs, revocations and refreshes in <code>${escapeHtml(user.organizationId ?? '')}</code>, newest first, as fastify-sso reports them to <code>onAuditEvent</code>.</p>
  <section class="card">${auditTable(events)}</section>`, user))
  })

  if (!options.adminPortal) return
  // The WorkOS Admin Portal for the admin's own organization: never one named by the request.
  app.post('/admin/sso-setup', admins, async (request, reply) => {
    const organizationId = request.user!.organizationId
    if (!organizationId) return reply.code(403).type('text/html; charset=utf-8').send(layout('Set up SSO', '<p class="error">Your account belongs to no organization.</p>', request.user))
    const link = await app.sso.adminPortalLink({ organizationId, intent: 'sso', returnUrl: '/dashboard' })
    return reply.redirect(link, 303)
  })
}

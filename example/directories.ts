/**
 * The directory pages of the example, like WorkOS's directory-sync example: `/directories`,
 * `/directories/:id/users`, `/directories/:id/groups`. With WorkOS configured they list the real
 * directories through the SDK (auto-paginated); on the development IdP they show a local
 * directory of the demo users that incoming webhook events update, so a deprovisioned user can
 * be watched losing access:
 *
 *   npm run webhook:send -- dsync.user.deleted bob@globex.test
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WorkOS } from '@workos-inc/node'
import { escapeHtml } from '../src/html.ts'
import { requireUser, type DirectorySyncEvent } from '../src/index.ts'
import { defaultDevUsers } from '../src/testing/index.ts'
import { layout } from './pages.ts'

interface Row { id: string, name: string, email: string, state: string, groups: string }
interface DirectorySummary { id: string, name: string, type: string, state: string }

const devDirectory: DirectorySummary = { id: 'directory_dev', name: 'Demo directory (development IdP)', type: 'dev', state: 'linked' }

/** The local directory of the development mode, kept in step with webhook events. */
export class DevDirectory {
  readonly users = new Map<string, Row>(defaultDevUsers.map(user => [user.email.toLowerCase(), {
    id: `directory_user_${user.email.split('@')[0]}`, name: user.name ?? user.email, email: user.email, state: 'active', groups: (user.groups ?? []).join(', ')
  }]))

  /** Whether this email may sign in (unknown emails may: they are not managed by the directory). */
  isActive (email: string): boolean {
    return this.users.get(email.toLowerCase())?.state !== 'inactive'
  }

  /** The `onEvent` handler for `directorySync` in development mode. */
  readonly onEvent = async (event: DirectorySyncEvent): Promise<void> => {
    if (event.event !== 'dsync.user.created' && event.event !== 'dsync.user.updated' && event.event !== 'dsync.user.deleted') return
    const data = event.data as { id: string, email: string | null, firstName: string | null, lastName: string | null, state: string }
    if (!data.email) return
    const key = data.email.toLowerCase()
    const previous = this.users.get(key)
    this.users.set(key, {
      id: data.id,
      name: [data.firstName, data.lastName].filter(Boolean).join(' ') || previous?.name || data.email,
      email: data.email,
      state: event.event === 'dsync.user.deleted' ? 'inactive' : data.state,
      groups: previous?.groups ?? ''
    })
  }
}

function table (headers: string[], rows: string[][]): string {
  return `<table><tr>${headers.map(header => `<th>${escapeHtml(header)}</th>`).join('')}</tr>${rows.map(row => `<tr>${row.join('')}</tr>`).join('')}</table>`
}

const cell = (value: unknown, className = '') => `<td${className ? ` class="${className}"` : ''}>${escapeHtml(value ?? '')}</td>`

/** Registers the directory pages. */
export async function directoryRoutes (app: FastifyInstance, options: { workos?: WorkOS, dev: DevDirectory }): Promise<void> {
  const { workos, dev } = options
  const guard = { preHandler: requireUser() }
  const send = (request: FastifyRequest, title: string, body: string) => layout(title, body, request.user)

  app.get('/directories', guard, async (request, reply) => {
    const directories: DirectorySummary[] = workos
      ? (await (await workos.directorySync.listDirectories()).autoPagination()).map(d => ({ id: d.id, name: d.name, type: d.type, state: d.state }))
      : [devDirectory]
    return reply.type('text/html').send(send(request, 'Directories', `<h1>Directories</h1><section class="card">${table(['Name', 'Type', 'State', ''],
      directories.map(d => [cell(d.name), cell(d.type), cell(d.state), `<td><a href="/directories/${encodeURIComponent(d.id)}/users">Users</a> · <a href="/directories/${encodeURIComponent(d.id)}/groups">Groups</a></td>`]))}
      <p><a href="/directories/scim">Users provisioned through SCIM</a> (Okta, Entra ID)</p>
      ${workos ? '' : '<p class="note">Deprovision a demo user from another terminal: <code>npm run webhook:send -- dsync.user.deleted bob@globex.test</code>. Their sessions end at once and they can no longer sign in.</p>'}</section>`))
  })

  app.get<{ Params: { id: string } }>('/directories/:id/users', guard, async (request, reply) => {
    const rows: Row[] = workos
      ? (await (await workos.directorySync.listUsers({ directory: request.params.id })).autoPagination()).map(u => ({
          id: u.id, name: [u.firstName, u.lastName].filter(Boolean).join(' '), email: u.email ?? '', state: u.state, groups: ''
        }))
      : [...dev.users.values()]
    return reply.type('text/html').send(send(request, 'Directory users', `<h1>Users</h1><section class="card">${table(['Name', 'Email', 'State', 'Groups'],
      rows.map(u => [cell(u.name), cell(u.email), cell(u.state, u.state === 'active' ? '' : 'inactive'), cell(u.groups)]))}</section>`))
  })

  app.get<{ Params: { id: string } }>('/directories/:id/groups', guard, async (request, reply) => {
    const groups: string[] = workos
      ? (await (await workos.directorySync.listGroups({ directory: request.params.id })).autoPagination()).map(g => g.name)
      : [...new Set([...dev.users.values()].flatMap(u => u.groups.split(', ').filter(Boolean)))]
    return reply.type('text/html').send(send(request, 'Directory groups', `<h1>Groups</h1><section class="card">${table(['Name'], groups.map(name => [cell(name)]))}</section>`))
  })
}

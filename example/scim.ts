/**
 * SCIM provisioning in the example: each customer organization gets its own SCIM base URL token,
 * Okta or Entra ID provision users and groups into a repository (in memory here; the app's
 * database in real life), and the same `onEvent` handler as the WorkOS webhook keeps the
 * directory page in step, so a user deactivated in the customer's directory is signed out and
 * refused at once.
 *
 * On the development IdP the tokens below are fixed, so `npm run scim:demo` can replay an Entra
 * ID provisioning cycle against `npm start`. Otherwise SCIM is served only for the hashes given in
 * SCIM_TOKEN_HASHES (`org_acme=<sha256>,org_globex=<sha256>`; `npm run scim:demo -- --hash TOKEN`
 * prints the hash of a token).
 *
 *   base URL (Okta "SCIM connector base URL", Entra ID "Tenant URL"): http://localhost:3000/scim/v2
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { escapeHtml } from '../src/html.ts'
import {
  hashScimToken, memoryScimRepository, requireUser, scim, scimTokenVerifier,
  type DirectorySyncEvent, type ScimRecord, type ScimRepository
} from '../src/index.ts'
import { layout } from './pages.ts'

/** The development tokens, one per demo organization (never use fixed tokens outside development). */
export const devScimTokens: Record<string, string> = {
  org_acme: 'scim_dev_acme_token_for_the_fastify_sso_example',
  org_globex: 'scim_dev_globex_token_for_the_fastify_sso_example'
}

export const scimPrefix = '/scim/v2'

/** `org_acme=<hash>,org_globex=<hash>` → `{ <hash>: 'org_acme', … }`. */
function parseHashes (value: string): Record<string, string> {
  const tokens: Record<string, string> = {}
  for (const entry of value.split(',').map(part => part.trim()).filter(Boolean)) {
    const [organizationId, hash] = entry.split('=')
    if (!organizationId || !hash) throw new Error(`SCIM_TOKEN_HASHES must be org_id=sha256,… (got ${JSON.stringify(entry.slice(0, 20))}…)`)
    tokens[hash] = organizationId
  }
  return tokens
}

/**
 * Registers the SCIM endpoints and the page that lists the signed-in user's organization's
 * provisioned users. Returns the repository, or undefined when no token is configured.
 */
export async function registerScim (app: FastifyInstance, options: { development: boolean, tokenHashes?: string | undefined, onEvent: (event: DirectorySyncEvent, request: FastifyRequest) => unknown }): Promise<ScimRepository | undefined> {
  const tokens = options.tokenHashes
    ? parseHashes(options.tokenHashes)
    : options.development ? Object.fromEntries(Object.entries(devScimTokens).map(([organizationId, token]) => [hashScimToken(token), organizationId])) : undefined
  if (!tokens) return undefined
  const repository = memoryScimRepository()
  await app.register(scim, { prefix: scimPrefix, authenticate: scimTokenVerifier(tokens), repository, onEvent: options.onEvent })
  app.get('/directories/scim', { preHandler: requireUser() }, async (request, reply) => {
    // A customer sees its own organization's provisioned users only.
    const organizationId = request.user!.organizationId
    const users = organizationId ? (await repository.list(organizationId, 'User', { startIndex: 1, count: 1000 })).resources : []
    const groups = organizationId ? (await repository.list(organizationId, 'Group', { startIndex: 1, count: 1000 })).resources : []
    const note = options.development ? '<p class="note">Replay a Microsoft Entra ID provisioning cycle from another terminal: <code>npm run scim:demo</code>.</p>' : ''
    return reply.type('text/html').send(layout('SCIM users', scimPage(organizationId, users, groups, note), request.user))
  })
  return repository
}

function scimPage (organizationId: string | undefined, users: ScimRecord[], groups: ScimRecord[], note: string): string {
  const cell = (value: unknown, className = '') => `<td${className ? ` class="${className}"` : ''}>${escapeHtml(value ?? '')}</td>`
  const groupsOf = (id: string) => groups.filter(group => (group.attributes.members as Array<{ value: string }> | undefined)?.some(member => member.value === id)).map(group => group.displayName).join(', ')
  const rows = users.map(user => `<tr>${cell(user.userName)}${cell(user.displayName)}${cell(user.active ? 'active' : 'inactive', user.active ? '' : 'inactive')}${cell(groupsOf(user.id))}${cell(user.lastModified)}</tr>`).join('')
  return `<h1>Users provisioned through SCIM</h1><section class="card">
    <p>Organization <code>${escapeHtml(organizationId ?? 'none')}</code> · SCIM base URL <code>${escapeHtml(scimPrefix)}</code> with the organization's bearer token.</p>
    ${users.length === 0 ? '<p>No user has been provisioned yet.</p>' : `<table><tr><th>userName</th><th>Name</th><th>State</th><th>Groups</th><th>Last change</th></tr>${rows}</table>`}
    ${note}</section>`
}

/**
 * `npm run webhook:send -- <event-type> [email]`: posts a correctly signed directory-sync event to
 * the local example, so the flow can be tried without WorkOS.
 *
 *   npm run webhook:send -- dsync.user.deleted bob@globex.test
 *   npm run webhook:send -- dsync.user.updated bob@globex.test     (deactivates)
 *   npm run webhook:send -- dsync.user.created dana@acme.test
 *
 * WEBHOOK_URL (default http://localhost:3000/webhooks/workos-directory-sync) and
 * WORKOS_WEBHOOK_SECRET (default: the example's development secret) override the target.
 */
import { randomBytes } from 'node:crypto'
import { signWebhook } from '../src/directory-sync/signature.ts'
import { devWebhookSecret } from '../example/config.ts'
import { defaultDevUsers } from '../src/testing/index.ts'

const [type = 'dsync.user.deleted', email = 'bob@globex.test'] = process.argv.slice(2)
const url = process.env.WEBHOOK_URL ?? 'http://localhost:3000/webhooks/workos-directory-sync'
const secret = process.env.WORKOS_WEBHOOK_SECRET || devWebhookSecret
const known = ['dsync.user.created', 'dsync.user.updated', 'dsync.user.deleted']
if (!known.includes(type)) {
  console.error(`usage: npm run webhook:send -- <${known.join(' | ')}> [email]`)
  process.exit(2)
}

const [local = 'user'] = email.split('@')
const now = new Date().toISOString()
const body = JSON.stringify({
  id: `event_${randomBytes(8).toString('hex')}`,
  event: type,
  created_at: now,
  data: {
    object: 'directory_user',
    id: `directory_user_${local}`,
    directory_id: 'directory_dev',
    // The demo user's organization: deprovisioning reaches that organization's sessions only.
    organization_id: defaultDevUsers.find(user => user.email === email.toLowerCase())?.organizationId ?? null,
    idp_id: `idp_${local}`,
    first_name: local.charAt(0).toUpperCase() + local.slice(1),
    last_name: 'Example',
    email,
    state: type === 'dsync.user.created' ? 'active' : 'inactive',
    raw_attributes: {},
    custom_attributes: {},
    created_at: now,
    updated_at: now,
    ...(type === 'dsync.user.updated' ? { previous_attributes: { state: 'active' } } : {})
  }
})

try {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'workos-signature': signWebhook(body, secret) }, body })
  console.log(`${type} for ${email} → ${response.status} ${await response.text()}`)
  process.exit(response.ok ? 0 : 1)
} catch (err) {
  console.error(`could not reach ${url}: ${(err as Error).message} (is \`npm start\` running?)`)
  process.exit(1)
}

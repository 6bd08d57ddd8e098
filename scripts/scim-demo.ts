/**
 * `npm run scim:demo`: replays a Microsoft Entra ID provisioning cycle against the running example
 * (`npm start`), request by request as Entra ID sends them: the userName probe, create, read,
 * a PATCH in Entra's dialect (`Replace`, `emails[type eq "work"].value`, the enterprise extension),
 * a group with a member, the membership probe, the disable (`"active": "False"`, which signs the
 * user out at once), and the delete.
 *
 *   npm run scim:demo                      the cycle for carol@acme.test (sign in as Carol first to watch)
 *   npm run scim:demo -- --keep            stop after the disable (the directory page shows her inactive)
 *   npm run scim:demo -- --hash <token>    print the SHA-256 to put in SCIM_TOKEN_HASHES
 *
 * SCIM_URL (default http://localhost:3000/scim/v2) and SCIM_TOKEN (default Acme's development
 * token) override the target.
 */
import { hashScimToken } from '../src/index.ts'
import { devScimTokens } from '../example/scim.ts'

const args = process.argv.slice(2)
if (args[0] === '--hash') {
  if (!args[1]) {
    console.error('usage: npm run scim:demo -- --hash <token>')
    process.exit(2)
  }
  console.log(hashScimToken(args[1]))
  process.exit(0)
}
const keep = args.includes('--keep')
const base = (process.env.SCIM_URL ?? 'http://localhost:3000/scim/v2').replace(/\/$/, '')
const token = process.env.SCIM_TOKEN || devScimTokens.org_acme!
const userName = 'carol@acme.test'
const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const patchOp = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

async function scim (method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  let response: Response
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json', ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000)
    })
  } catch (err) {
    console.error(`could not reach ${base}: ${(err as Error).message} (is \`npm start\` running?)`)
    process.exit(1)
  }
  const text = await response.text()
  const json = text ? JSON.parse(text) : undefined
  const summary = json?.totalResults !== undefined ? `totalResults=${json.totalResults}` : json?.detail ?? json?.userName ?? json?.displayName ?? ''
  console.log(`${method.padEnd(6)} ${decodeURIComponent(path).padEnd(86)} → ${response.status} ${summary}`)
  if (response.status >= 400 && response.status !== 404) {
    console.error(`unexpected answer: ${text}`)
    process.exit(1)
  }
  return { status: response.status, json }
}

const filter = (text: string) => encodeURIComponent(text)

// 1. Is the user there already? (Entra ID matches on userName before it creates.)
const probe = await scim('GET', `/Users?filter=${filter(`userName eq "${userName}"`)}`)
let id: string = probe.json.Resources?.[0]?.id
if (!id) {
  const created = await scim('POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', enterprise],
    externalId: 'carol', userName, active: true,
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Carol Chen', familyName: 'Chen', givenName: 'Carol' },
    [enterprise]: { department: 'Support' }
  })
  id = created.json.id
}
await scim('GET', `/Users/${id}`)
await scim('PATCH', `/Users/${id}`, {
  schemas: [patchOp],
  Operations: [
    { op: 'Replace', path: 'displayName', value: 'Carol Chen' },
    { op: 'Replace', path: 'emails[type eq "work"].value', value: userName },
    { op: 'Add', path: `${enterprise}:employeeNumber`, value: '1042' },
    { op: 'Replace', path: 'active', value: 'True' }
  ]
})

// 2. A group, found by displayName, with Carol as a member.
const groups = await scim('GET', `/Groups?excludedAttributes=members&filter=${filter('displayName eq "Support"')}`)
const groupId: string = groups.json.Resources?.[0]?.id ?? (await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: 'support', displayName: 'Support', members: [] })).json.id
await scim('PATCH', `/Groups/${groupId}`, { schemas: [patchOp], Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }] })
await scim('GET', `/Groups?excludedAttributes=members&filter=${filter(`id eq "${groupId}" and members.value eq "${id}"`)}`)

// 3. Deprovisioning: disabled (her sessions end now), then deleted.
await scim('PATCH', `/Users/${id}`, { schemas: [patchOp], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })
if (!keep) await scim('DELETE', `/Users/${id}`)
console.log(keep ? '\nCarol is disabled: see http://localhost:3000/directories/scim (signed in as an Acme user).' : '\nCarol was provisioned, updated, grouped, disabled and deleted.')

/**
 * `npm start`: the example app at http://localhost:3000, a multi-tenant app whose customers each
 * sign in through their own embedded development IdP, unless example/.env configures a single
 * IdP (see example/.env.example). Ctrl-C stops the app and the IdPs.
 */
import { startExample, type RunningExample } from './app.ts'
import { localUser } from './local-users.ts'

let example: RunningExample
try {
  example = await startExample()
} catch (err) {
  // A configuration mistake or a busy port: one readable line, no stack trace.
  console.error(`\n  Cannot start the example: ${(err as Error).message}\n`)
  process.exit(1)
}

const lines = ['', `  Acme B2B example: ${example.url}`]
const tenants = example.config.tenants
if (tenants) {
  lines.push('  Multi-tenant SSO: each customer signs in at its own IdP, chosen by the work email\'s domain.')
  lines.push('', '  Customers, their development IdPs and demo accounts (any non-empty password works):')
  for (const { tenant, idp } of tenants) {
    lines.push(`    ${tenant.name} (${tenant.domains.join(', ')}) → ${idp.protocol} development IdP (${idp.url})`)
    for (const user of tenant.users) lines.push(`      ${user.email.padEnd(18)} ${user.roles?.join(', ') ?? ''}`)
  }
} else {
  lines.push(`  Identity provider: ${example.config.description}`)
}
lines.push('', `  Password login beside SSO: ${localUser.email} / ${localUser.password}`)
if (tenants) lines.push('', `  SCIM base URL: ${example.url}scim/v2 (demo tokens in example/scim.ts; npm run scim:demo replays Entra ID)`)
for (const warning of example.config.warnings) lines.push('', `  Warning: ${warning}`)
lines.push('', '  Ctrl-C to stop.', '')
console.log(lines.join('\n'))

let stopping = false
async function stop (signal: NodeJS.Signals): Promise<void> {
  if (stopping) return
  stopping = true
  example.app.log.info(`${signal}: shutting down`)
  // Never hang on a stuck connection: leave after 5 s whatever happens.
  setTimeout(() => process.exit(1), 5000).unref()
  await example.close()
  process.exit(0)
}
process.on('SIGINT', () => { void stop('SIGINT') })
process.on('SIGTERM', () => { void stop('SIGTERM') })

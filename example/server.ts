/**
 * `npm start`: the example app at http://localhost:3000, on the embedded development IdP unless
 * example/.env configures another (see example/.env.example). Ctrl-C stops the app and the IdP.
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

const lines = ['', `  Acme B2B example: ${example.url}`, `  Identity provider: ${example.config.description}`]
const devIdp = example.config.devIdp
if (devIdp) {
  lines.push('', '  Demo accounts on the development IdP (any non-empty password works):')
  for (const user of devIdp.users) {
    lines.push(`    ${user.email.padEnd(18)} ${(user.organizationName ?? '').padEnd(7)} ${user.roles?.join(', ') ?? ''}`)
  }
}
lines.push('', `  Password login beside SSO: ${localUser.email} / ${localUser.password}`)
if (devIdp) lines.push('', `  SCIM base URL: ${example.url}scim/v2 (demo tokens in example/scim.ts; npm run scim:demo replays Entra ID)`)
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

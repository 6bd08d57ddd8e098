/**
 * `npm start`: the example app at http://localhost:3000, on the embedded development IdP unless
 * example/.env configures another (see example/.env.example).
 */
import { startExample } from './app.ts'
import { defaultDevUsers } from '../src/testing/index.ts'

const example = await startExample()
const lines = [
  '',
  `  Acme B2B example: ${example.url}`,
  `  Identity provider: ${example.config.description}`
]
if (example.config.devIdp) {
  lines.push('  Demo accounts (any non-empty password works on the development IdP):')
  for (const user of defaultDevUsers) lines.push(`    ${user.email.padEnd(18)} ${user.organizationName ?? ''} ${user.roles?.join(', ') ?? ''}`)
}
lines.push('  Password login beside SSO: demo@example.test / demo-password', '  Ctrl-C to stop.', '')
console.log(lines.join('\n'))

let stopping = false
async function stop (signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  example.app.log.info(`${signal}: shutting down`)
  const force = setTimeout(() => process.exit(1), 5000)
  force.unref()
  await example.close()
  process.exit(0)
}
process.on('SIGINT', () => { void stop('SIGINT') })
process.on('SIGTERM', () => { void stop('SIGTERM') })

/**
 * `npm start` (example/server.ts) as a newcomer meets it: what it prints, and that Ctrl-C or a
 * SIGTERM stops the app and the development IdP, leaving no process behind.
 */
import { test } from 'tap'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer } from 'node:net'
import { secret } from './fixtures/app.ts'

/** The environment without any IdP configuration the developer's shell may carry. */
function cleanEnv (extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  const configuration = /^(OIDC_|WORKOS_|CUSTOMER_ORGANIZATION_ID$|SESSION_SECRET$|PORT$|LOG_LEVEL$)/
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !configuration.test(name)) env[name] = value
  return { ...env, ...extra }
}

function start (t: { teardown(fn: () => unknown): void }, env: Record<string, string>) {
  const child = spawn(process.execPath, ['example/server.ts'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }) as unknown as ChildProcessWithoutNullStreams
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  child.stderr.on('data', (chunk) => { output += chunk })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up banner:\n${output}`)), 15_000)
    const check = () => {
      if (output.includes('Ctrl-C')) { clearTimeout(timer); resolve(output) }
    }
    child.stdout.on('data', check)
    void exited.then(() => { clearTimeout(timer); resolve(output) })
  })
  return { child, ready, exited, output: () => output }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`npm start prints the URL and the demo accounts; ${signal} stops the app and the IdP`, async (t) => {
    const { child, ready, exited } = await start(t, { PORT: '0' })
    const output = await ready
    const url = /Acme B2B example: (http:\/\/localhost:\d+\/)/.exec(output)?.[1]
    t.ok(url, 'prints http://localhost:<port>/')
    t.match(output, /alice@acme\.test/, 'names a demo email')
    t.match(output, /any non-empty password works/)
    t.match(output, /demo@example\.test \/ demo-password/, 'and the password login')
    t.match(output, /Warning: SESSION_SECRET is not set/, 'the missing secret, in words')
    t.notMatch(output, /"level"|oidc-provider|WARNING/, 'no JSON log lines, no adapter warning')
    t.match(output, /Acme \(acme\.test\) → oidc development IdP[\s\S]*Globex \(globex\.test\) → oidc development IdP/, 'each customer and its own IdP')
    t.match(output, /bob@globex\.test/)
    const idp = /development IdP \((http:\/\/127\.0\.0\.1:\d+)\)/.exec(output)![1]!
    const port = new URL(url!).port
    t.equal((await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).headers.get('location'), `${url}`, '127.0.0.1 is sent to localhost')
    t.equal((await fetch(`${idp}/.well-known/openid-configuration`)).status, 200, 'the IdP runs')

    child.kill(signal)
    t.equal(await exited, 0, 'exits cleanly')
    await t.rejects(fetch(`http://127.0.0.1:${port}/`), 'the app is stopped')
    await t.rejects(fetch(`${idp}/.well-known/openid-configuration`), 'the development IdP is stopped too')
  })
}

test('with SESSION_SECRET set, no warning', async (t) => {
  const { child, ready, exited } = await start(t, { PORT: '0', SESSION_SECRET: secret })
  t.notMatch(await ready, /Warning/)
  child.kill('SIGINT')
  t.equal(await exited, 0)
})

test('a busy port is one readable line, and nothing keeps running', async (t) => {
  const busy = createServer()
  await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => busy.close(resolve)))
  const port = (busy.address() as { port: number }).port
  const { exited, output } = await start(t, { PORT: String(port) })
  t.equal(await exited, 1, 'exits by itself')
  t.match(output(), new RegExp(`Cannot start the example: Port ${port} is already in use`))
  t.notMatch(output(), /\n\s+at /, 'no stack trace')
})

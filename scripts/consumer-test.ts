/**
 * The package as users install it: `npm pack`, the tarball installed into a fresh application,
 * that application type-checked the way many apps compile (strict, `module: nodenext`, no
 * `skipLibCheck`; once more without the DOM types) by several TypeScript versions, and run on
 * Node 22 (the `engines` floor) and Node 24; first without the optional peers, then with them
 * (scripts/consumer/ is the application). publint and
 * are-the-types-wrong lint the tarball, `npm publish --dry-run` must print no warning about the
 * package, and no declaration file may import an optional peer.
 *
 *   npm run test:consumer           (CI runs it after `npm test`, see .ci/run)
 *
 * Needs the npm registry or a warm npm cache (`--prefer-offline`). REDIS_URL also runs the app's
 * ioredis client through Redis; CONSUMER_KEEP=1 keeps the scratch directory for inspection.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const fixture = fileURLToPath(new URL('./consumer/', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

// Pinned so that a CI run today and one next month check the same things.
const tools = { publint: '0.3.25', attw: '0.18.5' }
// The TypeScript versions an application may compile with: 5.4 is the oldest that reads fastify 5's
// own declarations (they use NoInfer); the project's own (7) is added below. `typescript` (5.9)
// also emits the JavaScript that runs.
const typescripts: Record<string, string> = { 'typescript-5.4': '~5.4.5', typescript: '~5.9.3' }
const optionalPeers = Object.keys(pkg.peerDependenciesMeta ?? {}).filter(name => pkg.peerDependenciesMeta[name].optional)
// The peers installed in the second phase: the oldest major each peer range accepts.
const peerInstalls = ['ioredis@^5', 'oidc-provider@^9']

const nodeFloor = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(pkg.engines?.node ?? '')
if (!nodeFloor) throw new Error(`package.json engines.node should read ">=22.x", not ${JSON.stringify(pkg.engines?.node)}`)
const nodes = { [`Node ${nodeFloor[1]}.${nodeFloor[2]}.${nodeFloor[3] ?? 0}`]: `node@${nodeFloor[1]}.${nodeFloor[2]}.${nodeFloor[3] ?? 0}`, 'Node 24': 'node@24' }

const work = mkdtempSync(join(tmpdir(), 'fastify-sso-consumer-'))
const app = join(work, 'app')
const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn']
const failures: string[] = []
const started = performance.now()

interface Output { code: number | null, out: string }

/** Runs a command to completion (at most `timeoutMs`), capturing stdout and stderr together. */
function run (command: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NODE_ENV: 'test', FORCE_COLOR: '0' } })
    let out = ''
    child.stdout.on('data', chunk => { out += chunk })
    child.stderr.on('data', chunk => { out += chunk })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

/** Like run(), but a non-zero exit is a failure of the whole test (the step stops here). */
async function must (command: string, args: string[], cwd: string): Promise<string> {
  const { code, out } = await run(command, args, cwd)
  if (code !== 0) throw new Error(`\`${command} ${args.join(' ')}\` exited with ${code}:\n${out}`)
  return out
}

async function step<T> (name: string, body: () => Promise<T>): Promise<T> {
  const at = performance.now()
  try {
    return await body()
  } finally {
    console.log(`consumer: ${name} (${((performance.now() - at) / 1000).toFixed(1)} s)`)
  }
}

/** A check that does not stop the run, so one CI log shows every broken version at once. */
function expect (ok: boolean, what: string, output = ''): void {
  if (ok) return
  failures.push(what)
  console.log(`consumer: FAILED ${what}\n${output.trim().replace(/^/gm, '    ')}`)
}

function npmWarnings (output: string): string[] {
  return output.split('\n').filter(line => /^npm warn/i.test(line) &&
    // Only a registry login removes this one; it says nothing about the package.
    !/requires you to be logged in/.test(line))
}

function declarationFiles (dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(file => file.endsWith('.d.ts')).map(file => join(dir, file))
}

/**
 * Every compiler checks `project`; the emitter also writes out/ (what runs next). `withoutDom`
 * adds a run without the DOM types that reports errors in fastify-sso's own files only.
 */
async function typecheck (phase: string, project: string, compilers: Record<string, string>, emitter: string, withoutDom: boolean): Promise<void> {
  await step(`${phase}: type-check with TypeScript ${Object.keys(compilers).join(', ')}${withoutDom ? '; without DOM types' : ''}`, async () => {
    const jobs: Array<() => Promise<void>> = Object.entries(compilers).map(([version, tsc]) => async () => {
      const { code, out } = await run(process.execPath, [tsc, '-p', project, '--pretty', 'false', ...(tsc === emitter ? [] : ['--noEmit'])], app)
      expect(code === 0, `${phase}: TypeScript ${version} (strict, nodenext, no skipLibCheck)`, out)
    })
    if (withoutDom) {
      jobs.push(async () => {
        // Node-only type libraries, as @tsconfig/node22 sets them. @workos-inc/node's declarations
        // need the DOM's TextEncoder and BodyInit types there (its problem, not ours).
        const { out } = await run(process.execPath, [emitter, '-p', project, '--lib', 'es2022', '--pretty', 'false', '--noEmit'], app)
        const ours = out.split('\n').filter(line => line.includes('node_modules/fastify-sso/'))
        expect(ours.length === 0, `${phase}: fastify-sso's declarations without the DOM types`, ours.join('\n'))
      })
    }
    // Two at a time: CI machines have two cores.
    await Promise.all([0, 1].map(async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) await job()
    }))
  })
}

async function runApp (phase: string, script: string, binaries: Record<string, string>): Promise<void> {
  await step(`${phase}: run on ${Object.keys(binaries).join(' and ')}`, async () => {
    for (const [label, node] of Object.entries(binaries)) {
      const { code, out } = await run(node, [script], app, 60_000)
      expect(code === 0, `${phase}: ${script} on ${label}`, out)
      if (code === 0) console.log(`  ${label}:\n${out.trimEnd()}`)
    }
  })
}

try {
  console.log(`consumer: scratch directory ${work}`)
  // The package, the two Node versions and the linters, fetched side by side.
  const [, binaries, linters] = await Promise.all([
    step('npm pack (builds dist/)', async () => {
      expect(npmWarnings(await must('npm', ['pack', '--pack-destination', work], root)).length === 0, 'npm pack printed warnings')
    }),
    step(`install ${Object.values(nodes).join(', ')}`, async () => {
      const binaries: Record<string, string> = {}
      await Promise.all(Object.entries(nodes).map(async ([label, spec]) => {
        const prefix = join(work, spec.replace(/[@.]/g, '-'))
        await must('npm', ['install', '--prefix', prefix, ...npmFlags, spec], work)
        binaries[label] = join(prefix, 'node_modules', '.bin', 'node')
        const version = (await must(binaries[label], ['--version'], work)).trim()
        console.log(`  ${label}: ${version}`)
      }))
      return binaries
    }),
    step('install publint and @arethetypeswrong/cli', async () => {
      const prefix = join(work, 'lint')
      await must('npm', ['install', '--prefix', prefix, ...npmFlags, `publint@${tools.publint}`, `@arethetypeswrong/cli@${tools.attw}`], work)
      return { publint: join(prefix, 'node_modules', 'publint', 'src', 'cli.js'), attw: join(prefix, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js') }
    })
  ])
  const tarball = join(work, readdirSync(work).find(file => file.endsWith('.tgz'))!)

  await step('lint: publint, are-the-types-wrong, npm publish --dry-run', async () => {
    const publint = await run(process.execPath, [linters.publint, 'run', tarball, '--strict'], work)
    expect(publint.code === 0 && !/warning|error|suggestion/i.test(publint.out.replace(/All good!/, '')), 'publint --strict', publint.out)
    // ESM only (as `engines` allows: Node 22.12+ can require() it too), so the CommonJS-only
    // resolution modes are not the package's to pass.
    const attw = await run(process.execPath, [linters.attw, tarball, '--profile', 'esm-only', '--format', 'table-flipped'], work)
    expect(attw.code === 0, 'are-the-types-wrong (esm-only profile)', attw.out)
    const publish = await run('npm', ['publish', '--dry-run', '--ignore-scripts'], root)
    const warnings = npmWarnings(publish.out)
    expect(publish.code === 0 && warnings.length === 0, 'npm publish --dry-run without warnings', warnings.join('\n') || publish.out)
  })

  await step('install the tarball into a fresh app', async () => {
    cpSync(fixture, app, { recursive: true })
    writeFileSync(join(app, 'package.json'), JSON.stringify({
      name: 'fastify-sso-consumer',
      private: true,
      type: 'module',
      dependencies: { 'fastify-sso': `file:${tarball}`, fastify: '^5.0.0' },
      devDependencies: {
        '@types/node': `^${nodeFloor[1]}`,
        ...Object.fromEntries(Object.entries(typescripts).map(([name, range]) => [name, name === 'typescript' ? range : `npm:typescript@${range}`]))
      }
    }, null, 2))
    await must('npm', ['install', ...npmFlags], app)
    for (const peer of optionalPeers) {
      if (existsSync(join(app, 'node_modules', peer))) throw new Error(`${peer} was installed although nothing asked for it`)
    }
  })

  const installed = join(app, 'node_modules', 'fastify-sso')
  await step('no declaration file imports an optional peer', async () => {
    for (const file of declarationFiles(join(installed, 'dist'))) {
      // Doc comments may show an import (an @example); only code counts.
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
      for (const peer of optionalPeers) {
        const imports = new RegExp(`(from|import\\()\\s*['"]${peer.replace(/[/.]/g, '\\$&')}(/[^'"]*)?['"]`)
        expect(!imports.test(text), `${file.slice(installed.length + 1)} imports the optional peer ${peer}`, text.split('\n').find(line => imports.test(line)))
      }
    }
  })

  const compilers: Record<string, string> = {}
  for (const name of Object.keys(typescripts)) {
    const dir = join(app, 'node_modules', name)
    compilers[JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version] = join(dir, 'bin', 'tsc')
  }
  // The compiler the project builds with (`npm run build`), also as a consumer's.
  compilers[JSON.parse(readFileSync(join(root, 'node_modules', 'typescript', 'package.json'), 'utf8')).version] = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const emitter = join(app, 'node_modules', 'typescript', 'bin', 'tsc')

  await typecheck('without optional peers', 'tsconfig.json', compilers, emitter, false)
  await runApp('without optional peers', 'out/without-peers.js', binaries)

  await step(`install ${peerInstalls.join(', ')}`, () => must('npm', ['install', ...npmFlags, ...peerInstalls], app))
  // Without the DOM types once: whether the peers are installed changes nothing there.
  await typecheck('with optional peers', 'tsconfig.with-peers.json', compilers, emitter, true)
  await runApp('with optional peers', 'out/with-peers.js', binaries)
} catch (err) {
  failures.push((err as Error).message)
  console.log(`consumer: FAILED ${(err as Error).message}`)
} finally {
  if (process.env.CONSUMER_KEEP) console.log(`consumer: kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}

const total = (performance.now() - started) / 1000
console.log(`consumer: ${failures.length === 0 ? 'passed' : `${failures.length} failure(s)`} in ${total.toFixed(0)} s`)
for (const failure of failures) console.log(`  - ${failure.split('\n')[0]}`)
process.exit(failures.length === 0 ? 0 : 1)

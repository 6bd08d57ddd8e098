/**
 * `node bench/compare.ts <other checkout> [variant ids]`: this checkout against another one (an
 * earlier commit, checked out with `git worktree add` and its own `npm ci`), on the same machine in
 * the same minutes: fresh server processes of both, alternating, for each request variant, then
 * logins. Prints medians of server CPU per request (and per login) with the ratio, for "no
 * regression" checks that one full run on a shared machine is too noisy to settle.
 *
 * @example
 * ```sh
 * git worktree add /tmp/base v0.1.0 && (cd /tmp/base && npm ci)
 * node bench/compare.ts /tmp/base bare,protected,public-cookie   # COMPARE_PAIRS=8 COMPARE_LOGINS=1500
 * ```
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { measure } from './load.ts'
import { measureLogins } from './login.ts'
import { startServer } from './processes.ts'
import { median } from './stats.ts'
import { variants } from './variants.ts'

const [otherDir, idsArg] = process.argv.slice(2)
if (!otherDir) {
  console.error('usage: node bench/compare.ts <other checkout> [variant ids, comma-separated]')
  process.exit(2)
}
const pairs = Number(process.env.COMPARE_PAIRS ?? 8)
const logins = Number(process.env.COMPARE_LOGINS ?? 1500)
const ids = (idsArg ?? 'bare,protected,public-cookie').split(',')
const other = async <T>(file: string): Promise<T> => await import(pathToFileURL(resolve(otherDir, 'bench', file)).href) as T
const otherStart = (await other<typeof import('./processes.ts')>('processes.ts')).startServer
const otherLogins = (await other<typeof import('./login.ts')>('login.ts')).measureLogins

type Side = 'this' | 'other'
/** Both sides, in alternating order, `pairs` times: a process's luck is drawn afresh each time. */
async function alternate (measureOne: (side: Side) => Promise<number>): Promise<Record<Side, number[]>> {
  const values: Record<Side, number[]> = { this: [], other: [] }
  for (let pair = 0; pair < pairs; pair++) {
    for (const side of pair % 2 === 0 ? ['other', 'this'] as const : ['this', 'other'] as const) values[side].push(await measureOne(side))
  }
  return values
}

function line (label: string, unit: string, values: Record<Side, number[]>): string {
  const mine = median(values.this)
  const theirs = median(values.other)
  return `${label}: ${unit} other ${theirs.toFixed(2)}, this ${mine.toFixed(2)}, this ÷ other **${(mine / theirs).toFixed(3)}** ` +
    `(pairs this/other: ${values.this.map((value, i) => (value / values.other[i]!).toFixed(2)).join(' ')})`
}

for (const id of ids) {
  const variant = variants.find(candidate => candidate.id === id)
  if (!variant) throw new Error(`unknown variant ${id}: one of ${variants.map(candidate => candidate.id).join(', ')}`)
  const cpu = await alternate(async (side) => {
    const server = await (side === 'this' ? startServer : otherStart)(variant.server.script, variant.server.args)
    try {
      await measure(variant, server, 2, 10)
      return (await measure(variant, server, 5, 10)).cpuUs
    } finally {
      await server.stop()
    }
  })
  console.log(line(id, 'server CPU µs/req', cpu))
}
const loginCpu = await alternate(async (side) => (await (side === 'this' ? measureLogins : otherLogins)(logins)).cpuUs / 1000)
console.log(line('login', 'server CPU ms/login', loginCpu))

/**
 * `node bench/profile-summary.ts <file.cpuprofile> [rows]`: where a V8 CPU profile (from
 * `BENCH_CPU_PROF=<dir> npm run bench`) spent its time, by package and by function (self time),
 * so a profile can be read, and quoted, without a browser.
 */
import { readFileSync } from 'node:fs'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const [file, rowsArg] = process.argv.slice(2)
if (!file) {
  console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [rows]')
  process.exit(2)
}
const rows = Number(rowsArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
const frames = new Map(profile.nodes.map(node => [node.id, node.callFrame]))

/** `fastify`, `@fastify/cookie`, `src/session.ts`, `node:internal/…`, or the V8 pseudo-frame. */
function owner (frame: CallFrame): string {
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1]
  if (module) return module
  const own = /\/((?:src|bench|test|example)\/.*)$/.exec(frame.url)?.[1]
  return own ?? (frame.url || `(${frame.functionName || 'native'})`)
}

const byOwner = new Map<string, number>()
const byFunction = new Map<string, number>()
let total = 0
profile.samples.forEach((id, index) => {
  const micros = profile.timeDeltas[index] ?? 0
  const frame = frames.get(id)!
  total += micros
  const where = owner(frame)
  byOwner.set(where, (byOwner.get(where) ?? 0) + micros)
  const name = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros)
})

function print (title: string, table: Map<string, number>): void {
  console.log(`\n${title}`)
  for (const [name, micros] of [...table].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${(100 * micros / total).toFixed(1).padStart(6)} %  ${name}`)
  }
}
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`)
print('by package or file (self time)', byOwner)
print('by function (self time)', byFunction)

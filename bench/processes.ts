/**
 * Benchmark servers as child processes (never the runner's event loop), and their CPU time read
 * from the outside, so every variant, Fastify or Express, is measured the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export interface ServerProcess {
  port: number
  /** The Cookie header of a signed-in client ('' when none). */
  cookie: string
  /** A file the server wrote for the runner, if any. */
  file?: string
  pid: number
  stop(): Promise<void>
}

const serversDir = fileURLToPath(new URL('./servers/', import.meta.url))

/**
 * Starts `bench/servers/<script>` with `args` and waits for its READY line. With
 * BENCH_CPU_PROF=<dir>, each server writes a V8 CPU profile there when it stops (open it in
 * Chrome DevTools or speedscope).
 */
export async function startServer (script: string, args: string[] = []): Promise<ServerProcess> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, '--cpu-prof-interval=50'] : []
  const child: ChildProcess = spawn(process.execPath, [...profile, `${serversDir}${script}`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`bench server ${script} ${args.join(' ')} exited (${code}) before it was ready`) })
  const ready = (async () => {
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line.startsWith('READY ')) return JSON.parse(line.slice(6)) as { port: number, cookie?: string, file?: string }
    }
    throw new Error(`bench server ${script} closed its output before it was ready`)
  })()
  const info = await Promise.race([ready, exited])
  exited.catch(() => {}) // from now on an exit is a stop
  return {
    port: info.port,
    cookie: info.cookie ?? '',
    ...(info.file ? { file: info.file } : {}),
    pid: child.pid!,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

const ticksPerSecond = 100 // USER_HZ on Linux

/** CPU microseconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuMicros (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / ticksPerSecond)
}

/**
 * One measurement: autocannon (in the runner's process) against one server process for a fixed
 * time, with the server's own CPU time read from /proc before and after.
 */
import autocannon from 'autocannon'
import { cpuMicros, type ServerProcess } from './processes.ts'
import { requestFor, type Variant } from './variants.ts'

export interface Sample {
  /** Requests per second. */
  rps: number
  /** Latency percentiles in ms (from every response's own timing, to the microsecond). */
  p50: number
  p99: number
  /** Server CPU per request, µs (user + system of the server process). */
  cpuUs: number
  /** Bytes of one response (status line, headers, body). */
  responseBytes: number
  /** Bytes of the Cookie header sent. */
  cookieBytes: number
  requests: number
}

export async function measure (variant: Variant, server: ServerProcess, seconds: number, connections: number): Promise<Sample> {
  const url = `http://127.0.0.1:${server.port}${variant.path}`
  // autocannon's own percentiles are whole milliseconds; these requests take a fraction of one.
  const latencies: number[] = []
  const before = cpuMicros(server.pid)
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, requests: [requestFor(variant, server.cookie, server.file)] }, (err, done) => { err ? reject(err) : resolve(done) })
    instance.on('response', (_client, _status, _bytes, milliseconds) => { latencies.push(milliseconds) })
  })
  const usedUs = cpuMicros(server.pid) - before
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${variant.id}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts: the variant does not measure what it says`)
  }
  const total = result.requests.total
  return {
    rps: total / result.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    cpuUs: usedUs / total,
    responseBytes: result.throughput.total / total,
    cookieBytes: variant.withCookie && server.cookie ? Buffer.byteLength(`cookie: ${server.cookie}`) : 0,
    requests: total
  }
}

function percentile (values: number[], fraction: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!
}

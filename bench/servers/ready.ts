/**
 * How a benchmark server process tells the runner it is up: one line on stdout,
 * `READY {"port":…,"cookie":…}`, once it listens on 127.0.0.1. SIGTERM closes it.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReadyInfo {
  /** The Cookie header a signed-in client sends ('' when the variant has no session). */
  cookie?: string
  /** A file the server wrote for the runner (many sessions, signed webhook events). */
  file?: string
}

export async function announce (server: Server, close: () => Promise<unknown>, info: ReadyInfo = {}): Promise<void> {
  if (!server.listening) await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  process.stdout.write(`READY ${JSON.stringify({ port, ...info })}\n`)
  process.once('SIGTERM', () => { close().finally(() => process.exit(0)) })
}

/** The `name=value` part of a Set-Cookie header. */
export function cookiePair (setCookie: string | string[] | undefined, name: string): string {
  const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []
  const line = lines.find(candidate => candidate.startsWith(`${name}=`))
  if (!line) throw new Error(`no ${name} cookie was set`)
  return line.split(';')[0]!
}

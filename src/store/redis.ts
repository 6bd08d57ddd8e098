/**
 * `redisStore()`: the shared state of several app instances in Redis (ioredis).
 *
 * Layout (every key under `prefix`, default `fastify-sso:`):
 * - `<prefix><key>`: plain values with a TTL (`SET … PX`), single-use markers with
 *   `SET … NX PX` (atomic across instances: exactly one instance wins);
 * - `<prefix>feed:<name>`: a Redis Stream per feed (revocations); each entry carries its own
 *   expiry, the stream is capped (`MAXLEN ~`), readers skip expired entries and remember the
 *   last stream id they read.
 *
 * Every command is bounded by `commandTimeout` (1 s by default): a dead Redis makes calls fail
 * fast, which the plugin turns into 503s (fail closed) or lets through (fail open), never a hang.
 * No `KEYS`, no blocking commands.
 */
import type { Redis, RedisOptions } from 'ioredis'
import { optionError, optionsObject, positiveInteger } from '../option-checks.ts'
import { assertPeerInstalled, importPeer, type OptionalPeer } from '../optional-peer.ts'
import type { SsoStore } from './store.ts'

/**
 * The commands {@link redisStore} sends, as an ioredis client (5 or later) offers them. Described
 * here rather than imported from ioredis, an optional peer, so that applications without it still
 * compile our declarations.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { redisStore, type RedisStoreClient } from 'fastify-sso'
 *
 * const client: RedisStoreClient = new Redis(process.env.REDIS_URL!)
 * const store = redisStore({ client })
 * ```
 */
export interface RedisStoreClient {
  get(key: string): Promise<string | null>
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number): Promise<unknown>
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number, condition: 'NX'): Promise<'OK' | null>
  del(...keys: string[]): Promise<number>
  xadd(key: string, ...fields: string[]): Promise<string | null>
  xrange(key: string, start: string, end: string, countToken: 'COUNT', count: number): Promise<Array<[id: string, fields: string[]]>>
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** An ioredis client of the application's (it stays open when the app closes). */
  client?: RedisStoreClient
  /** A Redis URL (`redis://127.0.0.1:6379`); the store creates and closes its own client. */
  url?: string
  /** Key prefix (default `fastify-sso:`); give each application its own. */
  prefix?: string
  /** Milliseconds any command may take before it fails (default 1,000). */
  commandTimeout?: number
}

/** Entries kept per feed at most (approximately: `MAXLEN ~`). */
const maxFeedEntries = 100_000
/** Entries read per XRANGE call. */
const feedBatch = 1000

/**
 * A store in Redis, shared by every instance of the app.
 *
 * @example
 * ```ts
 * import ssoPlugin, { redisStore } from 'fastify-sso'
 *
 * await app.register(ssoPlugin, {
 *   ...options,
 *   store: redisStore({ url: process.env.REDIS_URL, prefix: 'myapp:sso:' }),
 * })
 * ```
 */
export function redisStore (options: RedisStoreOptions): SsoStore {
  optionsObject('redisStore', options, ['client', 'url', 'prefix', 'commandTimeout'], '{ url } or { client }')
  if ((options.client === undefined) === (options.url === undefined)) {
    throw optionError('redisStore', 'needs exactly one of url (redis://…) or client (an ioredis instance).')
  }
  if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
    throw optionError('redisStore.url', 'must be a redis:// or rediss:// URL.')
  }
  if (options.client !== undefined && typeof options.client.set !== 'function') {
    throw optionError('redisStore.client', 'must be an ioredis client (new Redis(…)).')
  }
  const prefix = options.prefix ?? 'fastify-sso:'
  if (typeof prefix !== 'string' || prefix.length > 128) throw optionError('redisStore.prefix', 'must be a short string such as myapp:sso:.')
  const commandTimeout = positiveInteger('redisStore.commandTimeout', options.commandTimeout, 1000, 'milliseconds')

  // ioredis is loaded on first use, so that applications that never use Redis need not install
  // it; one that forgot it learns so here, at register time, not from 503s in production.
  if (options.client === undefined) assertPeerInstalled(ioredis)
  let ownClient: Promise<Redis> | undefined
  function redis (): Promise<RedisStoreClient> {
    if (options.client) return Promise.resolve(options.client)
    ownClient ??= connect(options.url!, commandTimeout)
    return ownClient
  }

  const key = (name: string) => prefix + name
  const feedKey = (name: string) => `${prefix}feed:${name}`

  return {
    async get (name) {
      return (await redis()).get(key(name))
    },
    async set (name, value, ttlMs) {
      await (await redis()).set(key(name), value, 'PX', Math.max(1, Math.ceil(ttlMs)))
    },
    async add (name, value, ttlMs) {
      return await (await redis()).set(key(name), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX') === 'OK'
    },
    async delete (name) {
      await (await redis()).del(key(name))
    },
    async publish (name, entry, ttlMs) {
      const expiresAt = Date.now() + ttlMs
      await (await redis()).xadd(feedKey(name), 'MAXLEN', '~', String(maxFeedEntries), '*', 'e', entry, 'x', String(expiresAt))
    },
    async readFeed (name, cursor) {
      const connection = await redis()
      const entries: string[] = []
      let last = cursor
      const now = Date.now()
      // Drain what is there (a new instance catches up with every revocation still in force).
      for (let batch = 0; batch < maxFeedEntries / feedBatch; batch++) {
        const rows = await connection.xrange(feedKey(name), last === null ? '-' : `(${last}`, '+', 'COUNT', feedBatch)
        for (const [id, fields] of rows) {
          last = id
          const fieldMap = new Map<string, string>()
          for (let i = 0; i + 1 < fields.length; i += 2) fieldMap.set(fields[i]!, fields[i + 1]!)
          const entry = fieldMap.get('e')
          if (entry !== undefined && Number(fieldMap.get('x')) > now) entries.push(entry)
        }
        if (rows.length < feedBatch) break
      }
      return { entries, cursor: last }
    },
    async close () {
      if (!ownClient) return
      const connection = await ownClient.catch(() => undefined)
      await connection?.quit().catch(() => connection.disconnect())
    }
  }
}

const ioredis: OptionalPeer = { name: 'ioredis', neededBy: 'redisStore({ url })' }

async function connect (url: string, commandTimeout: number): Promise<Redis> {
  const { Redis: RedisClient } = await importPeer(ioredis, () => import('ioredis'))
  const options: RedisOptions = {
    commandTimeout,
    // Fail fast while Redis is down instead of queueing forever; reconnect in the background.
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(commandTimeout, 2000),
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    lazyConnect: false
  }
  const client = new RedisClient(url, options)
  // Connection errors surface through the commands that fail; an unhandled 'error' event would crash the process.
  client.on('error', () => {})
  return client
}

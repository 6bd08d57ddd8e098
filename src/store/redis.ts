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
import { InvalidOptionError } from '../errors.ts'
import { optionError, optionsObject, positiveInteger } from '../option-checks.ts'
import type { SsoStore } from './store.ts'

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** An ioredis client of the application's (it stays open when the app closes). */
  client?: Redis
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
  if (options.client !== undefined && typeof (options.client as Redis).set !== 'function') {
    throw optionError('redisStore.client', 'must be an ioredis client (new Redis(…)).')
  }
  const prefix = options.prefix ?? 'fastify-sso:'
  if (typeof prefix !== 'string' || prefix.length > 128) throw optionError('redisStore.prefix', 'must be a short string such as myapp:sso:.')
  const commandTimeout = positiveInteger('redisStore.commandTimeout', options.commandTimeout, 1000, 'milliseconds')

  const ownClient = options.client === undefined
  let client: Promise<Redis> | undefined = options.client ? Promise.resolve(options.client) : undefined

  // ioredis is loaded on first use, so that applications that never use Redis need not install it.
  function redis (): Promise<Redis> {
    client ??= connect(options.url!, commandTimeout)
    return client
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
      if (!ownClient || !client) return
      const connection = await client.catch(() => undefined)
      await connection?.quit().catch(() => connection.disconnect())
    }
  }
}

async function connect (url: string, commandTimeout: number): Promise<Redis> {
  let RedisClient: typeof Redis
  try {
    RedisClient = (await import('ioredis')).Redis
  } catch {
    throw InvalidOptionError('fastify-sso: redisStore() needs the ioredis package: npm install ioredis')
  }
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

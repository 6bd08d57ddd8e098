import { test } from 'tap'
import { Redis } from 'ioredis'
import { redisStore } from '../src/index.ts'
import { storeContract } from './store-contract.ts'
import { redisAvailable, redisUrl, skipReason, testPrefix } from './fixtures/redis.ts'

if (!redisAvailable()) {
  test(skipReason, { skip: true }, () => {})
} else {
  test('redisStore follows the SsoStore contract (two clients = two instances)', async (t) => {
    storeContract(t as never, async (t) => {
      const prefix = testPrefix(t)
      const a = redisStore({ url: redisUrl!, prefix })
      const b = redisStore({ url: redisUrl!, prefix })
      t.teardown(async () => { await a.close!(); await b.close!() })
      return { a, b }
    })
  })

  test('prefixes isolate applications', async (t) => {
    const a = redisStore({ url: redisUrl!, prefix: testPrefix(t) })
    const b = redisStore({ url: redisUrl!, prefix: testPrefix(t) })
    t.teardown(async () => { await a.close!(); await b.close!() })
    await a.set('k', 'a', 60_000)
    t.equal(await b.get('k'), null)
    t.equal(await b.add('k', 'b', 60_000), true)
  })

  test('a client passed in belongs to the application: close() leaves it open', async (t) => {
    const client = new Redis(redisUrl!)
    t.teardown(() => client.disconnect())
    const store = redisStore({ client, prefix: testPrefix(t) })
    await store.set('k', 'v', 60_000)
    await store.close!()
    t.equal(await client.ping(), 'PONG')
  })

  test('wrong options throw a coded error', async (t) => {
    t.throws(() => redisStore({} as never), { code: 'FST_SSO_INVALID_OPTION' })
    t.throws(() => redisStore({ url: 'http://x' }), { code: 'FST_SSO_INVALID_OPTION' })
    t.throws(() => redisStore({ url: redisUrl!, commandTimeout: 0 }), { code: 'FST_SSO_INVALID_OPTION' })
    t.throws(() => redisStore({ url: redisUrl!, client: new Redis({ lazyConnect: true }) }), { code: 'FST_SSO_INVALID_OPTION' })
  })
}

/**
 * The behaviour every SsoStore must have, run against memoryStore and redisStore alike.
 * `make()` returns a store; two calls with the same `shared` value are two instances sharing state.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { SsoStore } from '../src/index.ts'

type T = { test(name: string, fn: (t: T & { equal: any, same: any, ok: any, notOk: any, teardown: any }) => Promise<void>): void } & Record<string, any>

export function storeContract (t: T, make: (t: any) => Promise<{ a: SsoStore, b: SsoStore }>): void {
  t.test('get / set with TTL / delete', async (t) => {
    const { a, b } = await make(t)
    t.equal(await a.get('missing'), null)
    await a.set('k', 'v1', 60_000)
    t.equal(await b.get('k'), 'v1', 'visible to the other instance')
    await a.set('k', 'v2', 60_000)
    t.equal(await b.get('k'), 'v2', 'set replaces')
    await b.delete('k')
    t.equal(await a.get('k'), null)
    await a.delete('never-set')
    await a.set('short', 'x', 100)
    await sleep(250)
    t.equal(await b.get('short'), null, 'expired')
  })

  t.test('add: set-if-absent, atomic across instances', async (t) => {
    const { a, b } = await make(t)
    t.equal(await a.add('once', '1', 60_000), true)
    t.equal(await b.add('once', '2', 60_000), false)
    t.equal(await a.get('once'), '1')
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add('race', String(i), 60_000)))
    t.equal(results.filter(Boolean).length, 1, 'exactly one of 20 concurrent adds wins')
    await a.add('brief', '1', 100)
    await sleep(250)
    t.equal(await b.add('brief', '2', 60_000), true, 'an expired key can be added again')
  })

  t.test('feeds: order, cursor, expiry, shared', async (t) => {
    const { a, b } = await make(t)
    t.same((await b.readFeed('f', null)).entries, [])
    await a.publish('f', 'one', 60_000)
    await b.publish('f', 'two', 60_000)
    const first = await a.readFeed('f', null)
    t.same(first.entries, ['one', 'two'])
    await a.publish('f', 'three', 60_000)
    const next = await b.readFeed('f', first.cursor)
    t.same(next.entries, ['three'], 'only what came after the cursor')
    t.same((await b.readFeed('f', next.cursor)).entries, [])
    await a.publish('f', 'brief', 100)
    await sleep(250)
    t.same((await b.readFeed('f', null)).entries, ['one', 'two', 'three'], 'expired entries are not returned')
  })
}

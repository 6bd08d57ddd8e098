/**
 * memoryStore: the SsoStore contract every store follows (test/store-contract.ts, shared with
 * redisStore), and what only the memory store has: expiry exact to the millisecond on an
 * injected clock, and bounds on keys and feed entries.
 */
import { test } from 'tap'
import { memoryStore } from '../src/index.ts'
import { storeContract } from './store-contract.ts'
import { testClock } from './fixtures/app.ts'

test('memoryStore follows the SsoStore contract', async (t) => {
  storeContract(t as never, async () => {
    const store = memoryStore()
    return { a: store, b: store }
  })
})

test('set: a key lives exactly its TTL on the clock', async (t) => {
  const clock = testClock()
  const store = memoryStore({ now: clock.now })
  await store.set('a', '1', 1000)
  t.equal(await store.get('a'), '1')
  clock.advance(999)
  t.equal(await store.get('a'), '1')
  clock.advance(1)
  t.equal(await store.get('a'), null, 'expired')
})

test('add: set-if-absent, and a key added can be added again exactly at its TTL', async (t) => {
  const clock = testClock()
  const store = memoryStore({ now: clock.now })
  t.equal(await store.add('k', 'first', 1000), true)
  t.equal(await store.add('k', 'second', 1000), false)
  t.equal(await store.get('k'), 'first')
  clock.advance(1000)
  t.equal(await store.add('k', 'third', 1000), true)
})

test('bounded: the oldest keys are evicted first', async (t) => {
  const store = memoryStore({ maxEntries: 3 })
  for (const key of ['a', 'b', 'c', 'd']) await store.set(key, key, 60_000)
  t.equal(await store.get('a'), null)
  t.equal(await store.get('d'), 'd')
})

test('feeds: an expired entry at the head goes on the clock; a feed keeps its newest maxFeedEntries', async (t) => {
  const clock = testClock()
  const store = memoryStore({ now: clock.now, maxFeedEntries: 3 })
  await store.publish('f', 'one', 1000)
  await store.publish('f', 'two', 5000)
  t.same((await store.readFeed('f', null)).entries, ['one', 'two'])
  await store.publish('f', 'three', 5000)
  clock.advance(1000)
  t.same((await store.readFeed('f', null)).entries, ['two', 'three'], 'expired entries are gone')
  for (const entry of ['4', '5', '6']) await store.publish('f', entry, 5000)
  t.same((await store.readFeed('f', null)).entries, ['4', '5', '6'], 'bounded')
})

import { test } from 'tap'
import { memoryStore } from '../src/index.ts'
import { testClock } from './fixtures/app.ts'

test('get / set with TTL / delete', async (t) => {
  const clock = testClock()
  const store = memoryStore({ now: clock.now })
  await store.set('a', '1', 1000)
  t.equal(await store.get('a'), '1')
  clock.advance(999)
  t.equal(await store.get('a'), '1')
  clock.advance(1)
  t.equal(await store.get('a'), null, 'expired')
  await store.set('b', '2', 1000)
  await store.delete('b')
  t.equal(await store.get('b'), null)
  await store.delete('never-set')
})

test('add is set-if-absent, and an expired key can be added again', async (t) => {
  const clock = testClock()
  const store = memoryStore({ now: clock.now })
  t.equal(await store.add('k', 'first', 1000), true)
  t.equal(await store.add('k', 'second', 1000), false)
  t.equal(await store.get('k'), 'first')
  clock.advance(1000)
  t.equal(await store.add('k', 'third', 1000), true)
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.add('race', String(i), 1000)))
  t.equal(results.filter(Boolean).length, 1, 'concurrent adds: exactly one wins')
})

test('bounded: the oldest keys are evicted first', async (t) => {
  const store = memoryStore({ maxEntries: 3 })
  for (const key of ['a', 'b', 'c', 'd']) await store.set(key, key, 60_000)
  t.equal(await store.get('a'), null)
  t.equal(await store.get('d'), 'd')
})

test('feeds: entries in order, cursor, expiry, bound', async (t) => {
  const clock = testClock()
  const store = memoryStore({ now: clock.now, maxFeedEntries: 3 })
  let read = await store.readFeed('f', null)
  t.same(read.entries, [])
  await store.publish('f', 'one', 1000)
  await store.publish('f', 'two', 5000)
  read = await store.readFeed('f', null)
  t.same(read.entries, ['one', 'two'])
  await store.publish('f', 'three', 5000)
  const next = await store.readFeed('f', read.cursor)
  t.same(next.entries, ['three'])
  t.same((await store.readFeed('f', next.cursor)).entries, [])
  clock.advance(1000)
  t.same((await store.readFeed('f', null)).entries, ['two', 'three'], 'expired entries are gone')
  for (const entry of ['4', '5', '6']) await store.publish('f', entry, 5000)
  t.same((await store.readFeed('f', null)).entries, ['4', '5', '6'], 'bounded')
})

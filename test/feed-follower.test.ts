/**
 * FeedFollower, which revocations and connection invalidations use to read what other instances
 * published: entries arrive once each and in order, an unreachable store is logged once when it
 * starts failing and once when it is back, and a slow store never gets a second read in flight.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { memoryStore } from '../src/index.ts'
import { FeedFollower, type FeedLog } from '../src/store/feed-follower.ts'
import type { SsoStore } from '../src/store/store.ts'

const messages = { failing: 'feed failing', recovered: 'feed back' }

function recordingLog (): FeedLog & { lines: string[] } {
  const lines: string[] = []
  return { lines, info: (message) => { lines.push(`info ${message}`) }, error: (_details, message) => { lines.push(`error ${message}`) } }
}

/** Waits until `done()` holds (polling every few ms), or fails the test after two seconds. */
async function until (done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 5) {
    if (waited > 2000) throw new Error('timed out')
    await sleep(5)
  }
}

test('read() hands over what was published since the last read, once each, in order', async (t) => {
  const store = memoryStore()
  const seen: string[] = []
  const follower = new FeedFollower(store, 'news', entry => { seen.push(entry) }, recordingLog(), messages)
  await store.publish('news', 'a', 60_000)
  await store.publish('news', 'b', 60_000)
  await follower.read()
  await store.publish('news', 'c', 60_000)
  await follower.read()
  await follower.read()
  t.same(seen, ['a', 'b', 'c'])
  await store.publish('other', 'x', 60_000)
  await follower.read()
  t.same(seen, ['a', 'b', 'c'], 'another feed is not read')
})

test('an unreachable store is logged once while it fails and once when it is back; nothing published meanwhile is lost', async (t) => {
  const store = memoryStore()
  let down = true
  let reads = 0
  const flaky: SsoStore = {
    ...store,
    async readFeed (feed, cursor) {
      reads++
      if (down) throw new Error('connection refused')
      return await store.readFeed(feed, cursor)
    }
  }
  const log = recordingLog()
  const seen: string[] = []
  const follower = new FeedFollower(flaky, 'news', entry => { seen.push(entry) }, log, messages)
  t.teardown(() => follower.stop())
  follower.start(10)
  await until(() => reads >= 4)
  t.ok(follower.failing, 'failing while the store is down')
  t.same(log.lines, ['error feed failing'], 'one error line for many failed reads')
  await store.publish('news', 'while down', 60_000)
  down = false
  await until(() => seen.length > 0)
  await until(() => !follower.failing)
  t.same(seen, ['while down'])
  t.same(log.lines, ['error feed failing', 'info feed back'])
})

test('a slow store gets one read at a time', async (t) => {
  const store = memoryStore()
  let inFlight = 0
  let most = 0
  let reads = 0
  const slow: SsoStore = {
    ...store,
    async readFeed (feed, cursor) {
      reads++
      inFlight++
      most = Math.max(most, inFlight)
      await sleep(50)
      inFlight--
      return await store.readFeed(feed, cursor)
    }
  }
  const follower = new FeedFollower(slow, 'news', () => {}, recordingLog(), messages)
  t.teardown(() => follower.stop())
  follower.start(5)
  await until(() => reads >= 3)
  follower.stop()
  t.equal(most, 1, 'never two reads in flight')
})

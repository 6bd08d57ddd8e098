/**
 * A session's secret provider state in the store: sealed with the session keys (nothing readable
 * in the store), bound to its session id (an entry copied under another session's key is refused),
 * readable after a key rotation, bounded in size, deleted on request.
 */
import { test } from 'tap'
import { randomBytes } from 'node:crypto'
import { CookieCodec } from '../src/cookie-codec.ts'
import { ProviderStateStore } from '../src/provider-state-store.ts'
import { memoryStore } from '../src/index.ts'

const idToken = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'

async function codecFor (t: { teardown (fn: () => unknown): void }, keys: Buffer[]) {
  const codec = await CookieCodec.create(keys, 3600)
  t.teardown(() => codec.close())
  return codec
}

test('put / get / delete, sealed in the store', async (t) => {
  const store = memoryStore()
  const state = new ProviderStateStore(store, await codecFor(t, [randomBytes(32)]))
  await state.put('session-a', { idt: idToken }, 60_000)
  const raw = await store.get('provider-state:session-a')
  t.ok(raw, 'kept under the session id')
  t.notMatch(raw!, /eyJ|idt|session-a/, 'nothing readable')
  t.same(await state.get('session-a'), { idt: idToken })
  t.equal(await state.get('session-b'), null, 'another session has nothing')
  await state.delete('session-a')
  t.equal(await state.get('session-a'), null)
})

test('an entry copied under another session\'s key is refused', async (t) => {
  const store = memoryStore()
  const state = new ProviderStateStore(store, await codecFor(t, [randomBytes(32)]))
  await state.put('victim', { idt: idToken }, 60_000)
  await store.set('provider-state:attacker', (await store.get('provider-state:victim'))!, 60_000)
  t.equal(await state.get('attacker'), null)
})

test('garbage, or state sealed with a key we do not have, reads as nothing', async (t) => {
  const store = memoryStore()
  const state = new ProviderStateStore(store, await codecFor(t, [randomBytes(32)]))
  const other = new ProviderStateStore(store, await codecFor(t, [randomBytes(32)]))
  await other.put('s', { idt: idToken }, 60_000)
  t.equal(await state.get('s'), null)
  await store.set('provider-state:s', 'not a sealed value', 60_000)
  t.equal(await state.get('s'), null)
})

test('key rotation: state sealed under the previous key is still read', async (t) => {
  const [oldKey, newKey] = [randomBytes(32), randomBytes(32)]
  const store = memoryStore()
  await new ProviderStateStore(store, await codecFor(t, [oldKey])).put('s', { idt: idToken }, 60_000)
  t.same(await new ProviderStateStore(store, await codecFor(t, [newKey, oldKey])).get('s'), { idt: idToken })
})

test('expires with its ttl; larger than a cookie is fine, over 64 KB is refused', async (t) => {
  let now = Date.now()
  const store = memoryStore({ now: () => now })
  const state = new ProviderStateStore(store, await codecFor(t, [randomBytes(32)]))
  const large = 'x'.repeat(10_000)
  await state.put('s', { idt: large }, 5_000)
  t.same(await state.get('s'), { idt: large }, 'a 10 KB token (more than a cookie holds) round-trips')
  now += 6_000
  t.equal(await state.get('s'), null, 'expired')
  await t.rejects(state.put('s', { idt: 'x'.repeat(70_000) }, 5_000), RangeError)
})

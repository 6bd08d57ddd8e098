import { test } from 'tap'
import { memoryStore } from '../src/index.ts'
import { storeContract } from './store-contract.ts'

test('memoryStore follows the SsoStore contract', async (t) => {
  storeContract(t as never, async () => {
    const store = memoryStore()
    return { a: store, b: store }
  })
})

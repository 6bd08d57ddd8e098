/**
 * SAML across two app instances sharing Redis: an assertion accepted by one is a replay on the
 * other, and a POST callback parked by one is finished by the other.
 */
import { test } from 'tap'
import { redisStore } from '../src/index.ts'
import { Browser } from './fixtures/browser.ts'
import { redisAvailable, redisUrl, skipReason, testPrefix } from './fixtures/redis.ts'
import { loginAtIdp, post, samlApp, samlIdp, sessionSet } from './fixtures/saml.ts'

type TestLike = Parameters<typeof samlIdp>[0]

async function pair (t: TestLike, provider = {}) {
  const prefix = testPrefix(t)
  const stores = [redisStore({ url: redisUrl!, prefix }), redisStore({ url: redisUrl!, prefix })]
  t.teardown(async () => { for (const store of stores) await store.close!() })
  const idp = await samlIdp(t)
  const [a, b] = await Promise.all(stores.map(store => samlApp(t, idp, provider, { store })))
  return { idp, a: a!, b: b! }
}

if (!redisAvailable()) {
  test(skipReason, { skip: true }, () => {})
} else {
  test('a replayed assertion ID is refused on a second instance sharing Redis', async (t) => {
    const { idp, a, b } = await pair(t, { allowIdpInitiated: true })
    const response = await idp.loginResponse({ email: 'alice@acme.test' })
    const first = await post(a, { SAMLResponse: response })
    t.equal(first.statusCode, 302, first.body)
    const replay = await post(b, { SAMLResponse: response })
    t.equal(replay.statusCode, 401)
    t.match(replay.json(), { code: 'FST_SSO_TOKEN_REJECTED', message: /already used/ })
    t.notOk(sessionSet(replay))
  })

  test('a POST callback parked by one instance is finished by the other', async (t) => {
    const { a, b } = await pair(t)
    const browser = new Browser(a, 'http://localhost:3000')
    const posted = await loginAtIdp(browser)
    const parked = await a.inject({
      method: 'POST',
      url: '/auth/callback',
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ SAMLResponse: posted.SAMLResponse, RelayState: posted.RelayState }).toString()
    })
    t.equal(parked.statusCode, 303)
    const onB = new Browser(b, 'http://localhost:3000')
    for (const [host, cookies] of browser.jar) onB.jar.set(host, cookies)
    const page = await onB.navigate(String(parked.headers.location))
    t.equal(page.url, 'http://localhost:3000/dashboard')
    const again = await browser.navigate(String(parked.headers.location), { headers: { accept: 'application/json' } })
    t.equal(again.status, 400, 'and not a second time on the first')
  })
}

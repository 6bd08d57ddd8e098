/**
 * Tokens on request with two app instances sharing one Redis and one IdP (oidc-provider, refresh
 * tokens rotated, reuse detected): one renewal for calls arriving on both instances at once, and a
 * refusal on one instance signs the session out on the other.
 */
import { test } from 'tap'
import { redisStore } from '../src/index.ts'
import { testClock } from './fixtures/app.ts'
import { redisAvailable, redisUrl, skipReason, testPrefix, within } from './fixtures/redis.ts'
import { accessTokenTtl, keptState, refreshAtIdp, requestToken, revokeAtIdp, signInForTokens, tokenApp, tokenIdp, userinfoStatus } from './fixtures/tokens.ts'
import { json } from './fixtures/app.ts'

type TestLike = Parameters<typeof tokenIdp>[0]

/** Instances A and B of the token app, on one Redis prefix and one clock. */
async function pair (t: TestLike) {
  const idp = await tokenIdp(t)
  const prefix = testPrefix(t)
  const storeA = redisStore({ url: redisUrl!, prefix })
  const storeB = redisStore({ url: redisUrl!, prefix })
  t.teardown(async () => { await storeA.close!(); await storeB.close!() })
  const clock = testClock()
  const { app: a } = await tokenApp(t, idp, clock, { store: storeA })
  const { app: b } = await tokenApp(t, idp, clock, { store: storeB })
  return { idp, a, b, clock }
}

if (!redisAvailable()) {
  test(skipReason, { skip: true }, () => {})
} else {
  test('calls on both instances for an expiring token: one renewal, the same new token everywhere, the rotated refresh token shared', async (t) => {
    const { idp, a, b, clock } = await pair(t)
    const { sessionId, cookie } = await signInForTokens(t, a)
    const before = await keptState(b, sessionId)
    t.type(before?.accessToken, 'string', 'B reads the tokens A kept')
    clock.advance(accessTokenTtl * 1000)
    const results = await Promise.all([a, b, a, b, b, a].map(app => requestToken(app, cookie)))
    t.same(results.map(result => result.status), [200, 200, 200, 200, 200, 200])
    const tokens = new Set(results.map(result => result.body.token))
    t.equal(tokens.size, 1, 'one renewal for six calls on two instances')
    t.not([...tokens][0], before!.accessToken)
    t.equal(await userinfoStatus(idp, [...tokens][0]!), 200)
    const after = await keptState(a, sessionId)
    t.not(after?.refreshToken, before!.refreshToken, 'rotated')
    // A second renewal with the old refresh token would have made oidc-provider revoke the grant:
    // the next renewal, on either instance, works.
    clock.advance(accessTokenTtl * 1000)
    const next = await requestToken(b, cookie)
    t.equal(next.status, 200)
    t.not(next.body.token, [...tokens][0], 'renewed again, with the rotated refresh token')
    t.match(await refreshAtIdp(idp, String(before!.refreshToken)), { status: 400, error: 'invalid_grant' })
  })

  test('a renewal refused on A signs the session out on B', async (t) => {
    const { idp, a, b, clock } = await pair(t)
    const { sessionId, cookie } = await signInForTokens(t, a)
    t.equal((await b.inject({ url: '/api/me', headers: { ...json, cookie } })).statusCode, 200)
    await revokeAtIdp(idp, String((await keptState(a, sessionId))!.refreshToken))
    clock.advance(accessTokenTtl * 1000)
    t.equal((await requestToken(a, cookie)).body.code, 'FST_SSO_REFRESH_REFUSED')
    const elapsed = await within(1500, async () => (await b.inject({ url: '/api/me', headers: { ...json, cookie } })).statusCode === 401)
    t.ok(elapsed <= 1500, `B signed the session out after ${elapsed} ms`)
    t.equal((await requestToken(b, cookie)).status, 401)
  })
}

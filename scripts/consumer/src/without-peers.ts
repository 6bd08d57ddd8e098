/**
 * Runs with neither optional peer (ioredis, oidc-provider) installed: the package loads, an app
 * works with the default store, and each optional feature says which package to install.
 */
import { redisStore } from 'fastify-sso'
import { signIn, startDevIdp } from 'fastify-sso/testing'
import { baseUrl, buildApp, check } from './app.js'

// Compared as a string, the way an application switches on codes.
function isMissingDependency (err: unknown): boolean {
  return (err as { code?: unknown }).code === 'FST_SSO_MISSING_DEPENDENCY'
}

export async function runWithoutPeers (): Promise<void> {
  // Discovery is lazy: nothing listens on this issuer, and nothing needs to until a login starts.
  const app = await buildApp({ issuer: 'http://127.0.0.1:9/consumer', clientId: 'consumer-app' })
  try {
    const signedOut = await app.inject({ url: '/me' })
    check(signedOut.statusCode === 401 && signedOut.json().code === 'FST_SSO_UNAUTHORIZED', 'requireUser() answers 401 without a session')

    const cookie = await signIn(app, { email: 'alice@acme.test', organizationId: 'org_acme', roles: ['member'] })
    const me = await app.inject({ url: '/me', headers: { cookie } })
    check(me.statusCode === 200 && me.json().email === 'alice@acme.test', 'request.user after signIn() from fastify-sso/testing')
    const admin = await app.inject({ url: '/admin', headers: { cookie } })
    check(admin.statusCode === 403, 'requireUser({ roles }) answers 403 to a member')
    check(app.sso.loginUrl('/me') === `${baseUrl}/auth/login?returnTo=%2Fme`, 'app.sso.loginUrl()')

    await app.sso.revoke({ email: 'alice@acme.test' })
    const revoked = await app.inject({ url: '/me', headers: { cookie } })
    check(revoked.statusCode === 401, 'app.sso.revoke() signs the user out')

    const again = await signIn(app, { email: 'bob@globex.test' })
    const signOut = await app.inject({ method: 'POST', url: '/sign-out', headers: { cookie: again } })
    check(signOut.statusCode === 200 && /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(String(signOut.headers['set-cookie'])), 'request.logout(reply) clears the cookie')
  } finally {
    await app.close()
  }
}

export async function checkMissingPeers (): Promise<void> {
  try {
    redisStore({ url: 'redis://127.0.0.1:6379' })
    check(false, 'redisStore({ url }) without ioredis fails')
  } catch (err) {
    check(isMissingDependency(err) && String(err).includes('npm install ioredis'), `redisStore({ url }) without ioredis: ${String(err)}`)
  }
  try {
    const idp = await startDevIdp()
    await idp.close()
    check(false, 'startDevIdp() without oidc-provider fails')
  } catch (err) {
    check(isMissingDependency(err) && String(err).includes('npm install -D oidc-provider'), `startDevIdp() without oidc-provider: ${String(err)}`)
  }
}

// Run directly (the consumer test's first phase); with-peers.ts imports runWithoutPeers only.
if (process.argv[1]?.endsWith('without-peers.js')) {
  await runWithoutPeers()
  await checkMissingPeers()
}

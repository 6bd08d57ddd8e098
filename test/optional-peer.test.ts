/**
 * Optional peers (ioredis, oidc-provider…): a missing one is a coded error with the install
 * command; an installed one that fails to load keeps its own error. The consumer test
 * (scripts/consumer-test.ts) proves the same through the real features in an app without them.
 */
import { test } from 'tap'
import { assertPeerInstalled, importPeer } from '../src/optional-peer.ts'

// Not a literal in import(): TypeScript would look the name up, and it exists nowhere.
const absent: string = 'fastify-sso-test-absent-package'

test('a package that is not installed: FST_SSO_MISSING_DEPENDENCY with the install command', async (t) => {
  await t.rejects(importPeer({ name: absent, neededBy: 'someFeature()' }, () => import(absent)), {
    code: 'FST_SSO_MISSING_DEPENDENCY',
    statusCode: 500,
    message: `someFeature() needs the package ${absent}, which is not installed: npm install ${absent}`
  })
  t.throws(() => assertPeerInstalled({ name: absent, neededBy: 'someFeature({ url })' }), {
    code: 'FST_SSO_MISSING_DEPENDENCY',
    message: `someFeature({ url }) needs the package ${absent}, which is not installed: npm install ${absent}`
  })
})

test('a development-only peer is installed with -D', async (t) => {
  await t.rejects(importPeer({ name: absent, neededBy: 'startDevIdp()', dev: true }, () => import(absent)), {
    code: 'FST_SSO_MISSING_DEPENDENCY',
    message: new RegExp(`: npm install -D ${absent}$`)
  })
})

test('an installed peer loads, and passes the check', async (t) => {
  const { Redis } = await importPeer({ name: 'ioredis', neededBy: 'redisStore({ url })' }, () => import('ioredis'))
  t.type(Redis, 'function')
  t.doesNotThrow(() => assertPeerInstalled({ name: 'ioredis', neededBy: 'redisStore({ url })' }))
})

test('an installed peer whose own dependency is missing keeps its error (not "npm install ioredis")', async (t) => {
  // What Node reports when ioredis is there but a package it imports is not.
  const err = await importPeer({ name: 'ioredis', neededBy: 'redisStore({ url })' }, () => import(absent)).catch((error: unknown) => error)
  t.match(err, { code: 'ERR_MODULE_NOT_FOUND', message: new RegExp(`'${absent}'`) })
})

test('any other loading failure passes through unchanged', async (t) => {
  const broken = new SyntaxError('Unexpected token')
  await t.rejects(importPeer({ name: 'ioredis', neededBy: 'redisStore({ url })' }, () => Promise.reject(broken)), broken)
})

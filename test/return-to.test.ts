import { test } from 'tap'
import { safeReturnTo, maxReturnToLength } from '../src/return-to.ts'

const origin = new URL('https://app.example.com')

test('same-origin paths survive, normalised', async (t) => {
  t.equal(safeReturnTo('/', origin, '/home'), '/')
  t.equal(safeReturnTo('/invoices?page=2#top', origin, '/home'), '/invoices?page=2#top')
  t.equal(safeReturnTo('/a/../b', origin, '/home'), '/b')
  t.equal(safeReturnTo('/caf%C3%A9', origin, '/home'), '/caf%C3%A9')
  t.equal(safeReturnTo('/x?next=https://evil.example', origin, '/home'), '/x?next=https://evil.example')
})

test('open redirects fall back to the default', async (t) => {
  const attacks = [
    '//evil.example', '///evil.example', '/\\evil.example', '\\\\evil.example', '/\\/evil.example',
    'https://evil.example', 'http:evil.example', 'javascript:alert(1)', 'data:text/html,x', 'evil.example',
    '/%2Fevil.example', '/%2fevil.example', '/%5Cevil.example', '/%5cevil.example', '%2F%2Fevil.example',
    '/\tevil', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', '/%09/evil.example', '/%0d%0aSet-Cookie:x=y',
    '/%00', '/\u0000x', '/\u007f', '/\u0085', '/.//evil.example', '/./\\evil.example', ' /x', '',
    'https://app.example.com/x', '/x\\y', '//app.example.com/x', '/' + 'a'.repeat(maxReturnToLength)
  ]
  for (const value of attacks) t.equal(safeReturnTo(value, origin, "/home"), "/home", JSON.stringify(value).slice(0, 40))
})

test('non-strings fall back', async (t) => {
  for (const value of [undefined, null, 42, ['/a', '/b'], { a: 1 }]) t.equal(safeReturnTo(value, origin, '/home'), '/home')
})

test('the longest accepted value is exactly the limit', async (t) => {
  const value = '/' + 'a'.repeat(maxReturnToLength - 1)
  t.equal(safeReturnTo(value, origin, '/home'), value)
})

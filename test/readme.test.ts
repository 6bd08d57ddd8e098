import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { errorCodes } from '../src/errors.ts'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

test('the README lists every error code with its status', async (t) => {
  for (const { code, statusCode } of errorCodes) {
    const row = readme.split('\n').find(line => line.startsWith(`| \`${code}\``))
    t.ok(row, `${code} has a row`)
    t.match(row ?? '', new RegExp(`\\| ${statusCode}\\b`), `${code} is listed as ${statusCode}`)
  }
})

test('the README shows the two commands that set everything up', async (t) => {
  t.match(readme, 'npm install && npm start')
  t.match(readme, 'npm install && npm test')
})

test('every code defined in src/errors.ts is in the exported errorCodes list', async (t) => {
  const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8')
  const defined = [...source.matchAll(/code\('(FST_SSO_[A-Z_]+)'/g)].map(match => match[1])
  t.same(defined.sort(), errorCodes.map(entry => entry.code).sort())
})

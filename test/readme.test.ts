import { test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorCodes } from '../src/errors.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')

interface ErrorRow { status: string, whatToDo: string }

/** The cells of a Markdown table row (escaped `\|` stays inside its cell). */
function cells (line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map(cell => cell.trim())
}

/** The README's error table, by code: the first table whose header has `code`, `status` and `what to do`. */
function errorTable (markdown: string): Map<string, ErrorRow> {
  const lines = markdown.split('\n')
  const headerAt = lines.findIndex(line => {
    const header = cells(line)
    return line.trim().startsWith('|') && header.includes('code') && header.includes('status') && header.includes('what to do')
  })
  const rows = new Map<string, ErrorRow>()
  if (headerAt < 0) return rows
  const header = cells(lines[headerAt] ?? '')
  const [codeColumn, statusColumn, todoColumn] = ['code', 'status', 'what to do'].map(name => header.indexOf(name))
  for (const line of lines.slice(headerAt + 2)) {
    if (!line.trim().startsWith('|')) break
    const row = cells(line)
    const code = /^`(FST_SSO_[A-Z0-9_]+)`$/.exec(row[codeColumn ?? -1] ?? '')?.[1]
    if (code) rows.set(code, { status: row[statusColumn ?? -1] ?? '', whatToDo: row[todoColumn ?? -1] ?? '' })
  }
  return rows
}

/** Every `FST_SSO_*` code written anywhere under src/, including codes built outside errors.ts. */
function codesInSource (): string[] {
  const codes = new Set<string>()
  for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8')
    for (const match of text.matchAll(/\bFST_SSO_[A-Z0-9]+(?:_[A-Z0-9]+)*\b/g)) codes.add(match[0])
  }
  return [...codes].sort()
}

/** The problems of one code's row, or none. */
function rowProblems (code: string, table: Map<string, ErrorRow>): string[] {
  const row = table.get(code)
  if (!row) return [`${code}: no row in the README's error table`]
  const problems: string[] = []
  if (!/\b[1-5]\d\d\b/.test(row.status)) problems.push(`${code}: no status number (${JSON.stringify(row.status)})`)
  if (row.whatToDo.replace(/[\s—–-]/g, '') === '') problems.push(`${code}: the "what to do" cell is empty`)
  return problems
}

test('every FST_SSO_* code in src/ has a README row with its status and what to do', async (t) => {
  const table = errorTable(readme)
  const codes = codesInSource()
  t.ok(codes.length >= errorCodes.length, 'the scan finds at least the codes errors.ts exports')
  t.same(codes.flatMap(code => rowProblems(code, table)), [], 'every code is documented')
})

test('the README lists every exported error code with the status it is raised with', async (t) => {
  const table = errorTable(readme)
  for (const { code, statusCode } of errorCodes) {
    t.match(table.get(code)?.status ?? '', new RegExp(`^${statusCode}\\b`), `${code} is listed as ${statusCode}`)
  }
})

test('the error-table check finds missing rows, statuses and advice', async (t) => {
  const table = errorTable([
    '| code | status | when | what to do |',
    '|---|---|---|---|',
    '| `FST_SSO_GOOD` | 400 | a \\| b | Retry. |',
    '| `FST_SSO_NO_STATUS` | soon | x | Retry. |',
    '| `FST_SSO_NO_ADVICE` | 403 | x | — |'
  ].join('\n'))
  t.same(['FST_SSO_GOOD', 'FST_SSO_NO_STATUS', 'FST_SSO_NO_ADVICE', 'FST_SSO_MISSING'].flatMap(code => rowProblems(code, table)), [
    'FST_SSO_NO_STATUS: no status number ("soon")',
    'FST_SSO_NO_ADVICE: the "what to do" cell is empty',
    'FST_SSO_MISSING: no row in the README\'s error table'
  ])
})

test('the README shows the two commands that set everything up', async (t) => {
  t.match(readme, 'npm install && npm start')
  t.match(readme, 'npm install && npm test')
})

test('the README only introduces: at most 450 lines', async (t) => {
  const lines = readme.split('\n').length
  t.ok(lines <= 450, `README.md has ${lines} lines; move detail into a guide under docs/`)
})

test('every code defined in src/errors.ts is in the exported errorCodes list', async (t) => {
  const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8')
  const defined = [...source.matchAll(/code\('(FST_SSO_[A-Z_]+)'/g)].map(match => match[1])
  t.same(defined.sort(), errorCodes.map(entry => entry.code).sort())
})

test('every code in the README\'s error table exists in errors.ts (no stale rows)', async (t) => {
  const exported = new Set<string>(errorCodes.map(entry => entry.code))
  t.same([...errorTable(readme).keys()].filter(code => !exported.has(code)), [])
})

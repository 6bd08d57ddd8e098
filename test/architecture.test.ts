/**
 * The shape of src/: no import cycle, and no module imports one that stands above it in the
 * dependency order (docs/design/architecture.md). A new module must be placed in a layer here.
 */
import { test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const src = fileURLToPath(new URL('../src/', import.meta.url))

/** Lowest first: a module may import its own layer or a lower one. Patterns match paths under src/. */
const layers: Array<[string, RegExp]> = [
  ['leaves', /^(errors|crypto|html|return-to|request-kind|cookies|defined-fields)\.ts$/],
  ['checks and the user model', /^(option-checks|optional-peer|user|timeout)\.ts$/],
  ['the store', /^store\//],
  ['the provider interface and kit', /^providers\/(provider\.ts|kit\/)/],
  ['providers', /^providers\/[^/]+\.ts$/],
  ['plugin internals', /^(options|cookie-codec|session|transaction|revocation|refresh|core|error-reply|provider-state-store|audit|admin-portal|log-redaction|step-up)\.ts$/],
  ['routes and guard', /^(routes\/|guard\.ts|start-session\.ts|access-token\.ts)/],
  ['plugins', /^(plugin\.ts|directory-sync\/|scim\/)/],
  ['public entry points', /^(index|types)\.ts$|^testing\//]
]

function layerOf (path: string): number {
  return layers.findIndex(([, pattern]) => pattern.test(path))
}

/** Every relative import (type-only ones included) of every module under src/. */
function importGraph (): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const file = relative(src, join(entry.parentPath, entry.name))
    const text = readFileSync(join(src, file), 'utf8')
    const imports = [...text.matchAll(/^(?:import|export)\b[^'"]*?['"](\.{1,2}\/[^'"]+)['"]/gm)]
      .map(match => normalize(join(dirname(file), match[1]!)))
    graph.set(file, imports)
  }
  return graph
}

test('every module under src/ has a layer', async (t) => {
  t.same([...importGraph().keys()].filter(file => layerOf(file) < 0), [], 'add new modules to a layer in this test')
})

test('no module imports one above it', async (t) => {
  const upward: string[] = []
  for (const [file, imports] of importGraph()) {
    for (const target of imports) {
      if (layerOf(target) > layerOf(file)) upward.push(`${file} (${layers[layerOf(file)]?.[0]}) imports ${target} (${layers[layerOf(target)]?.[0]})`)
    }
  }
  t.same(upward, [])
})

test('providers do not import each other (only their own helpers, the interface and the kit)', async (t) => {
  const family = (file: string) => /^providers\/([a-z]+)/.exec(file)?.[1]
  const crossing: string[] = []
  for (const [file, imports] of importGraph()) {
    if (layerOf(file) !== layerOf('providers/x.ts')) continue
    for (const target of imports) {
      if (layerOf(target) === layerOf(file) && family(target) !== family(file)) crossing.push(`${file} imports ${target}`)
    }
  }
  t.same(crossing, [])
})

test('no import cycle', async (t) => {
  const graph = importGraph()
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]): void => {
    state.set(file, 'open')
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), file, target].join(' → '))
      else if (!state.has(target)) visit(target, [...path, file])
    }
    state.set(file, 'done')
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [])
  t.same(cycles, [])
})

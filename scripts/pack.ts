/**
 * Publishing: in the repository, `exports` point at `src/*.ts` (Node strips the types), but Node
 * refuses to strip types inside node_modules, so the published package points at `dist/`.
 * `prepack` builds dist/ and rewrites package.json; `postpack` puts the original back.
 *
 *   node scripts/pack.ts prepack | postpack
 */
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const backup = '.package.json.prepack'

function toDist (path: string, ext: '.js' | '.d.ts'): string {
  return path.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, ext)
}

if (process.argv[2] === 'prepack') {
  // A fresh dist/: a module renamed or removed in src/ must not ship in its old form.
  rmSync('dist', { recursive: true, force: true })
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
  copyFileSync('package.json', backup)
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
  for (const [subpath, target] of Object.entries<Record<string, string> | string>(pkg.exports)) {
    if (typeof target !== 'object') continue
    pkg.exports[subpath] = { types: toDist(target.types!, '.d.ts'), default: toDist(target.default!, '.js') }
  }
  writeFileSync('package.json', JSON.stringify(pkg, null, 2) + '\n')
} else if (process.argv[2] === 'postpack') {
  if (existsSync(backup)) renameSync(backup, 'package.json')
} else {
  throw new Error('usage: node scripts/pack.ts prepack | postpack')
}

/**
 * The documentation's links hold: every relative link in README.md and docs/**\/*.md leads to a file
 * that exists and, with a `#fragment`, to a heading of that file (GitHub's anchors); every page under
 * docs/ is reachable from the README and every guide links back to it.
 */
import { test } from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const readmePath = join(root, 'README.md')

/** README.md and every Markdown file under docs/, as absolute paths. */
function markdownFiles (): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter(name => name.endsWith('.md'))
    .map(name => join(root, 'docs', name))
  return [readmePath, ...docs.sort()]
}

/** The lines outside fenced code blocks (``` or ~~~), others blanked so line numbers stay. */
function proseLines (markdown: string): string[] {
  let fence: string | null = null
  return markdown.split('\n').map(line => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence === null && marker !== undefined) { fence = marker; return '' }
    if (fence !== null) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null
      return ''
    }
    return line
  })
}

/** Removes inline code spans (their text could look like links). */
function withoutCodeSpans (line: string): string {
  return line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '')
}

/**
 * GitHub's anchor for a heading (github-slugger): the rendered text, lower-cased, every character
 * that is not a letter, digit, mark, `-`, `_` or space dropped, each space turned into `-`.
 */
function slug (headingText: string): string {
  const rendered = headingText
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images keep their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/`/g, '')
    .replace(/(^|[^\p{L}\p{N}])[*_]+|[*_]+(?=[^\p{L}\p{N}]|$)/gu, '$1') // emphasis markers, not snake_case
  return rendered.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-')
}

/** Every anchor a Markdown file offers: its headings (repeats get `-1`, `-2`…) and HTML ids. */
function anchorsOf (markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  const add = (text: string) => {
    const base = slug(text)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    anchors.add(count === 0 ? base : `${base}-${count}`)
  }
  const lines = proseLines(markdown)
  lines.forEach((line, index) => {
    const atx = /^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(line)
    if (atx) { add(atx[1] ?? ''); return }
    const previous = lines[index - 1] ?? ''
    if (/^ {0,3}(=+|-+)\s*$/.test(line) && previous.trim() !== '' && !/^ {0,3}([#>|*+-]|\d+[.)])/.test(previous)) add(previous.trim())
    for (const match of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(match[1] ?? '')
  })
  return anchors
}

/** The link targets of a Markdown text: inline links and images, reference definitions, href/src. */
function linkTargets (markdown: string): string[] {
  const targets: string[] = []
  for (const line of proseLines(markdown).map(withoutCodeSpans)) {
    for (const match of line.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)) targets.push(match[1] ?? '')
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)/.exec(line)
    if (definition) targets.push(definition[1] ?? '')
    for (const match of line.matchAll(/\s(?:href|src)="([^"]+)"/g)) targets.push(match[1] ?? '')
  }
  return targets
}

const external = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i

/** Where a relative link from `file` leads: the absolute path and the fragment (or null). */
function resolveLink (file: string, target: string): { path: string, fragment: string | null } {
  const hash = target.indexOf('#')
  const pathPart = decodeURIComponent((hash < 0 ? target : target.slice(0, hash)).split('?')[0] ?? '')
  const fragment = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1))
  const path = pathPart === '' ? file : pathPart.startsWith('/') ? join(root, pathPart) : resolve(dirname(file), pathPart)
  return { path, fragment }
}

/** The relative links in `markdown` (read from `file`) that lead nowhere, each with the reason. */
function brokenLinks (file: string, markdown: string): string[] {
  const broken: string[] = []
  const name = relative(root, file)
  for (const target of linkTargets(markdown)) {
    if (external.test(target)) continue
    const { path, fragment } = resolveLink(file, target)
    if (path !== file && !existsSync(path)) { broken.push(`${name}: ${target} (no such file)`); continue }
    if (fragment === null || fragment === '') continue
    if (path.endsWith('.md')) {
      const text = path === file ? markdown : readFileSync(path, 'utf8')
      if (!anchorsOf(text).has(fragment)) broken.push(`${name}: ${target} (no heading #${fragment} in ${relative(root, path)})`)
    } else if (!/^L\d+(-L\d+)?$/.test(fragment)) {
      broken.push(`${name}: ${target} (a fragment on a file that has no headings)`)
    }
  }
  return broken
}

test('every relative link in README.md and docs/ leads to an existing file and heading', async (t) => {
  const files = markdownFiles()
  t.ok(files.length > 5, 'the README and the guides are all read')
  const broken = files.flatMap(file => brokenLinks(file, readFileSync(file, 'utf8')))
  t.same(broken, [], 'no broken links')
})

test('every page under docs/ can be reached from the README', async (t) => {
  const reached = new Set<string>()
  const queue = [readmePath]
  while (queue.length > 0) {
    const file = queue.shift() as string
    if (reached.has(file)) continue
    reached.add(file)
    for (const target of linkTargets(readFileSync(file, 'utf8'))) {
      if (external.test(target)) continue
      const { path } = resolveLink(file, target)
      if (path.endsWith('.md') && existsSync(path)) queue.push(path)
    }
  }
  const orphans = markdownFiles().filter(file => !reached.has(file)).map(file => relative(root, file))
  t.same(orphans, [], 'no page is an orphan')
})

test('every guide in docs/ links back to the README in its introduction', async (t) => {
  const guides = readdirSync(join(root, 'docs')).filter(name => name.endsWith('.md'))
  for (const guide of guides) {
    const [title = '', intro = ''] = readFileSync(join(root, 'docs', guide), 'utf8').split(/\n\s*\n/)
    t.match(title, /^# \S/, `${guide} starts with a title`)
    t.ok(linkTargets(intro).some(target => target.split('#')[0] === '../README.md'), `${guide}'s first paragraph links to the README`)
  }
})

test('the link checker follows GitHub\'s anchor rules and reports what is broken', async (t) => {
  t.same([...anchorsOf([
    '# The request and `app.sso`',
    '## What is verified, and why',
    '### Dashboard settings',
    '### Dashboard settings',
    '## [Links](x.md) keep their text: **bold**, snake_case — dashes',
    '```sh',
    '# not a heading',
    '```',
    'Setext heading',
    '---'
  ].join('\n'))], [
    'the-request-and-appsso',
    'what-is-verified-and-why',
    'dashboard-settings',
    'dashboard-settings-1',
    'links-keep-their-text-bold-snake_case--dashes',
    'setext-heading'
  ])
  const page = join(root, 'docs', 'example.md')
  const markdown = [
    '# Example',
    '[ok](../README.md) [ok](#example) [ok](../README.md#errors) [web](https://example.com/x.md)',
    '[gone](missing.md) [no anchor](../README.md#no-such-heading) [here](#nowhere)',
    '`[in code](missing-too.md)`',
    '```',
    '[in a fence](missing-three.md)',
    '```'
  ].join('\n')
  t.same(brokenLinks(page, markdown), [
    'docs/example.md: missing.md (no such file)',
    'docs/example.md: ../README.md#no-such-heading (no heading #no-such-heading in README.md)',
    'docs/example.md: #nowhere (no heading #nowhere in docs/example.md)'
  ])
})

/**
 * HTML escaping and the plugin's one page template (error pages). Everything that reaches an
 * HTML response from a request, an IdP or a configuration goes through `escapeHtml`.
 */

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml (value: unknown): string {
  return String(value).replace(/[&<>"']/g, character => escapes[character]!)
}

/** A link shown under an error message. */
export interface PageLink { href: string, label: string }

/** A one-field GET form under the message (e.g. "Work email" → a fresh login). */
export interface PageForm {
  action: string
  /** The visible field. */
  field: { name: string, label: string, type: 'email' | 'text' }
  /** Hidden fields sent along (e.g. returnTo). */
  hidden: Record<string, string>
  button: string
}

/**
 * A small self-contained page: no scripts, no external resources, everything escaped.
 * Served with a Content-Security-Policy that forbids scripts altogether.
 */
export function renderPage (title: string, paragraphs: string[], links: PageLink[] = [], form?: PageForm): string {
  const body = paragraphs.map(text => `<p>${escapeHtml(text)}</p>`).join('\n    ')
  const nav = links.map(link => `<a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a>`).join(' · ')
  const formHtml = form ? renderForm(form) : ''
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${escapeHtml(title)}</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1f2328; }
    h1 { font-size: 1.4rem; } code { background: #f3f4f6; padding: 0 .25rem; border-radius: 4px; }
    .code { color: #6b7280; font-size: .875rem; } a { color: #0969da; }
  </style>
</head>
<body>
  <main>
    <h1>${escapeHtml(title)}</h1>
    ${body}
    ${formHtml}
    ${nav ? `<p>${nav}</p>` : ''}
  </main>
</body>
</html>
`
}

function renderForm (form: PageForm): string {
  const hidden = Object.entries(form.hidden).map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('')
  const { name, label, type } = form.field
  return `<form method="get" action="${escapeHtml(form.action)}">${hidden}<label for="page-${escapeHtml(name)}">${escapeHtml(label)}</label>
      <input id="page-${escapeHtml(name)}" name="${escapeHtml(name)}" type="${type}" required> <button type="submit">${escapeHtml(form.button)}</button></form>`
}

/** Headers every HTML page of the plugin is served with. */
export const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer'
} as const

/**
 * The example's server-rendered pages. Every value from a user or an IdP goes through escapeHtml.
 */
import { escapeHtml } from '../src/html.ts'
import type { SsoUser } from '../src/index.ts'

const css = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
  header { background: #24292f; color: #fff; padding: .75rem 1.5rem; display: flex; align-items: center; gap: 1rem; }
  header a { color: #fff; text-decoration: none; } header .spacer { flex: 1; }
  header form { margin: 0; } header button { background: transparent; color: #fff; border: 1px solid #8b949e; border-radius: 6px; padding: .25rem .75rem; cursor: pointer; }
  main { max-width: 56rem; margin: 2rem auto; padding: 0 1rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
  .card { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1.25rem; }
  label { display: block; margin: .5rem 0 .25rem; font-weight: 600; }
  input { width: 100%; padding: .5rem; box-sizing: border-box; font: inherit; border: 1px solid #d0d7de; border-radius: 6px; }
  button.primary { margin-top: 1rem; background: #1f883d; color: #fff; border: 0; border-radius: 6px; padding: .5rem 1rem; font: inherit; cursor: pointer; }
  .error { background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px; padding: .75rem; }
  .note { color: #57606a; font-size: .875rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  pre { background: #f6f8fa; padding: .75rem; border-radius: 6px; overflow: auto; font-size: .8rem; }
  .badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; background: #ddf4ff; font-size: .8rem; }
  .inactive { background: #ffebe9; }
`

export function layout (title: string, body: string, user: SsoUser | null): string {
  const nav = user
    ? `<a href="/dashboard">Dashboard</a><a href="/directories">Directory</a><span class="spacer"></span>
       <span>${escapeHtml(user.name ?? user.email)}</span>
       <form method="post" action="/auth/logout"><button type="submit">Log out</button></form>`
    : '<span class="spacer"></span><a href="/">Sign in</a>'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Acme B2B</title><style>${css}</style></head>
<body><header><a href="/"><strong>Acme B2B</strong></a>${nav}</header><main>${body}</main></body></html>`
}

/** What a failed login's code means, for the home page (`errorRedirect: '/'`). */
const errorMessages: Record<string, string> = {
  FST_SSO_TRANSACTION_MISSING: 'The sign-in could not be matched to this browser (was it started on another host name, or more than 10 minutes ago?). Please try again.',
  FST_SSO_STATE_MISMATCH: 'The sign-in could not be matched to this browser. Please try again.',
  FST_SSO_TRANSACTION_EXPIRED: 'The sign-in took too long. Please try again.',
  FST_SSO_TRANSACTION_REPLAYED: 'This sign-in was already completed. Please sign in again.',
  FST_SSO_IDP_ERROR: 'The identity provider refused the sign-in.',
  FST_SSO_INVALID_GRANT: 'The sign-in code expired. Please sign in again.',
  FST_SSO_TOKEN_REJECTED: 'The identity provider\'s answer could not be verified.',
  FST_SSO_IDP_UNAVAILABLE: 'The identity provider is not responding. Please try again in a moment.',
  FST_SSO_LOGIN_DENIED: 'Your account is not allowed to sign in (it may have been deprovisioned).',
  FST_SSO_ORGANIZATION_MISMATCH: 'You signed in with another organization\'s account.',
  FST_SSO_ROUTING_REQUIRED: 'Enter your work email to sign in with SSO.',
  FST_SSO_UNKNOWN_DOMAIN: 'Single sign-on is not set up for that email domain.',
  FST_SSO_INVALID_LOGIN_REQUEST: 'That sign-in link is not valid for this application.'
}

export function homePage (options: { error?: string, passwordError?: string, providerDescription: string, demoEmail?: string, localUser: { email: string, password: string } }): string {
  const error = options.error ? `<p class="error">${escapeHtml(errorMessages[options.error] ?? 'The sign-in failed.')} <span class="note">(${escapeHtml(options.error)})</span></p>` : ''
  const passwordError = options.passwordError ? `<p class="error">${escapeHtml(options.passwordError)}</p>` : ''
  return layout('Sign in', `
  <h1>Sign in to Acme B2B</h1>
  ${error}
  <div class="cards">
    <section class="card">
      <h2>Sign in with SSO</h2>
      <form method="get" action="/auth/login">
        <input type="hidden" name="returnTo" value="/dashboard">
        <label for="sso-email">Work email</label>
        <input id="sso-email" name="email" type="email" autocomplete="username" placeholder="${escapeHtml(options.demoEmail ?? 'you@company.com')}" value="${escapeHtml(options.demoEmail ?? '')}">
        <button class="primary" type="submit">Continue with SSO</button>
      </form>
      <p class="note">Signs in through ${escapeHtml(options.providerDescription)}.</p>
    </section>
    <section class="card">
      <h2>Sign in with a password</h2>
      ${passwordError}
      <form method="post" action="/login/password">
        <label for="password-email">Email</label>
        <input id="password-email" name="email" type="email" autocomplete="username" value="${escapeHtml(options.localUser.email)}">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password">
        <button class="primary" type="submit">Sign in</button>
      </form>
      <p class="note">SSO coexists with ordinary accounts. Demo: ${escapeHtml(options.localUser.email)} / ${escapeHtml(options.localUser.password)}</p>
    </section>
  </div>`, null)
}

export function dashboardPage (user: SsoUser): string {
  const rows: Array<[string, unknown]> = [
    ['Name', user.name], ['Email', user.email], ['Organization', user.organizationId], ['Provider', user.provider],
    ['User id', user.id], ['Roles', user.roles?.join(', ')], ['Groups', user.groups?.join(', ')]
  ]
  return layout('Dashboard', `
  <h1>Welcome, ${escapeHtml(user.firstName ?? user.name ?? user.email)}</h1>
  <section class="card">
    <h2>Your profile</h2>
    <table>${rows.filter(([, value]) => value).map(([label, value]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
    <h3>Raw claims</h3>
    <pre>${escapeHtml(JSON.stringify(user.claims ?? {}, null, 2))}</pre>
  </section>`, user)
}

/**
 * The example's server-rendered pages: no front-end build, no scripts. Every value that comes
 * from a request, a user or an IdP goes through escapeHtml.
 */
import { escapeHtml } from '../src/html.ts'
import * as ssoErrors from '../src/errors.ts'
import type { SsoUser } from '../src/index.ts'

const css = `
  :root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --brand: #0b5cad; }
  body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: var(--ink); background: #f6f8fa; }
  header { background: #0d2538; color: #fff; padding: .75rem 1.5rem; display: flex; align-items: center; gap: 1.25rem; }
  header a { color: #fff; text-decoration: none; } header a:hover { text-decoration: underline; } header .spacer { flex: 1; }
  header form { margin: 0; } header button { background: transparent; color: #fff; border: 1px solid #8b949e; border-radius: 6px; padding: .25rem .75rem; font: inherit; font-size: .875rem; cursor: pointer; }
  .logo { font-weight: 700; letter-spacing: .02em; }
  main { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { margin: 0 0 .25rem; } .lead { color: var(--muted); margin: 0 0 1.5rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; align-items: start; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem; }
  .card h2 { margin-top: 0; font-size: 1.15rem; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; font-size: .9rem; }
  input { width: 100%; padding: .55rem .6rem; box-sizing: border-box; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
  button.primary { margin-top: 1rem; width: 100%; background: var(--brand); color: #fff; border: 0; border-radius: 6px; padding: .6rem 1rem; font: inherit; font-weight: 600; cursor: pointer; }
  button.secondary { background: #24292f; }
  .error { background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px; padding: .75rem 1rem; }
  .note { color: var(--muted); font-size: .875rem; }
  code { background: #eff1f3; padding: 0 .3rem; border-radius: 4px; font-size: .85em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
  th { width: 9rem; color: var(--muted); font-weight: 600; }
  pre { background: #f6f8fa; border: 1px solid #eaeef2; padding: .75rem; border-radius: 6px; overflow: auto; font-size: .8rem; margin: 0; }
  .badge { display: inline-block; padding: 0 .55rem; margin-right: .25rem; border-radius: 999px; background: #ddf4ff; color: #0a3069; font-size: .8rem; }
  .badge.ok { background: #dafbe1; color: #116329; }
  .inactive { background: #ffebe9; }
`

/** The page frame: header (with the user and a logout button when signed in) and content. */
export function layout (title: string, body: string, user: SsoUser | null): string {
  const nav = user
    ? `<a href="/dashboard">Dashboard</a><a href="/directories">Directory</a>${user.roles?.includes('admin') ? '<a href="/audit">Audit</a>' : ''}<span class="spacer"></span>
       <span>${escapeHtml(user.name ?? user.email)}</span>
       <form method="post" action="/auth/logout"><button type="submit">Log out</button></form>`
    : '<span class="spacer"></span><a href="/">Sign in</a>'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Acme B2B</title><style>${css}</style></head>
<body><header><a class="logo" href="/">Acme B2B</a>${nav}</header><main>${body}</main></body></html>`
}

/** What a failed login's code means, in the user's words (`errorRedirect: '/'` brings it here). */
const errorMessages: Record<string, string> = {
  FST_SSO_TRANSACTION_MISSING: 'The sign-in could not be matched to this browser: it was started on another address (use http://localhost, not 127.0.0.1), from the identity provider\'s portal, or more than 10 minutes ago. Please try again.',
  FST_SSO_STATE_MISMATCH: 'The sign-in could not be matched to this browser. Please try again.',
  FST_SSO_TRANSACTION_EXPIRED: 'The sign-in took too long. Please try again.',
  FST_SSO_TRANSACTION_REPLAYED: 'This sign-in was already completed. Please sign in again.',
  FST_SSO_INVALID_CALLBACK: 'The identity provider\'s answer was incomplete. Please try again.',
  FST_SSO_IDP_ERROR: 'The identity provider refused the sign-in (it was cancelled, or your account may not use this application).',
  FST_SSO_INVALID_GRANT: 'The sign-in code expired. Please sign in again.',
  FST_SSO_TOKEN_REJECTED: 'The identity provider\'s answer could not be verified, so you were not signed in.',
  FST_SSO_IDP_UNAVAILABLE: 'The identity provider is not responding. Please try again in a moment.',
  FST_SSO_LOGIN_DENIED: 'Your account is not allowed to sign in (it may have been deprovisioned by your organization).',
  FST_SSO_ORGANIZATION_MISMATCH: 'You signed in with another organization\'s account.',
  FST_SSO_ROUTING_REQUIRED: 'Enter your work email to sign in with SSO.',
  FST_SSO_UNKNOWN_DOMAIN: 'Single sign-on is not set up for that email domain. Use the password login, or ask your administrator.',
  FST_SSO_INVALID_LOGIN_REQUEST: 'That sign-in link is not valid for this application.'
}

/** Any other code: the plugin's own default message for it, else a generic one. */
function errorMessage (code: string): string {
  if (Object.hasOwn(errorMessages, code)) return errorMessages[code]!
  for (const value of Object.values(ssoErrors)) {
    if (typeof value === 'function' && 'code' in value && value.code === code) return (value as () => Error)().message
  }
  return 'The sign-in failed. Please try again.'
}

export interface HomePageOptions {
  /** `?error=<code>` of a failed SSO login. */
  error?: string
  /** The password form's error. */
  passwordError?: string
  /** Which IdP the SSO button goes to, in words. */
  providerDescription: string
  /** Prefilled in the SSO form (the development IdP's first demo user). */
  demoEmail?: string
  /** The local demo account shown under the password form. */
  localUser: { email: string, password: string }
  /** Where the SSO login lands (default /dashboard). */
  returnTo?: string
}

/** The sign-in page: SSO by work email, and an ordinary password login beside it. */
export function homePage (options: HomePageOptions): string {
  const error = options.error
    ? `<p class="error" role="alert">${escapeHtml(errorMessage(options.error))} <span class="note">(${escapeHtml(options.error)})</span></p>`
    : ''
  const passwordError = options.passwordError ? `<p class="error" role="alert">${escapeHtml(options.passwordError)}</p>` : ''
  return layout('Sign in', `
  <h1>Sign in to Acme B2B</h1>
  <p class="lead">Customers with an identity provider sign in with SSO; everyone else keeps a password.</p>
  ${error}
  <div class="cards">
    <section class="card">
      <h2>Sign in with SSO</h2>
      <form method="get" action="/auth/login">
        <input type="hidden" name="returnTo" value="${escapeHtml(options.returnTo ?? '/dashboard')}">
        <label for="sso-email">Work email</label>
        <input id="sso-email" name="email" type="email" autocomplete="username" placeholder="you@company.com" value="${escapeHtml(options.demoEmail ?? '')}">
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
        <button class="primary secondary" type="submit">Sign in with password</button>
      </form>
      <p class="note">Demo account: <code>${escapeHtml(options.localUser.email)}</code> / <code>${escapeHtml(options.localUser.password)}</code></p>
    </section>
  </div>`, null)
}

const badges = (values: string[] | undefined) => values?.length ? values.map(value => `<span class="badge">${escapeHtml(value)}</span>`).join('') : ''

/** The protected page: who is signed in, through what, with every claim the IdP sent. */
export function dashboardPage (user: SsoUser, options: { adminPortal?: boolean } = {}): string {
  // WorkOS mode: an organization's admin opens the Admin Portal (example/audit.ts).
  const setup = options.adminPortal && user.roles?.includes('admin') && user.organizationId
    ? '<form method="post" action="/admin/sso-setup"><button class="primary" type="submit">Set up SSO for your organization</button></form>'
    : ''
  const orgName = typeof user.claims?.org_name === 'string' ? user.claims.org_name : undefined
  const organization = user.organizationId
    ? `${orgName ? `${escapeHtml(orgName)} ` : ''}<code>${escapeHtml(user.organizationId)}</code>`
    : ''
  const email = user.email
    ? `${escapeHtml(user.email)}${user.emailVerified ? ' <span class="badge ok">verified</span>' : ''}`
    : ''
  const rows: Array<[string, string]> = [
    ['Name', escapeHtml(user.name ?? '')],
    ['Email', email],
    ['Organization', organization],
    ['Connection', user.connectionId ? `<code>${escapeHtml(user.connectionId)}</code>${user.connectionType ? ` (${escapeHtml(user.connectionType)})` : ''}` : ''],
    ['Provider', `<code>${escapeHtml(user.provider)}</code>`],
    ['User id', `<code>${escapeHtml(user.id)}</code>`],
    ['Roles', badges(user.roles)],
    ['Groups', badges(user.groups)]
  ]
  const how = user.provider === 'local' ? 'with a password' : 'with single sign-on'
  return layout('Dashboard', `
  <h1>Welcome, ${escapeHtml(user.firstName ?? user.name ?? user.email)}</h1>
  <p class="lead">You are signed in ${how}. This page is protected by <code>requireUser()</code>.</p>
  <div class="cards">
    <section class="card">
      <h2>Your profile</h2>
      <table>${rows.filter(([, html]) => html).map(([label, html]) => `<tr><th>${escapeHtml(label)}</th><td>${html}</td></tr>`).join('')}</table>
      ${setup}
    </section>
    <section class="card">
      <h2>Raw claims</h2>
      <pre>${escapeHtml(JSON.stringify(user.claims ?? {}, null, 2))}</pre>
    </section>
  </div>`, user)
}

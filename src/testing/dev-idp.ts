/**
 * An embedded development identity provider: a real, certified OpenID Provider (`oidc-provider`)
 * on a loopback port, with demo users, a plain login form and no consent screen. The example app
 * starts it when no IdP is configured, and apps use it in their own tests.
 *
 * It is for development and tests only: it refuses to start with NODE_ENV=production, binds to
 * 127.0.0.1 only, accepts any non-empty password, and keeps everything in memory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair } from 'jose'
import { DevIdpInProductionError, InvalidOptionError } from '../errors.ts'
import { escapeHtml } from '../html.ts'
import { importPeer } from '../optional-peer.ts'

/** A demo user of the development IdP. */
export interface DevIdpUser {
  email: string
  /** Stable subject (default: derived from the email). */
  sub?: string
  name?: string
  givenName?: string
  familyName?: string
  /** Organization id, sent as the `org_id` claim. */
  organizationId?: string
  /** Organization display name (`org_name`). */
  organizationName?: string
  roles?: string[]
  groups?: string[]
}

/** A client (relying party) registered at the development IdP. */
export interface DevIdpClient {
  clientId: string
  /** Omit for a public client (PKCE only). */
  clientSecret?: string
  redirectUris: string[]
  postLogoutRedirectUris?: string[]
  /** OIDC back-channel logout endpoint of the app. */
  backchannelLogoutUri?: string
  /**
   * How the client authenticates at the token, PAR and revocation endpoints (default
   * `client_secret_basic` with a secret, `none` without). `private_key_jwt` needs `jwks`.
   */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'
  /** The client's public keys, for `private_key_jwt` (e.g. `await clientJwks(privateKey)`). */
  jwks?: { keys: object[] }
  /** Refuse this client's authorization requests unless pushed first (PAR, RFC 9126). */
  requirePushedAuthorizationRequests?: boolean
}

/** Options of {@link startDevIdp}. */
export interface DevIdpOptions {
  /** Demo users (default: alice@acme.test, admin at Acme; bob@globex.test, member at Globex). */
  users?: DevIdpUser[]
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number
  /**
   * Clients (default: one confidential client `fastify-sso-dev` for an app at
   * http://localhost:3000 with prefix /auth).
   */
  clients?: DevIdpClient[]
  /** Shortcut for the default client: the app's baseUrl and prefix (default http://localhost:3000, /auth). */
  app?: { baseUrl?: string, prefix?: string }
  /** Shown on the IdP's pages (e.g. `Acme`), to tell several development IdPs apart. */
  name?: string
  /**
   * Keep the email and profile claims out of the ID token and answer them from user-info only,
   * as some IdPs do (default false: everything in the ID token).
   */
  claimsInUserinfoOnly?: boolean
  /**
   * Refuse every authorization request that was not pushed first (PAR, RFC 9126); the metadata
   * then says `require_pushed_authorization_requests: true` (default false).
   */
  requirePushedAuthorizationRequests?: boolean
  /** Lifetime of access tokens in seconds (default 3600). Refresh tokens are rotated at each use. */
  accessTokenTtl?: number
  /**
   * Authentication context classes the IdP offers (`acr_values_supported`), weakest first, e.g.
   * `['pwd', 'mfa']`. A login answers with the strongest of them the request's `acr_values` asks
   * for, else the first; a session whose `acr` is not among the requested ones is asked to sign
   * in again (step-up), unless the IdP offers none of them (it then answers with the session's
   * own). Default: none, and ID tokens carry no `acr`.
   */
  acrValues?: string[]
}

/** A running development IdP. */
export interface DevIdp {
  /** The issuer URL (pass it to `oidcProvider({ issuer })`). */
  issuer: string
  /** The first client's id and secret. */
  clientId: string
  clientSecret: string | undefined
  users: DevIdpUser[]
  /** Stops the server and forgets every session. */
  close(): Promise<void>
}

/** The demo users of the development IdP. */
export const defaultDevUsers: DevIdpUser[] = [
  { email: 'alice@acme.test', name: 'Alice Anders', givenName: 'Alice', familyName: 'Anders', organizationId: 'org_acme', organizationName: 'Acme', roles: ['admin'], groups: ['Engineering'] },
  { email: 'bob@globex.test', name: 'Bob Baker', givenName: 'Bob', familyName: 'Baker', organizationId: 'org_globex', organizationName: 'Globex', roles: ['member'], groups: ['Sales'] },
  { email: 'carol@acme.test', name: 'Carol Chen', givenName: 'Carol', familyName: 'Chen', organizationId: 'org_acme', organizationName: 'Acme', roles: ['member'], groups: ['Support'] }
]

/** The stable subject (OIDC `sub`, SAML persistent NameID) of a demo user. */
export function subjectOf (user: DevIdpUser): string {
  return user.sub ?? `user_${user.email.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`
}

/**
 * Starts the development IdP.
 *
 * @example
 * ```ts
 * import { startDevIdp } from 'fastify-sso/testing'
 * const idp = await startDevIdp({ app: { baseUrl: 'http://localhost:3000' } })
 * await app.register(ssoPlugin, {
 *   baseUrl: 'http://localhost:3000',
 *   provider: oidcProvider({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }),
 *   session: { secret: 'a development secret of 32+ characters!' },
 * })
 * // … later
 * await idp.close()
 * ```
 */
export async function startDevIdp (options: DevIdpOptions = {}): Promise<DevIdp> {
  if (process.env.NODE_ENV === 'production') {
    throw DevIdpInProductionError('startDevIdp() refuses to run with NODE_ENV=production: it accepts any password. Configure a real identity provider.')
  }
  const users = options.users ?? defaultDevUsers
  if (!Array.isArray(users) || users.length === 0 || users.some(user => typeof user?.email !== 'string' || !user.email.includes('@'))) {
    throw InvalidOptionError('startDevIdp: `users` must be a non-empty array of { email, … }.')
  }
  const clients = options.clients ?? [defaultClient(options.app)]
  const { default: Provider, interactionPolicy } = await importPeer({ name: 'oidc-provider', neededBy: 'startDevIdp()', dev: true }, () => import('oidc-provider'))
  const acrValues = options.acrValues ?? []

  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const issuer = `http://127.0.0.1:${port}`

  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingKey = { ...await exportJWK(privateKey), kid: `dev-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }
  const bySubject = new Map(users.map(user => [subjectOf(user), user]))

  const provider = new Provider(issuer, {
    clients: clients.map(client => ({
      client_id: client.clientId,
      ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
      token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? (client.clientSecret ? 'client_secret_basic' : 'none'),
      ...(client.jwks ? { jwks: client.jwks } : {}),
      ...(client.requirePushedAuthorizationRequests ? { require_pushed_authorization_requests: true } : {}),
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
      ...(client.backchannelLogoutUri ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code']
    })),
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // Prefixed names: no clash with an app's cookies on the same host, nor with another
      // development IdP on another port of it (browsers share cookies across ports).
      names: { session: `_devidp_${port}_session`, interaction: `_devidp_${port}_interaction`, resume: `_devidp_${port}_resume` }
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'org_id', 'org_name', 'roles', 'groups']
    },
    // Claims go into the ID token, so apps need no user-info call (unless asked otherwise).
    conformIdTokenClaims: options.claimsInUserinfoOnly === true,
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      // A client revokes only its own tokens (oidc-provider's default, without its start-up notice).
      revocation: { enabled: true, allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: options.requirePushedAuthorizationRequests === true },
      rpInitiatedLogout: { enabled: true, logoutSource: renderLogoutPage, postLogoutSuccessSource: renderLoggedOutPage }
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`, policy: stepUpPolicy(interactionPolicy, acrValues) },
    acrValues,
    // A refresh token for every client allowed the grant (as Keycloak does; oidc-provider's
    // default wants offline_access and a consent prompt), rotated at each use.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(grant: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    // No consent screen: grant every requested scope at once.
    async loadExistingGrant (ctx: any) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId)
      const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId })
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '))
      await grant.save()
      return grant
    },
    async findAccount (_ctx: unknown, id: string) {
      const user = bySubject.get(id)
      if (!user) return undefined
      return {
        accountId: id,
        async claims () {
          return {
            sub: id,
            email: user.email,
            email_verified: true,
            name: user.name ?? user.email,
            given_name: user.givenName,
            family_name: user.familyName,
            org_id: user.organizationId,
            org_name: user.organizationName,
            roles: user.roles,
            groups: user.groups
          }
        }
      }
    },
    adapter: memoryAdapter(),
    pkce: { required: () => true },
    // oidc-provider refuses to call loopback addresses (SSRF protection); here the app it calls
    // back (back-channel logout) is on loopback by design, like the IdP itself.
    fetch: (url: string, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ssrfGuard, ...rest } = init
      return fetch(url, rest)
    },
    ttl: { Session: 8 * 3600, Interaction: 600, Grant: 8 * 3600, AccessToken: options.accessTokenTtl ?? 3600, IdToken: 3600, AuthorizationCode: 60, RefreshToken: 8 * 3600 },
    renderError: async (ctx: any, out: Record<string, string>) => {
      ctx.type = 'html'
      ctx.body = page('Sign-in error', `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`)
    }
  } as any)
  provider.on('server_error', () => {}) // rendered by renderError; nothing to crash on
  provider.use(skipEmptyLogout)
  const oidc = provider.callback()

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer)
    const match = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(url.pathname)
    if (!match) {
      oidc(req, res)
      return
    }
    handleInteraction(provider, users, options.name, acrValues, req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
        res.end(page('Sign-in error', '<p>This sign-in expired or is not valid. Start again from the application.</p>'))
      }
    })
  })

  return {
    issuer,
    clientId: clients[0]!.clientId,
    clientSecret: clients[0]!.clientSecret,
    users,
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

function defaultClient (app: DevIdpOptions['app']): DevIdpClient {
  const baseUrl = (app?.baseUrl ?? 'http://localhost:3000').replace(/\/$/, '')
  const prefix = app?.prefix ?? '/auth'
  return {
    clientId: 'fastify-sso-dev',
    clientSecret: randomBytes(24).toString('base64url'),
    redirectUris: [`${baseUrl}${prefix}/callback`],
    postLogoutRedirectUris: [`${baseUrl}/`]
  }
}

/** A small urlencoded form body. */
export async function readForm (req: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 16_384) throw new Error('form too large')
  }
  return new URLSearchParams(body)
}

/** The login form (GET) and its submission (POST). Any non-empty password is accepted. */
async function handleInteraction (provider: any, users: DevIdpUser[], name: string | undefined, acrValues: string[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res)
  const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : ''
  const app = appHost(details.params.redirect_uri)
  if (req.method === 'POST') {
    const form = await readForm(req)
    const email = (form.get('email') ?? '').trim().toLowerCase()
    const user = users.find(candidate => candidate.email.toLowerCase() === email)
    const quick = form.get('quick') === '1'
    if (!user || (!quick && !form.get('password'))) {
      sendHtml(res, 200, loginPage(details.uid, users, email || hint, user ? 'Enter any password.' : 'Unknown user: pick one of the demo accounts.', app, name))
      return
    }
    const acr = loginAcr(acrValues, details.params.acr_values)
    await provider.interactionFinished(req, res, { login: { accountId: subjectOf(user), ...(acr ? { acr } : {}) } }, { mergeWithLastSubmission: false })
    return
  }
  sendHtml(res, 200, loginPage(details.uid, users, hint, '', app, name))
}

/** The `acr` a login answers with: the strongest offered level the request's `acr_values` names, else the weakest offered one. */
function loginAcr (offered: string[], requested: unknown): string | undefined {
  const asked = typeof requested === 'string' ? requested.split(' ') : []
  return [...offered].reverse().find(value => asked.includes(value)) ?? offered[0]
}

/**
 * oidc-provider's prompts, plus a step-up check: a request whose `acr_values` the signed-in
 * session does not meet shows the login form again, when the IdP offers one of them (oidc-provider
 * itself prompts only for essential acr claims; IdPs such as Okta and Keycloak step up on acr_values).
 */
function stepUpPolicy (interactionPolicy: any, offered: string[]): unknown {
  const { Check, base } = interactionPolicy
  const policy = base()
  policy.get('login').checks.add(new Check('acr_values_step_up', 'the requested authentication level needs a new sign-in', (ctx: any) => {
    const requested = ctx.oidc.params.acr_values
    if (typeof requested !== 'string' || !ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT
    const asked = requested.split(' ')
    return asked.includes(ctx.oidc.session.acr) || !asked.some(value => offered.includes(value)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT
  }))
  return policy
}

/** The host of the application asking for the sign-in (shown on the form), from its redirect URI. */
function appHost (redirectUri: unknown): string {
  try {
    return typeof redirectUri === 'string' ? new URL(redirectUri).host : ''
  } catch {
    return ''
  }
}

/** Sends a development IdP page. */
export function sendHtml (res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(html)
}

/** A development IdP page (plain HTML, no external resources). */
export function page (title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f3f4f6;color:#1f2328}
main{max-width:26rem;margin:3rem auto;padding:1.5rem 1.75rem;background:#fff;border:1px solid #d0d7de;border-radius:10px}
h1{font-size:1.5rem;margin:.75rem 0}h2{font-size:1rem;margin:1.5rem 0 .25rem;color:#57606a}
.banner{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .75rem;border-radius:6px;font-size:.875rem;margin:0}
.note{color:#57606a;font-size:.875rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600;font-size:.9rem}
input{width:100%;padding:.5rem .6rem;box-sizing:border-box;font:inherit;border:1px solid #d0d7de;border-radius:6px}
button{font:inherit;padding:.5rem 1rem;margin-top:1rem;cursor:pointer;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa}
button.primary{background:#6639ba;border-color:#6639ba;color:#fff;font-weight:600}
form.main button{width:100%}ul{padding:0;margin:0;list-style:none}
li button{width:100%;text-align:left;margin-top:.5rem}
.error{color:#cf222e}</style></head><body><main>${body}</main></body></html>`
}

function loginPage (uid: string, users: DevIdpUser[], email: string, error: string, app: string, name: string | undefined): string {
  return devLoginPage(`/interaction/${uid}`, {}, users, email, error, app, name)
}

/**
 * The sign-in form of the development IdPs: email and any password, or one click on a demo
 * account. Every form posts `email` (and `quick=1` for the demo buttons) plus `hidden` to `action`.
 * `idpName` (e.g. a tenant's) is shown on the page.
 */
export function devLoginPage (actionPath: string, hidden: Record<string, string>, users: DevIdpUser[], email: string, error: string, app: string, idpName?: string): string {
  const action = escapeHtml(actionPath)
  const extra = Object.entries(hidden).map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('')
  const accounts = users.map(user => `<li><form method="post" action="${action}">${extra}
      <input type="hidden" name="email" value="${escapeHtml(user.email)}"><input type="hidden" name="quick" value="1">
      <button type="submit">Continue as <strong>${escapeHtml(user.name ?? user.email)}</strong> · ${escapeHtml(user.email)}${user.organizationName ? ` · ${escapeHtml(user.organizationName)}` : ''}</button>
    </form></li>`).join('')
  return page(`Development IdP${idpName ? ` of ${idpName}` : ''} — sign in`, `
  <p class="banner">fastify-sso development identity provider${idpName ? ` of <strong>${escapeHtml(idpName)}</strong>` : ''}. For local development only: any password works.</p>
  <h1>Sign in${idpName ? ` to ${escapeHtml(idpName)}` : ''}</h1>
  ${app ? `<p class="note">to continue to <strong>${escapeHtml(app)}</strong></p>` : ''}
  ${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="${action}" class="main">${extra}
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email)}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button class="primary" type="submit">Sign in</button>
  </form>
  <h2>Or pick a demo account</h2>
  <ul>${accounts}</ul>`)
}

/**
 * An application's logout reaching the IdP when no one is signed in there (the IdP was restarted,
 * or the user already signed out): oidc-provider answers with a self-submitting form that needs
 * JavaScript. There is nothing to end, so go straight back to the application's registered
 * post-logout URI (or to the signed-out page), which works without JavaScript.
 */
async function skipEmptyLogout (ctx: any, next: () => Promise<void>): Promise<void> {
  await next()
  if (ctx.method !== 'GET' || ctx.path !== '/session/end' || ctx.status !== 200) return
  const session = ctx.oidc?.session
  if (!session || session.accountId) return
  // Set by oidc-provider once it has checked the URI against the client's registration.
  const target = session.state?.postLogoutRedirectUri
  if (typeof target === 'string') {
    const url = new URL(target)
    if (typeof session.state.state === 'string') url.searchParams.set('state', session.state.state)
    ctx.status = 303
    ctx.redirect(url.href)
    return
  }
  await renderLoggedOutPage(ctx)
}

/** Signed out at the IdP, with no application to return to. */
async function renderLoggedOutPage (ctx: any): Promise<void> {
  ctx.type = 'html'
  ctx.body = page('Development IdP — signed out', `
  <p class="banner">fastify-sso development identity provider.</p>
  <h1>You are signed out</h1>
  <p>Your session at the development IdP has ended. You can close this page, or go back to the application and sign in again.</p>`)
}

/**
 * The IdP's storage: this process's memory, one map per IdP (so several IdPs in one test run
 * never share state). oidc-provider's own quick-start adapter does the same but prints a
 * production warning on every start, which would only confuse newcomers here.
 */
function memoryAdapter () {
  const entries = new Map<string, { payload: Record<string, unknown>, expiresAt: number }>()
  const sessionsByUid = new Map<string, string>()
  const byGrant = new Map<string, Set<string>>()
  return class DevIdpAdapter {
    readonly model: string
    constructor (model: string) {
      this.model = model
    }

    key (id: string): string {
      return `${this.model}:${id}`
    }

    async upsert (id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void> {
      const key = this.key(id)
      entries.set(key, { payload, expiresAt: Date.now() + expiresIn * 1000 })
      if (this.model === 'Session' && typeof payload.uid === 'string') sessionsByUid.set(payload.uid, id)
      if (typeof payload.grantId === 'string') {
        let keys = byGrant.get(payload.grantId)
        if (!keys) byGrant.set(payload.grantId, keys = new Set())
        keys.add(key)
      }
    }

    async find (id: string): Promise<Record<string, unknown> | undefined> {
      const entry = entries.get(this.key(id))
      if (entry && entry.expiresAt <= Date.now()) {
        entries.delete(this.key(id))
        return undefined
      }
      return entry?.payload
    }

    async findByUid (uid: string): Promise<Record<string, unknown> | undefined> {
      const id = sessionsByUid.get(uid)
      return id === undefined ? undefined : this.find(id)
    }

    async findByUserCode (): Promise<undefined> {
      return undefined // the device flow is not enabled
    }

    async consume (id: string): Promise<void> {
      const entry = entries.get(this.key(id))
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000)
    }

    async destroy (id: string): Promise<void> {
      entries.delete(this.key(id))
    }

    async revokeByGrantId (grantId: string): Promise<void> {
      for (const key of byGrant.get(grantId) ?? []) entries.delete(key)
      byGrant.delete(grantId)
    }
  }
}

async function renderLogoutPage (ctx: any, form: string): Promise<void> {
  ctx.type = 'html'
  ctx.body = page('Development IdP — sign out', `
  <p class="banner">fastify-sso development identity provider.</p>
  <h1>Sign out of the development IdP too?</h1>
  <p class="note">Signing out here as well means the next sign-in asks for an account again; staying signed in lets you back in with one click.</p>
  ${form}
  <button class="primary" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
  <button type="submit" form="op.logoutForm">No, stay signed in</button>`)
}

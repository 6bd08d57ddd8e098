/**
 * The development IdP, speaking SAML 2.0: samlify's identity provider on a loopback port, with
 * the same demo users and the same one-click sign-in form as the OpenID Connect one, so an app
 * (and its tests) can sign in through SAML without any account anywhere.
 *
 * It trusts any service provider of the configured app: the AuthnRequest's Issuer is the SP's
 * entity id, and when that is an http(s) URL on the app's origin (fastify-sso's default entity
 * id is its metadata URL) the SP metadata is fetched from it for the encryption certificate and
 * the single logout URL. Development and tests only: refuses NODE_ENV=production, binds to
 * 127.0.0.1, accepts any non-empty password, keeps everything in memory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { inflateRawSync } from 'node:zlib'
import { DevIdpInProductionError, InvalidOptionError } from '../errors.ts'
import { escapeHtml } from '../html.ts'
import { importPeer } from '../optional-peer.ts'
import { children, descendants, ns, onlyChild, parseXml, text } from '../providers/saml-xml.ts'
import { defaultDevUsers, devLoginPage, page, readForm, sendHtml, subjectOf, type DevIdpUser } from './dev-idp.ts'
import { selfSignedCertificate, type SelfSignedCertificate } from './self-signed.ts'

/** Attribute names the IdP sends (to try an app against another IdP's naming). */
export interface DevSamlAttributeNames {
  email?: string
  firstName?: string
  lastName?: string
  name?: string
  groups?: string
  roles?: string
}

/** Options of {@link startDevSamlIdp}. */
export interface DevSamlIdpOptions {
  /** Demo users (default: the same as `startDevIdp`). */
  users?: DevIdpUser[]
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number
  /** The app allowed to use it: ACS URLs must start with `{baseUrl}{prefix}/callback` (default http://localhost:3000, /auth). */
  app?: { baseUrl?: string, prefix?: string }
  /** What is signed: `assertion` (default, as Entra ID and ADFS do), `response` or `both`. */
  sign?: 'assertion' | 'response' | 'both'
  /** Encrypt assertions with the SP's encryption certificate (from its metadata). */
  encryptAssertions?: boolean
  /** NameID format: `persistent` (default: the demo user's stable id), `emailAddress` or `transient`. */
  nameIdFormat?: 'persistent' | 'emailAddress' | 'transient'
  /** Attribute names (default: `email`, `firstName`, `lastName`, `displayName`, `groups`, `roles`). */
  attributeNames?: DevSamlAttributeNames
}

/** Overrides for {@link DevSamlIdp.loginResponse}: what a misconfigured (or hostile) IdP would sign. */
export interface DevSamlResponseOptions {
  /** The demo user's email. */
  email: string
  /** Where the response goes: Destination and Recipient (default: the app's callback URL). */
  acsUrl?: string
  /** The SP entity id: the Audience (default: the app's metadata URL). */
  audience?: string
  /** The AuthnRequest ID answered; omit for an unsolicited (IdP-initiated) response. */
  inResponseTo?: string
  destination?: string
  recipient?: string
  issuer?: string
  /** Epoch ms of IssueInstant / NotBefore (default now); the assertion lives 5 minutes after it. */
  issuedAt?: number
  /** Sign with SHA-1 instead of SHA-256. */
  sha1?: boolean
  /** Sign with this key instead of the IdP's (a certificate the app does not trust). */
  key?: SelfSignedCertificate
  /** Override `sign` for this response; `none` sends it unsigned. */
  sign?: 'assertion' | 'response' | 'both' | 'none'
}

/** A running development SAML IdP. */
export interface DevSamlIdp {
  /** The IdP's entity id (its metadata URL). */
  entityId: string
  /** `samlProvider({ idp: { metadataUrl } })`. */
  metadataUrl: string
  ssoUrl: string
  sloUrl: string
  /** The current signing certificate (PEM). */
  certificate: string
  users: DevIdpUser[]
  /** The IdP's metadata XML (`samlProvider({ idp: { metadata } })`). */
  metadata (): string
  /**
   * A new signing key: the metadata lists the new and the previous certificate (a rotation) and
   * responses are signed with the new one.
   */
  rotateKey (): void
  /** A base64 SAMLResponse as the IdP would post it, for tests and IdP-initiated logins. */
  loginResponse (options: DevSamlResponseOptions): Promise<string>
  /** Stops the server. */
  close (): Promise<void>
}

interface Pending { requestId: string, acsUrl: string, issuer: string, relayState: string, expiresAt: number }

const binding = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'
}
const nameIdFormats = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient'
}
const sha256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
const sha1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'

/**
 * Starts the development SAML IdP.
 *
 * @example
 * ```ts
 * import { startDevSamlIdp } from 'fastify-sso/testing'
 * const idp = await startDevSamlIdp({ app: { baseUrl: 'http://localhost:3000' } })
 * await app.register(ssoPlugin, {
 *   baseUrl: 'http://localhost:3000',
 *   provider: samlProvider({ idp: { metadataUrl: idp.metadataUrl } }),
 *   session: { secret: 'a development secret of 32+ characters!' },
 * })
 * ```
 */
export async function startDevSamlIdp (options: DevSamlIdpOptions = {}): Promise<DevSamlIdp> {
  if (process.env.NODE_ENV === 'production') {
    throw DevIdpInProductionError('startDevSamlIdp() refuses to run with NODE_ENV=production: it accepts any password. Configure a real identity provider.')
  }
  const users = options.users ?? defaultDevUsers
  if (!Array.isArray(users) || users.length === 0 || users.some(user => typeof user?.email !== 'string' || !user.email.includes('@'))) {
    throw InvalidOptionError('startDevSamlIdp: `users` must be a non-empty array of { email, … }.')
  }
  const samlify = await loadSamlify()
  const appBase = (options.app?.baseUrl ?? 'http://localhost:3000').replace(/\/$/, '')
  const acsPrefix = `${appBase}${options.app?.prefix ?? '/auth'}/callback`
  const names = { email: 'email', firstName: 'firstName', lastName: 'lastName', name: 'displayName', groups: 'groups', roles: 'roles', ...options.attributeNames }

  // The key first: nothing that can fail comes after the server starts listening.
  let keys = [selfSignedCertificate({ commonName: 'fastify-sso development SAML IdP' })]
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const entityId = `${origin}/saml/metadata`
  const pending = new Map<string, Pending>()
  const spMetadata = new Map<string, Promise<string | undefined>>()

  /** samlify's IdP; signing with `key` (the metadata one, `signing` omitted, lists every current key). */
  function identityProvider (key?: SelfSignedCertificate, signatureAlgorithm = sha256, encrypt = false) {
    return samlify.IdentityProvider({
      entityID: entityId,
      privateKey: (key ?? keys[0]!).privateKey,
      signingCert: key ? key.certificate : keys.map(k => k.certificate),
      requestSignatureAlgorithm: signatureAlgorithm,
      nameIDFormat: [nameIdFormats[options.nameIdFormat ?? 'persistent']],
      singleSignOnService: [{ Binding: binding.redirect, Location: `${origin}/saml/sso` }],
      singleLogoutService: [{ Binding: binding.redirect, Location: `${origin}/saml/slo` }],
      isAssertionEncrypted: encrypt,
      ...(encrypt ? { dataEncryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm', keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p' } : {})
    } as Parameters<typeof samlify.IdentityProvider>[0])
  }

  /** The SP's metadata, when its entity id is a URL of the app (fastify-sso's default). */
  function fetchSpMetadata (issuer: string): Promise<string | undefined> {
    if (!issuer.startsWith(`${appBase}/`)) return Promise.resolve(undefined)
    let cached = spMetadata.get(issuer)
    if (!cached) {
      cached = fetch(issuer, { signal: AbortSignal.timeout(5000) }).then(res => res.ok ? res.text() : undefined).catch(() => undefined)
      spMetadata.set(issuer, cached)
      setTimeout(() => spMetadata.delete(issuer), 60_000).unref()
    }
    return cached
  }

  /** The SP as samlify wants it, with our signing choice and the certificates of its metadata. */
  async function serviceProvider (issuer: string, acsUrl: string, sign: NonNullable<DevSamlResponseOptions['sign']>) {
    const xml = await fetchSpMetadata(issuer)
    const descriptor = xml ? descendants(parseXml(xml), ns.metadata, 'SPSSODescriptor')[0] : undefined
    const certificate = (use: string) => descriptor && children(descriptor, ns.metadata, 'KeyDescriptor')
      .filter(key => key.getAttribute('use') === use).flatMap(key => descendants(key, ns.dsig, 'X509Certificate').map(text))[0]
    const slo = descriptor && children(descriptor, ns.metadata, 'SingleLogoutService')[0]?.getAttribute('Location')
    return samlify.ServiceProvider({
      entityID: issuer,
      assertionConsumerService: [{ Binding: binding.post, Location: acsUrl }],
      ...(slo ? { singleLogoutService: [{ Binding: binding.redirect, Location: slo }] } : {}),
      wantAssertionsSigned: sign === 'assertion' || sign === 'both',
      wantMessageSigned: sign === 'response' || sign === 'both',
      ...(certificate('encryption') ? { encryptCert: certificate('encryption') } : {}),
      ...(certificate('signing') ? { signingCert: certificate('signing') } : {})
    } as Parameters<typeof samlify.ServiceProvider>[0])
  }

  async function loginResponse (response: DevSamlResponseOptions): Promise<string> {
    const user = users.find(candidate => candidate.email.toLowerCase() === response.email.toLowerCase())
    if (!user) throw InvalidOptionError(`startDevSamlIdp: no demo user ${response.email}.`)
    const acsUrl = response.acsUrl ?? acsPrefix
    const audience = response.audience ?? `${appBase}${options.app?.prefix ?? '/auth'}/saml/metadata`
    const sign = response.sign ?? options.sign ?? 'assertion'
    const sp = await serviceProvider(audience, acsUrl, sign === 'none' ? 'response' : sign)
    const idp = identityProvider(response.key ?? keys[0]!, response.sha1 ? sha1 : sha256, options.encryptAssertions === true)
    const issued = new Date(response.issuedAt ?? Date.now())
    const until = new Date(issued.getTime() + 5 * 60_000)
    const format = nameIdFormats[options.nameIdFormat ?? 'persistent']
    const nameId = format === nameIdFormats.emailAddress ? user.email : format === nameIdFormats.transient ? `_${randomBytes(16).toString('hex')}` : subjectOf(user)
    const values: Record<string, string> = {
      ID: `_${randomBytes(20).toString('hex')}`,
      AssertionID: `_${randomBytes(20).toString('hex')}`,
      IssueInstant: issued.toISOString(),
      NotOnOrAfter: until.toISOString(),
      Destination: response.destination ?? acsUrl,
      Recipient: response.recipient ?? acsUrl,
      Issuer: response.issuer ?? entityId,
      Audience: audience,
      NameIDFormat: format,
      NameID: nameId
    }
    const inResponseTo = response.inResponseTo ? ` InResponseTo="${escapeHtml(response.inResponseTo)}"` : ''
    const xml = responseTemplate(values, inResponseTo, attributeStatement(user, names), subjectOf(user))
    const { context } = await idp.createLoginResponse(sp, {} as never, 'post', {}, { customTagReplacement: () => ({ id: values.ID!, context: xml }), encryptThenSign: options.encryptAssertions === true }) as { context: string }
    if (sign !== 'none') return context
    // Unsigned: the same response with every signature taken out.
    return Buffer.from(Buffer.from(context, 'base64').toString('utf8').replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/g, '')).toString('base64')
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendHtml(res, 400, page('Sign-in error', '<p>This sign-in request is not valid or expired. Start again from the application.</p>'))
    })
  })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin)
    if (url.pathname === '/saml/metadata') {
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml; charset=utf-8' })
      res.end(identityProvider().getMetadata())
      return
    }
    if (url.pathname === '/saml/sso' && req.method === 'GET') {
      const request = readRequest(url, 'AuthnRequest')
      const acsUrl = request.element.getAttribute('AssertionConsumerServiceURL') ?? acsPrefix
      if (!acsUrl.startsWith(acsPrefix)) throw new Error('unknown ACS URL')
      const id = randomBytes(16).toString('hex')
      pending.set(id, { requestId: request.id, acsUrl, issuer: request.issuer, relayState: url.searchParams.get('RelayState') ?? '', expiresAt: Date.now() + 10 * 60_000 })
      sendHtml(res, 200, devLoginPage('/saml/login', { request: id }, users, '', '', new URL(acsUrl).host))
      return
    }
    if (url.pathname === '/saml/login' && req.method === 'POST') {
      const form = await readForm(req)
      const login = pending.get(form.get('request') ?? '')
      if (!login || login.expiresAt < Date.now()) throw new Error('expired')
      const email = (form.get('email') ?? '').trim().toLowerCase()
      const user = users.find(candidate => candidate.email.toLowerCase() === email)
      if (!user || (form.get('quick') !== '1' && !form.get('password'))) {
        sendHtml(res, 200, devLoginPage('/saml/login', { request: form.get('request')! }, users, email, user ? 'Enter any password.' : 'Unknown user: pick one of the demo accounts.', new URL(login.acsUrl).host))
        return
      }
      pending.delete(form.get('request')!)
      const encoded = await loginResponse({ email: user.email, acsUrl: login.acsUrl, audience: login.issuer, inResponseTo: login.requestId })
      sendHtml(res, 200, postPage(login.acsUrl, { SAMLResponse: encoded, ...(login.relayState ? { RelayState: login.relayState } : {}) }))
      return
    }
    if (url.pathname === '/saml/slo' && req.method === 'GET') {
      const request = readRequest(url, 'LogoutRequest')
      const sp = await serviceProvider(request.issuer, acsPrefix, 'assertion')
      const spLogout = sp.entityMeta.getSingleLogoutService(binding.redirect) as string | undefined
      if (!spLogout) {
        sendHtml(res, 200, page('Development IdP — signed out', '<p class="banner">fastify-sso development identity provider.</p><h1>You are signed out</h1>'))
        return
      }
      const { context } = identityProvider(keys[0]).createLogoutResponse(sp, { extract: { request: { id: request.id } } }, 'redirect', url.searchParams.get('RelayState') ?? '') as { context: string }
      res.writeHead(302, { location: context, 'cache-control': 'no-store' })
      res.end()
      return
    }
    sendHtml(res, 404, page('Not found', '<p>Not found.</p>'))
  }

  return {
    entityId,
    metadataUrl: entityId,
    ssoUrl: `${origin}/saml/sso`,
    sloUrl: `${origin}/saml/slo`,
    get certificate () { return keys[0]!.certificate },
    users,
    metadata: () => identityProvider().getMetadata(),
    rotateKey () { keys = [selfSignedCertificate({ commonName: 'fastify-sso development SAML IdP' }), keys[0]!] },
    loginResponse,
    async close () {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

/** samlify, an optional peer of `fastify-sso/testing` (FST_SSO_MISSING_DEPENDENCY when it is not installed). */
async function loadSamlify (): Promise<typeof import('samlify')> {
  const samlify = await importPeer({ name: 'samlify', neededBy: 'startDevSamlIdp()', dev: true }, () => import('samlify'))
  // samlify asks for an XML schema validator before it parses anything; the development IdP
  // checks well-formedness and refuses DTDs (the same parse the service provider uses). samlify
  // keeps it process-wide: one the app set itself, for its own use of samlify, stays.
  const api = await import('samlify/build/src/api.js' as string).catch(() => undefined) as { getContext?: () => { validate?: unknown } } | undefined
  if (api?.getContext?.().validate === undefined) {
    samlify.setSchemaValidator({ validate: async (xml: string) => { parseXml(xml); return 'ok' } })
  }
  return samlify
}

/** An AuthnRequest or LogoutRequest from the redirect binding: its ID and Issuer. */
function readRequest (url: URL, localName: string): { id: string, issuer: string, element: Element } {
  const encoded = url.searchParams.get('SAMLRequest')
  if (!encoded) throw new Error('no SAMLRequest')
  const element = parseXml(inflateRawSync(Buffer.from(encoded, 'base64'), { maxOutputLength: 64 * 1024 }).toString('utf8')).documentElement as unknown as Element
  if (element.namespaceURI !== ns.protocol || element.localName !== localName) throw new Error(`not a ${localName}`)
  return { id: element.getAttribute('ID') ?? '', issuer: text(onlyChild(element, ns.assertion, 'Issuer')), element }
}

function attributeStatement (user: DevIdpUser, names: Required<DevSamlAttributeNames>): string {
  const attribute = (name: string, values: Array<string | undefined> | undefined) => {
    const present = (values ?? []).filter((value): value is string => typeof value === 'string' && value.length > 0)
    if (present.length === 0) return ''
    return `<saml:Attribute Name="${escapeHtml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${present.map(value => `<saml:AttributeValue xsi:type="xs:string">${escapeHtml(value)}</saml:AttributeValue>`).join('')}</saml:Attribute>`
  }
  return `<saml:AttributeStatement>${[
    attribute(names.email, [user.email]),
    attribute(names.firstName, [user.givenName]),
    attribute(names.lastName, [user.familyName]),
    attribute(names.name, [user.name]),
    attribute(names.groups, user.groups),
    attribute(names.roles, user.roles)
  ].join('')}</saml:AttributeStatement>`
}

function responseTemplate (v: Record<string, string>, inResponseTo: string, attributes: string, sessionIndex: string): string {
  const e = (name: string) => escapeHtml(v[name] ?? '')
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${e('ID')}" Version="2.0" IssueInstant="${e('IssueInstant')}" Destination="${e('Destination')}"${inResponseTo}>` +
    `<saml:Issuer>${e('Issuer')}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${e('AssertionID')}" Version="2.0" IssueInstant="${e('IssueInstant')}">` +
    `<saml:Issuer>${e('Issuer')}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${e('NameIDFormat')}">${e('NameID')}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${e('NotOnOrAfter')}" Recipient="${e('Recipient')}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${e('IssueInstant')}" NotOnOrAfter="${e('NotOnOrAfter')}"><saml:AudienceRestriction><saml:Audience>${e('Audience')}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${e('IssueInstant')}" SessionIndex="_${escapeHtml(sessionIndex)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `${attributes}</saml:Assertion></samlp:Response>`
}

/** The HTTP-POST binding: a form that posts itself (a button without JavaScript). */
function postPage (action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('')
  return page('Development IdP — signing in', `
  <p class="banner">fastify-sso development identity provider.</p>
  <h1>Signing you in…</h1>
  <form method="post" action="${escapeHtml(action)}" id="saml-post">${inputs}
    <button class="primary" type="submit">Continue to the application</button>
  </form>
  <script>document.getElementById('saml-post').submit()</script>`)
}

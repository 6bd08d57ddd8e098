/**
 * `client_secret_basic` as RFC 6749 §2.3.1 writes it: the client id and secret each
 * `application/x-www-form-urlencoded` (Appendix B), joined by `:`, then Base64.
 *
 * Written here rather than taken from openid-client: its `ClientSecretBasic` percent-encodes
 * `-`, `.`, `_`, `~` (and `!*'()`) too, so `fastify-sso.app` goes out as `fastify%2Dsso%2Eapp`.
 * An IdP that form-decodes the header reads either form, but several deployed IdPs compare the
 * header's id and secret literally and answer `invalid_client` / `unauthorized_client` to the
 * over-encoded one. The form encoding leaves `*-._` and alphanumerics alone and writes a space
 * as `+`; we also leave `~` alone (RFC 3986 unreserved: every form decoder reads it unchanged,
 * and literal comparers need it as it is).
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type JsonWebKey as NodeJwk, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK, type JWTHeaderParameters } from 'jose'
import type * as client from 'openid-client'
import { InvalidArgumentError } from '../errors.ts'
import { optionError } from '../option-checks.ts'
import { randomId } from '../crypto.ts'

/**
 * One credential, form-urlencoded (what `URLSearchParams` writes, except `~`).
 *
 * @example
 * ```ts
 * formUrlEncode('fastify-sso.app_1~ a+b') // 'fastify-sso.app_1~+a%2Bb'
 * ```
 */
export function formUrlEncode (value: string): string {
  // `%` itself becomes `%25`, so `%7E` in the output can only come from a `~`.
  return new URLSearchParams([['', value]]).toString().slice(1).replaceAll('%7E', '~')
}

/**
 * openid-client client authentication sending `Authorization: Basic` with form-urlencoded credentials.
 *
 * @example
 * ```ts
 * const config = new client.Configuration(metadata, 'fastify-sso.app', {}, clientSecretBasic('s3cret~'))
 * ```
 */
export function clientSecretBasic (clientSecret: string): client.ClientAuth {
  return (_server, clientMetadata, _body, headers) => {
    const credentials = `${formUrlEncode(clientMetadata.client_id)}:${formUrlEncode(clientSecret)}`
    headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`)
  }
}

// ── private_key_jwt (RFC 7523, OIDC Core §9) ────────────────────────────────────────────────

/** A private key in PEM (PKCS#8, PKCS#1 or SEC1) or as a JWK with its private members. */
export type ClientPrivateKey = string | JWK

/** A client's signing key for `private_key_jwt`, checked once at register. */
export interface ClientSigningKey {
  key: KeyObject
  alg: string
  /** The JWK's own `kid`, else its RFC 7638 thumbprint (the same `clientJwks()` publishes). */
  kid: Promise<string>
  /** Certificate thumbprints for IdPs that find the key by certificate (Entra ID): SHA-1 and SHA-256. */
  x5t?: string
  x5tS256?: string
}

const jwtBearer = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** Curves and the one algorithm each signs with. */
const curveAlgorithms: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }
const rsaAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
/** Client assertions live one minute: long enough for clock skew, short against replay. */
const assertionLifetimeSeconds = 60

/** The key pair behind a PEM or JWK (private or public), or a description of why it is not one. */
function parseKey (input: unknown, want: 'private' | 'public'): { key: KeyObject, jwk?: JWK } | string {
  const jwk = typeof input === 'object' && input !== null ? input as JWK : undefined
  if (typeof input !== 'string' && !jwk) return 'must be a PEM string or a JWK object'
  try {
    const source = jwk ? { key: jwk as NodeJwk, format: 'jwk' as const } : input as string
    return { key: want === 'private' ? createPrivateKey(source) : createPublicKey(source), ...(jwk ? { jwk } : {}) }
  } catch {
    return want === 'private'
      ? 'is not a private key (a PEM "PRIVATE KEY" block or a JWK with its private member "d")'
      : 'is not a key (a PEM block or a JWK)'
  }
}

/** The signing algorithm for a key: the JWK's `alg` when it names one the key can make, else the usual one for its type. */
function algorithmOf (key: KeyObject, jwk: JWK | undefined): string {
  const type = key.asymmetricKeyType
  const wanted = jwk?.alg
  if (type === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return 'error:is an RSA key shorter than 2048 bits; IdPs refuse them.'
    if (wanted === undefined) return 'RS256'
    return rsaAlgorithms.includes(wanted) ? wanted : `error:is an RSA key whose JWK "alg" (${wanted}) is not one of ${rsaAlgorithms.join(', ')}.`
  }
  if (type === 'ec') {
    const alg = curveAlgorithms[key.asymmetricKeyDetails?.namedCurve ?? '']
    if (!alg) return 'error:is an EC key on a curve other than P-256, P-384 or P-521.'
    return wanted === undefined || wanted === alg ? alg : `error:is an EC key whose JWK "alg" (${wanted}) does not match its curve (${alg}).`
  }
  if (type === 'ed25519') return 'EdDSA'
  return `error:is a ${type ?? 'symmetric'} key; use an RSA (2048 bits or more), EC (P-256, P-384, P-521) or Ed25519 key.`
}

/** The public JWK that IdPs register for a key: its public members, `kid`, `alg` and `use`. */
async function publicJwk (key: KeyObject, jwk: JWK | undefined, alg: string): Promise<JWK> {
  const members = await exportJWK(key.type === 'public' ? key : createPublicKey(key))
  const kid = typeof jwk?.kid === 'string' && jwk.kid !== '' ? jwk.kid : await calculateJwkThumbprint(members)
  return { ...members, kid, alg, use: 'sig' }
}

/**
 * Loads the `privateKey` option (and an optional certificate for it), or throws an option error
 * that says what is wrong.
 *
 * @example
 * ```ts
 * const signing = clientSigningKey('oidcProvider.privateKey', process.env.OIDC_PRIVATE_KEY)
 * ```
 */
export function clientSigningKey (option: string, input: unknown, certificate?: unknown, certificateOption = 'clientCertificate'): ClientSigningKey {
  const parsed = parseKey(input, 'private')
  if (typeof parsed === 'string') throw optionError(option, `${parsed}.`)
  const alg = algorithmOf(parsed.key, parsed.jwk)
  if (alg.startsWith('error:')) throw optionError(option, alg.slice('error:'.length))
  const signing: ClientSigningKey = { key: parsed.key, alg, kid: publicJwk(parsed.key, parsed.jwk, alg).then(jwk => jwk.kid!) }
  signing.kid.catch(() => {}) // a failure surfaces at the first signature, not as an unhandled rejection
  if (certificate !== undefined) {
    let x509: X509Certificate
    try {
      x509 = new X509Certificate(String(certificate))
    } catch {
      throw optionError(certificateOption, 'must be a PEM certificate ("-----BEGIN CERTIFICATE-----").')
    }
    if (!x509.checkPrivateKey(parsed.key)) throw optionError(certificateOption, `is not the certificate of ${option} (its public key differs).`)
    signing.x5t = createHash('sha1').update(x509.raw).digest('base64url')
    signing.x5tS256 = createHash('sha256').update(x509.raw).digest('base64url')
  }
  return signing
}

/**
 * The public JWKS to register at the IdP (or serve from a URL it fetches) for `private_key_jwt`:
 * one entry per key, with the `kid` the client assertions carry (the JWK's own, else its RFC 7638
 * thumbprint), `alg` and `use: 'sig'`. Takes private or public keys, PEM or JWK; list the next key
 * beside the current one before switching `privateKey` to it, so the IdP knows both.
 *
 * @example
 * ```ts
 * import { clientJwks } from 'fastify-sso'
 * // Paste the output into the IdP's client settings…
 * console.log(JSON.stringify(await clientJwks(process.env.OIDC_PRIVATE_KEY)))
 * // …or serve it, for IdPs that fetch a JWKS URL (Keycloak "Use JWKS URL", Okta, Auth0 connections).
 * app.get('/.well-known/client-jwks.json', async () => clientJwks(process.env.OIDC_PRIVATE_KEY))
 * ```
 */
export async function clientJwks (...keys: ClientPrivateKey[]): Promise<{ keys: JWK[] }> {
  const jwks: JWK[] = []
  for (const [index, input] of keys.entries()) {
    const parsed = parseKey(input, 'public')
    if (typeof parsed === 'string') throw InvalidArgumentError(`clientJwks(): key ${index + 1} ${parsed}.`)
    const alg = algorithmOf(parsed.key, parsed.jwk)
    if (alg.startsWith('error:')) throw InvalidArgumentError(`clientJwks(): key ${index + 1} ${alg.slice('error:'.length)}`)
    jwks.push(await publicJwk(parsed.key, parsed.jwk, alg))
  }
  return { keys: jwks }
}

/** Where a client assertion's `aud` points: the IdP's issuer, or the endpoint the request goes to. */
export type AssertionAudience = 'issuer' | 'endpoint'

/** A signed client assertion for `aud`. */
async function clientAssertion (signing: ClientSigningKey, clientId: string, aud: string): Promise<string> {
  const header: JWTHeaderParameters = { alg: signing.alg, typ: 'JWT', kid: await signing.kid }
  if (signing.x5t) Object.assign(header, { x5t: signing.x5t, 'x5t#S256': signing.x5tS256 })
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setJti(randomId())
    .setIssuedAt()
    .setExpirationTime(`${assertionLifetimeSeconds}s`)
    .sign(signing.key)
}

/**
 * `private_key_jwt` for openid-client: the client authentication, and a fetch wrapper that signs
 * the assertion when `audience` is `endpoint`.
 *
 * Written here rather than taken from openid-client's `PrivateKeyJwt`: that one always names the
 * issuer as `aud`. Okta requires the URL of the endpoint being called (token, PAR, revocation)
 * and Entra ID its token endpoint; Auth0 and RFC 7523bis want the issuer. The endpoint's URL is
 * known only when the request is sent, so in `endpoint` mode the assertion is signed there, for the
 * URL the request actually goes to (never for an endpoint named elsewhere in the metadata).
 * Entra ID also finds the key by certificate: `x5t` / `x5t#S256` headers when a certificate is given.
 *
 * @example
 * ```ts
 * const { auth, signing } = privateKeyJwt(clientSigningKey('privateKey', pem), 'app', 'endpoint')
 * const config = new client.Configuration(metadata, 'app', {}, auth)
 * config[client.customFetch] = signing(fetch)
 * ```
 */
export function privateKeyJwt (signing: ClientSigningKey, audience: AssertionAudience): { auth: client.ClientAuth, signing: (send: client.CustomFetch) => client.CustomFetch } {
  const auth: client.ClientAuth = async (server, clientMetadata, body) => {
    body.set('client_id', clientMetadata.client_id)
    body.set('client_assertion_type', jwtBearer)
    if (audience === 'issuer') body.set('client_assertion', await clientAssertion(signing, clientMetadata.client_id, server.issuer))
  }
  const wrap = (send: client.CustomFetch): client.CustomFetch => async (url, init) => {
    const body = init.body
    if (audience === 'endpoint' && body instanceof URLSearchParams && body.get('client_assertion_type') === jwtBearer && !body.has('client_assertion')) {
      const endpoint = new URL(url)
      endpoint.search = ''
      body.set('client_assertion', await clientAssertion(signing, body.get('client_id') ?? '', endpoint.href))
    }
    return send(url, init)
  }
  return { auth, signing: wrap }
}

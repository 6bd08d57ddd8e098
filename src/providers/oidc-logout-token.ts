/**
 * OpenID Connect Back-Channel Logout 1.0: validating a `logout_token` (section 2.6).
 *
 * The OP calls the app server to server, so there is no browser, no state and no nonce: the
 * token's signature and claims are all there is. A token accepted here ends sessions, so it is
 * checked as strictly as an ID token, plus the rules that make it unusable as one (an `events`
 * claim, no `nonce`).
 */
import { jwtVerify, type JWTVerifyGetKey } from 'jose'
import { BackchannelLogoutError } from '../errors.ts'
import { clockToleranceSeconds } from './kit/jwt-keys.ts'

const logoutEvent = 'http://schemas.openid.net/event/backchannel-logout'
/** A logout token older than this is refused (the OP sends it at once). */
const maxAgeSeconds = 600
/** Longest token accepted, before any parsing. */
const maxTokenLength = 8192

/** Who to log out, and what makes the token single-use. */
export interface LogoutTokenClaims { jti: string, exp: number, sid?: string, sub?: string }

export interface LogoutTokenCheck {
  issuer: string
  clientId: string
  algorithm: string
  keys: JWTVerifyGetKey
  now: () => number
}

/**
 * Validates a logout token and returns its `sid` and/or `sub`.
 * @throws FST_SSO_BACKCHANNEL_LOGOUT_INVALID
 */
export async function verifyLogoutToken (token: string, check: LogoutTokenCheck): Promise<LogoutTokenClaims> {
  if (typeof token !== 'string' || token.length === 0 || token.length > maxTokenLength) {
    throw BackchannelLogoutError('The logout_token is missing or too long.')
  }
  let payload: Record<string, unknown>
  let header: Record<string, unknown>
  try {
    ({ payload, protectedHeader: header } = await jwtVerify(token, check.keys, {
      algorithms: [check.algorithm],
      issuer: check.issuer,
      audience: check.clientId,
      currentDate: new Date(check.now()),
      clockTolerance: clockToleranceSeconds,
      maxTokenAge: maxAgeSeconds,
      requiredClaims: ['iat', 'jti']
    }))
  } catch (err) {
    throw BackchannelLogoutError(`The logout_token was rejected: ${(err as Error).message}.`)
  }
  if (header.typ !== undefined && header.typ !== 'logout+jwt' && header.typ !== 'JWT') {
    throw BackchannelLogoutError('The logout_token has an unexpected typ header.')
  }
  const events = payload.events as Record<string, unknown> | undefined
  const event = events?.[logoutEvent]
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw BackchannelLogoutError('The logout_token has no back-channel logout event.')
  }
  // A logout token must never be usable as an ID token, and vice versa.
  if ('nonce' in payload) throw BackchannelLogoutError('The logout_token must not contain a nonce.')
  const sid = typeof payload.sid === 'string' && payload.sid.length > 0 ? payload.sid : undefined
  const sub = typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined
  if (!sid && !sub) throw BackchannelLogoutError('The logout_token names neither a sid nor a sub.')
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 255) {
    throw BackchannelLogoutError('The logout_token has no usable jti.')
  }
  const iat = payload.iat as number
  const exp = typeof payload.exp === 'number' ? payload.exp : iat + maxAgeSeconds
  return { jti: payload.jti, exp, sid, sub }
}

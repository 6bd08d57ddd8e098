/**
 * The plugin's cookies, in one place: their names and attributes (decided once, at register),
 * reading one cookie from a request, and writing `Set-Cookie` lines.
 *
 * No `@fastify/cookie` on the app: registering it would add decorators and an `onSend` hook to
 * every request of the app, measurably slowing routes that never touch a session (bench/,
 * "public route"). Only our cookie is read, and only when a route needs the user. Cookies the app
 * sets through its own `@fastify/cookie` are kept: that plugin merges what is already in the header.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { stringifySetCookie } from 'cookie'

/** Attributes shared by the session and transaction cookies. */
export interface CookieAttributes {
  path: '/'
  httpOnly: true
  secure: boolean
  sameSite: 'lax' | 'strict' | 'none'
}

/** A cookie the plugin writes: its name and attributes. */
export interface CookieSpec {
  name: string
  attributes: CookieAttributes
}

/** The default session cookie name: `__Host-` prefixed on https (no Domain, Path=/, Secure). */
export function defaultCookieName (https: boolean): string {
  return https ? '__Host-sso' : 'sso'
}

/** The session cookie: HttpOnly, Path=/, Secure on https, the configured SameSite (default Lax). */
export function sessionCookie (name: string, https: boolean, sameSite: CookieAttributes['sameSite']): CookieSpec {
  return { name, attributes: { path: '/', httpOnly: true, secure: https, sameSite } }
}

/**
 * The login transaction cookie: `<cookieName>-tx` (`__Host-` prefixed on https), SameSite=Lax.
 *
 * Exception: an IdP that posts its answer (a JWT or SAML IdP's form post) makes a cross-site POST,
 * and browsers send only SameSite=None cookies with it; None needs Secure, so on https only. (On
 * http://localhost such providers re-enter through a same-site GET instead.)
 */
export function transactionCookie (cookieName: string, https: boolean, crossSitePost: boolean): CookieSpec {
  const name = !https || cookieName.startsWith('__Host-') ? `${cookieName}-tx` : `__Host-${cookieName.replace(/^__Secure-/, '')}-tx`
  return { name, attributes: { path: '/', httpOnly: true, secure: https, sameSite: crossSitePost && https ? 'none' : 'lax' } }
}

/**
 * A cookie's value as the browser sent it (still URL-encoded), or as the app's own
 * `@fastify/cookie` parsed it. Only our cookie is extracted: parsing every cookie of every request
 * is the cost the plugin avoids for routes that never read the user.
 */
export function rawRequestCookie (request: FastifyRequest, name: string): string | undefined {
  const parsed = request.cookies
  if (parsed) return parsed[name]
  const header = request.headers.cookie
  return header ? readCookie(header, name) : undefined
}

/** A cookie's decoded value (see {@link rawRequestCookie}); undefined when absent or malformed. */
export function requestCookie (request: FastifyRequest, name: string): string | undefined {
  const raw = rawRequestCookie(request, name)
  return raw === undefined ? undefined : decodeCookieValue(raw)
}

/** URL-decodes a cookie value; undefined when it is malformed. */
export function decodeCookieValue (value: string): string | undefined {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return undefined
  }
}

/**
 * One cookie from a Cookie header (RFC 6265 syntax: `a=b; c=d`), not yet URL-decoded.
 *
 * @example
 * ```ts
 * readCookie('a=1; sso=xyz', 'sso')  // 'xyz'
 * readCookie('my-sso=1', 'sso')      // undefined
 * ```
 */
export function readCookie (header: string, name: string): string | undefined {
  let from = 0
  while (from < header.length) {
    const index = header.indexOf(name, from)
    if (index < 0) return undefined
    const end = index + name.length
    // A match counts only at the start of a pair (`sso` must not match `my-sso=`), followed by `=`.
    const atPairStart = index === 0 || header[index - 1] === ' ' || header[index - 1] === ';'
    if (atPairStart && header[end] === '=') {
      const stop = header.indexOf(';', end + 1)
      const value = header.slice(end + 1, stop < 0 ? undefined : stop).trim()
      return value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"' ? value.slice(1, -1) : value
    }
    from = end
  }
  return undefined
}

/**
 * Sets a cookie on the reply, replacing one of the same name set earlier in this reply (the last
 * word wins, as with `reply.setCookie`). Values are our sealed, cookie-safe strings.
 */
export function writeCookie (reply: FastifyReply, cookie: CookieSpec, value: string, maxAgeSeconds: number): void {
  replaceSetCookie(reply, cookie.name, stringifySetCookie({ name: cookie.name, value, ...cookie.attributes, maxAge: maxAgeSeconds }))
}

/** Tells the browser to drop a cookie (empty, expired in 1970, `Max-Age=0`). */
export function expireCookie (reply: FastifyReply, cookie: CookieSpec): void {
  replaceSetCookie(reply, cookie.name, stringifySetCookie({ name: cookie.name, value: '', ...cookie.attributes, maxAge: 0, expires: new Date(0) }))
}

function replaceSetCookie (reply: FastifyReply, name: string, line: string): void {
  const current = reply.getHeader('set-cookie')
  const lines = current === undefined ? [] : Array.isArray(current) ? current.map(String) : [String(current)]
  const others = lines.filter(existing => !existing.startsWith(`${name}=`))
  reply.removeHeader('set-cookie')
  reply.header('set-cookie', [...others, line])
}

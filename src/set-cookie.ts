/**
 * Writing the plugin's cookies (`Set-Cookie`) without `@fastify/cookie` on the app: registering
 * it would add decorators and an `onSend` hook to every request of the app, measurably slowing
 * routes that never touch a session (bench/, "public route"). Cookies the app sets through its
 * own `@fastify/cookie` are kept: that plugin merges what is already in the header.
 */
import type { FastifyReply } from 'fastify'
import { stringifySetCookie } from 'cookie'
import type { CookieAttributes } from './session.ts'

/**
 * Sets a cookie on the reply, replacing one of the same name set earlier in this reply (the last
 * word wins, as with `reply.setCookie`). Values are our sealed, cookie-safe strings.
 */
export function writeCookie (reply: FastifyReply, name: string, value: string, attributes: CookieAttributes, maxAgeSeconds: number): void {
  replaceSetCookie(reply, name, stringifySetCookie({ name, value, ...attributes, maxAge: maxAgeSeconds }))
}

/** Tells the browser to drop a cookie (empty, expired in 1970, `Max-Age=0`). */
export function expireCookie (reply: FastifyReply, name: string, attributes: CookieAttributes): void {
  replaceSetCookie(reply, name, stringifySetCookie({ name, value: '', ...attributes, maxAge: 0, expires: new Date(0) }))
}

function replaceSetCookie (reply: FastifyReply, name: string, line: string): void {
  const current = reply.getHeader('set-cookie')
  const lines = current === undefined ? [] : Array.isArray(current) ? current.map(String) : [String(current)]
  const others = lines.filter(existing => !existing.startsWith(`${name}=`))
  reply.removeHeader('set-cookie')
  reply.header('set-cookie', [...others, line])
}

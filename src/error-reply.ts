/**
 * How a request-time error reaches the user: an escaped HTML page for browser navigations, JSON
 * `{ statusCode, code, error, message }` for API calls, or a redirect to `errorRedirect`. Never a
 * stack trace. Every error is logged with the request id; 5xx at error level.
 */
import { STATUS_CODES } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  BadRequestError, BodyTooLargeError, InternalError, isSsoError, RoutingRequiredError, TransactionMissingError, UnknownConnectionError,
  UnknownDomainError, type SsoError
} from './errors.ts'
import { pageHeaders, renderPage, type PageForm, type PageLink } from './html.ts'
import { isBrowserNavigation } from './request-kind.ts'

/** Where the error page's links point. */
export interface ErrorLinks {
  /** A fresh login (`prefix/login`). */
  login: string
  /** The app's home (`defaultReturnTo`). */
  home: string
  /** Name of the transaction cookie, for the page that explains a missing one. */
  transactionCookie: string
  /** `errorRedirect`, when configured: failed logins are sent there instead. */
  errorRedirect?: string | undefined
  /**
   * The login's own returnTo (a checked same-origin path), when it is not the home page: kept on
   * the way back (`errorRedirect`'s `&returnTo=`, the work-email form), so a deep link survives.
   */
  returnTo?: string | undefined
}

/** Errors that mean "we do not know where to send you": the page asks for the work email again. */
const routingErrors: ReadonlySet<string> = new Set([RoutingRequiredError.code, UnknownDomainError.code, UnknownConnectionError.code])

const titles: Record<number, string> = {
  400: 'Sign-in could not be completed',
  401: 'Sign-in was rejected',
  403: 'Access denied',
  404: 'Not found',
  405: 'Not allowed',
  502: 'The identity provider is not responding',
  503: 'Temporarily unavailable'
}

/** Extra explanation for errors whose cause is not obvious from the message. */
function explanation (error: SsoError, links: ErrorLinks): string[] {
  if (error.code === TransactionMissingError.code) {
    return [
      `The browser did not send the login cookie (${links.transactionCookie}) back with the identity provider's answer. Usual causes:`,
      '• the login started on another host name than the app\'s configured baseUrl (for example 127.0.0.1 instead of localhost);',
      '• the browser blocks cookies for this site, or a proxy strips them;',
      '• the login page was left open longer than ten minutes, or the sign-in was started from the identity provider\'s own portal.',
      'Starting a fresh login usually fixes it.'
    ]
  }
  return []
}

/** The way back from a login that could not be routed: the work email again, the deep link kept. */
function workEmailForm (links: ErrorLinks): PageForm {
  return {
    action: links.login,
    field: { name: 'email', label: 'Work email', type: 'email' },
    hidden: links.returnTo ? { returnTo: links.returnTo } : {},
    button: 'Continue'
  }
}

/** Turns anything thrown into a coded error; unknown errors become a generic 500 and are logged as bugs. */
export function toSsoError (err: unknown, request: FastifyRequest): SsoError {
  if (isSsoError(err)) return err
  // Fastify's own client errors on the auth routes (body too large, invalid Content-Length…):
  // their messages describe the request, not internals.
  const status = (err as { statusCode?: unknown })?.statusCode
  if (err instanceof Error && typeof status === 'number' && status >= 400 && status < 500) {
    return status === 413 ? BodyTooLargeError() : BadRequestError(`The request is malformed: ${err.message}`)
  }
  request.log.error({ err }, 'fastify-sso: unexpected error')
  return InternalError()
}

/** Logs a coded error (5xx at error level) and marks the reply uncacheable. */
function record (request: FastifyRequest, reply: FastifyReply, error: SsoError): void {
  const entry = { code: error.code, statusCode: error.statusCode, message: error.message }
  if (error.statusCode >= 500) request.log.error(entry, 'fastify-sso: request failed')
  else request.log.info(entry, 'fastify-sso: request refused')
  reply.header('cache-control', 'no-store')
}

function jsonBody (error: SsoError) {
  return { statusCode: error.statusCode, code: error.code, error: STATUS_CODES[error.statusCode] ?? 'Error', message: error.message }
}

/** Sends a coded error as JSON whatever the client accepts (webhooks, server-to-server routes). */
export function sendJsonError (request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const error = toSsoError(err, request)
  record(request, reply, error)
  return reply.code(error.statusCode).send(jsonBody(error))
}

/** Sends a coded error in the form the client expects. */
export function sendError (request: FastifyRequest, reply: FastifyReply, err: unknown, links: ErrorLinks): FastifyReply {
  const error = toSsoError(err, request)
  const status = error.statusCode
  record(request, reply, error)
  if (links.errorRedirect) {
    const target = new URL(links.errorRedirect, 'http://placeholder')
    target.searchParams.set('error', error.code)
    if (links.returnTo) target.searchParams.set('returnTo', links.returnTo)
    return reply.redirect(target.pathname + target.search, 302)
  }
  reply.code(status)
  if (!isBrowserNavigation(request)) {
    return reply.send(jsonBody(error))
  }
  const pageLinks: PageLink[] = status === 405 || status === 403
    ? [{ href: links.home, label: 'Back to the application' }]
    : [{ href: links.login, label: 'Sign in again' }, { href: links.home, label: 'Back to the application' }]
  const page = renderPage(titles[status] ?? 'Something went wrong', [
    error.message,
    ...explanation(error, links),
    `Error code: ${error.code}`
  ], pageLinks, routingErrors.has(error.code) ? workEmailForm(links) : undefined)
  return reply.headers(pageHeaders).send(page)
}

/**
 * Browser navigation or API call: decides between an HTML page / redirect and JSON / 401.
 */
import type { FastifyRequest } from 'fastify'

/**
 * A request is a browser navigation when its `Accept` lists `text/html` explicitly or it carries
 * `Sec-Fetch-Mode: navigate`. `*\/*`, no `Accept`, or `application/json` are API calls.
 */
export function isBrowserNavigation (request: FastifyRequest): boolean {
  const headers = request.headers
  if (headers['sec-fetch-mode'] === 'navigate') return true
  const accept = headers.accept
  return typeof accept === 'string' && accept.includes('text/html')
}

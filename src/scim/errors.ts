/**
 * SCIM protocol errors (RFC 7644 §3.12): what a provisioning client (Okta, Entra ID) reads is the
 * SCIM error schema, `{ schemas, status: "<code as a string>", scimType?, detail }`, not our
 * `FST_SSO_*` JSON. These never leave the SCIM routes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

export const errorSchema = 'urn:ietf:params:scim:api:messages:2.0:Error'

/** The `scimType` values of RFC 7644 §3.12 that this service provider answers. */
export type ScimType =
  | 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax'
  | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive'

/** A SCIM error answer: status, optional `scimType`, and a detail written for the client's admin. */
export class ScimError extends Error {
  readonly status: number
  readonly scimType: ScimType | undefined

  constructor (status: number, detail: string, scimType?: ScimType) {
    super(detail)
    this.name = 'ScimError'
    this.status = status
    this.scimType = scimType
  }
}

export const invalidSyntax = (detail: string) => new ScimError(400, detail, 'invalidSyntax')
export const invalidValue = (detail: string) => new ScimError(400, detail, 'invalidValue')
export const invalidFilter = (detail: string) => new ScimError(400, detail, 'invalidFilter')
export const invalidPath = (detail: string) => new ScimError(400, detail, 'invalidPath')
export const noTarget = (detail: string) => new ScimError(400, detail, 'noTarget')
export const mutability = (detail: string) => new ScimError(400, detail, 'mutability')
export const uniqueness = (detail: string) => new ScimError(409, detail, 'uniqueness')
export const notFound = (detail: string) => new ScimError(404, detail)

/** The media type of every SCIM answer (RFC 7644 §3.1). */
export const scimContentType = 'application/scim+json; charset=utf-8'

/** Sends a SCIM error, logged (5xx as errors, the rest as information for the app's operators). */
export function sendScimError (request: FastifyRequest, reply: FastifyReply, error: ScimError): FastifyReply {
  const entry = { status: error.status, scimType: error.scimType, detail: error.message }
  if (error.status >= 500) request.log.error(entry, 'fastify-sso: SCIM request failed')
  else request.log.info(entry, 'fastify-sso: SCIM request refused')
  const body: Record<string, unknown> = { schemas: [errorSchema], status: String(error.status) }
  if (error.scimType) body.scimType = error.scimType
  body.detail = error.message
  return reply.code(error.status).header('content-type', scimContentType).header('cache-control', 'no-store').send(body)
}

/**
 * Anything thrown on a SCIM route as a SCIM error. Fastify's own client errors (a body over the
 * limit, malformed JSON, an unsupported media type) keep their 4xx status; anything else is a bug
 * or a failure of the app's repository, `authenticate` or `onEvent`: a 500 with no detail, the
 * cause in the log.
 */
export function toScimError (err: unknown, request: FastifyRequest): ScimError {
  if (err instanceof ScimError) return err
  const status = (err as { statusCode?: unknown })?.statusCode
  const code = (err as { code?: unknown })?.code
  if (err instanceof Error && typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new ScimError(413, 'The request body is larger than this endpoint accepts.')
    if (status === 415) return new ScimError(415, 'Send the body as application/scim+json (or application/json).')
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return invalidSyntax('The request body is not valid JSON.')
    }
    return new ScimError(status, status === 400 ? `The request is malformed: ${err.message}` : err.message, status === 400 ? 'invalidSyntax' : undefined)
  }
  request.log.error({ err }, 'fastify-sso: unexpected error on a SCIM route')
  return new ScimError(500, 'An unexpected error occurred; the details are in the service provider\'s log.')
}

/**
 * `GET {prefix}/callback` (and `POST` for providers whose IdP posts): finishes a login.
 *
 * Order matters: the transaction is consumed before anything else, so that every outcome,
 * success or failure, uses it up; the provider verifies the answer; only then is a fresh
 * session created (new id: no session fixation) and the browser sent to its returnTo.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SsoCore } from '../core.ts'
import {
  IdpError, IdpUnavailableError, InvalidCallbackError, InvalidOptionError, isSsoError, LoginDeniedError, StateMismatchError,
  StepUpFailedError, TransactionExpiredError, TransactionMissingError, TransactionReplayedError
} from '../errors.ts'
import { sendError, toSsoError } from '../error-reply.ts'
import { auditFailure, auditUser, type AuditInput } from '../audit.ts'
import { sha256 } from '../crypto.ts'
import { safeReturnTo } from '../return-to.ts'
import { withTimeout } from '../timeout.ts'
import { boundUser, type SsoUser } from '../user.ts'
import { callbackState, type LoginTransaction, type SignIn } from '../providers/provider.ts'
import { firstUse } from '../store/single-use.ts'
import { rawQuery, singleParams } from './params.ts'
import { park, shouldPark, unpark, type CallbackAnswer } from './post-back.ts'
import { startLogin } from './login.ts'
import { startSession } from '../start-session.ts'
import { stepUpOfRouting, unmetStepUp } from '../step-up.ts'

/** Parameters whose repetition makes a callback ambiguous. */
const protocolParams = ['state', 'code', 'error', 'iss', 'id_token', 'token', 'jwt', 'RelayState']

/** Longest IdP error text shown to the user. */
const maxIdpMessage = 300

export function callbackHandler (core: SsoCore) {
  return async function callback (request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store')
    const attempt: LoginAttempt = { provider: core.provider.name }
    try {
      const method = request.method === 'POST' ? 'POST' : 'GET'
      const answer: CallbackAnswer = { method, fields: method === 'POST' ? request.body : request.query, query: rawQuery(request.url) }
      // A cross-site POST without the transaction cookie goes round through the same site first.
      if (shouldPark(core, request, answer)) return await park(core, reply, answer)
      return await finishLogin(core, request, reply, answer, attempt)
    } catch (err) {
      return failLogin(core, request, reply, err, attempt)
    }
  }
}

/** `GET {prefix}/callback/continue`: a parked POST callback, back with the browser's cookies. */
export function continueHandler (core: SsoCore) {
  return async function continueLogin (request: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store')
    const attempt: LoginAttempt = { provider: core.provider.name }
    try {
      return await finishLogin(core, request, reply, await unpark(core, request), attempt)
    } catch (err) {
      return failLogin(core, request, reply, err, attempt)
    }
  }
}

/** What a failed login's audit event can say: who, where, as far as the callback got. */
type LoginAttempt = Omit<AuditInput, 'type'>

/** A failed login: its `login.failed` audit event, then the error page, JSON or errorRedirect. */
function failLogin (core: SsoCore, request: FastifyRequest, reply: FastifyReply, err: unknown, attempt: LoginAttempt): FastifyReply {
  const error = toSsoError(providerFailure(err, request), request)
  core.audit.emit({ type: 'login.failed', ...attempt, ...auditFailure(error) }, request)
  return sendError(request, reply, error, core.links)
}

async function finishLogin (core: SsoCore, request: FastifyRequest, reply: FastifyReply, answer: CallbackAnswer, attempt: LoginAttempt): Promise<FastifyReply> {
  const { method } = answer
  const { values: params, repeated } = singleParams(answer.fields)
  const ambiguous = repeated.filter(name => protocolParams.includes(name))
  if (ambiguous.length > 0) throw InvalidCallbackError(`The callback repeats the parameter ${ambiguous.join(', ')}.`)

  if (params.error !== undefined) {
    // Use up the pending login whatever else is wrong, then report what the IdP said (some IdPs
    // omit state on errors: their message is more useful than "state mismatch").
    await consumeTransaction(core, request, reply, params).catch(() => {})
    const description = params.error_description ? `: ${params.error_description}` : ''
    throw IdpError(`The identity provider refused the sign-in (${params.error}${description})`.slice(0, maxIdpMessage) + '.')
  }
  const transaction = await consumeTransaction(core, request, reply, params)
  // The tenant the login was started for (routing checked at /login), for a failure's audit event.
  if (transaction?.routing.organization) attempt.organizationId = transaction.routing.organization
  if (transaction?.routing.connection) attempt.connectionId = transaction.routing.connection

  // The URL the IdP sent the browser to, rebuilt from configuration (never from Host).
  const url = new URL(core.options.redirectUri)
  url.search = answer.query
  const outcome = await withTimeout(core.provider.callback({ method, params, url, transaction }))

  if ('restart' in outcome) {
    // IdP-initiated login made safe: no session from it; a fresh SP-initiated login instead.
    return startLogin(core, request, reply, core.options.defaultReturnTo, {}, outcome.restart)
  }
  // A step-up login must come back with what it asked for, whatever the provider and IdP did:
  // otherwise the guard would send the user round again.
  const stepUp = transaction && stepUpOfRouting(transaction.routing)
  const unmet = stepUp && unmetStepUp(stepUp, outcome.session, core.options.now())
  if (unmet) throw StepUpFailedError(`This page needs ${unmet}, and the identity provider did not confirm one. Try signing in again; if it keeps failing, the identity provider may not offer it for your account.`)
  const returnTo = transaction?.returnTo ?? safeReturnTo(outcome.returnTo, core.options.baseUrl, core.options.defaultReturnTo)
  return signIn(core, request, reply, outcome, returnTo, attempt)
}

/**
 * Finds this callback's pending login and uses it up, or throws the precise reason why not.
 * Returns `null` only for an unsolicited callback the provider has opted in to.
 */
async function consumeTransaction (
  core: SsoCore, request: FastifyRequest, reply: FastifyReply, params: Record<string, string>
): Promise<LoginTransaction | null> {
  const { provider, transactions } = core
  const usesState = provider.usesState !== false
  const state = callbackState(params, provider.stateParam)
  if (usesState && !state) {
    if (provider.acceptsUnsolicited) return null
    const hasCookie = transactions.has(request)
    throw hasCookie
      ? StateMismatchError('The identity provider\'s answer carries no state parameter.')
      : TransactionMissingError('This sign-in was not started from this application (no login cookie and no state). Start the sign-in from the application.')
  }
  const taken = transactions.take(request, reply, usesState ? state! : null)
  switch (taken.kind) {
    case 'missing':
      if (provider.acceptsUnsolicited) return null
      throw TransactionMissingError()
    case 'mismatch':
      throw StateMismatchError('The state in the identity provider\'s answer matches no sign-in started in this browser.')
    case 'expired':
      throw TransactionExpiredError()
  }
  const transaction = taken.transaction
  // Single use across instances: the browser's cookie no longer holds this transaction, and the
  // store remembers its state until it would have expired, so a replayed copy is refused too.
  const first = await firstUse(core.store, `tx:${sha256(transaction.state)}`, transaction.expiresAt - core.options.now(), request.log, core.options.storeFailure === 'open')
  if (!first) throw TransactionReplayedError()
  return transaction
}

async function signIn (core: SsoCore, request: FastifyRequest, reply: FastifyReply, outcome: SignIn, returnTo: string, attempt: LoginAttempt): Promise<FastifyReply> {
  const { user: bounded, droppedClaims } = boundUser(outcome.user)
  // From here on a refusal (onLogin, session too large) knows who was refused.
  Object.assign(attempt, auditUser(bounded))
  if (droppedClaims) request.log.info('fastify-sso: the raw claims were too large for the session cookie and were left out of user.claims')
  const user = await applyOnLogin(core, bounded, request)

  await startSession(core, request, reply, user, outcome.session, outcome.secrets)
  return reply.redirect(returnTo, 302)
}

async function applyOnLogin (core: SsoCore, user: SsoUser, request: FastifyRequest): Promise<SsoUser> {
  const onLogin = core.options.onLogin
  if (!onLogin) return user
  let result: unknown
  try {
    result = await onLogin(user, request)
  } catch (err) {
    if (isSsoError(err)) throw err
    // Only coded errors (e.g. `throw LoginDeniedError('…')`) show their message: an arbitrary
    // error's message may describe internals.
    request.log.info({ err }, 'fastify-sso: onLogin refused the user')
    throw LoginDeniedError()
  }
  if (result === false) throw LoginDeniedError()
  if (result === undefined || result === true) return user
  if (typeof result === 'object' && result !== null && typeof (result as SsoUser).id === 'string') return result as SsoUser
  throw InvalidOptionError('fastify-sso: onLogin must return a user object (with an id), true, false or nothing.')
}

/** Anything a provider throws that is not a coded error is an IdP failure: 502, logged. */
function providerFailure (err: unknown, request: FastifyRequest): unknown {
  if (isSsoError(err)) return err
  request.log.error({ err }, 'fastify-sso: the identity provider step failed')
  return IdpUnavailableError()
}

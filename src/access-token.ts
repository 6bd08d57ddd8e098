/**
 * `app.sso.accessToken(request)`: the signed-in user's access token, for calling APIs on their
 * behalf, renewed when it is about to expire.
 *
 * The tokens live in the session's secret provider state (provider-state-store.ts: the store,
 * sealed with the session keys, never the cookie). A renewal is single-flight per session, in the
 * process and across instances (`SingleFlight`, refresh.ts): with refresh-token rotation, two
 * renewals spending the same refresh token would have the IdP revoke the whole grant. A renewal the
 * IdP refuses ends the session everywhere; an IdP that is only unreachable leaves it as it is.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { auditFailure, auditUser } from './audit.ts'
import type { SsoCore } from './core.ts'
import {
  IdpUnavailableError, InvalidArgumentError, isSsoError, NoAccessTokenError, RefreshRefusedError, StoreUnavailableError,
  UnauthorizedError, type SsoError
} from './errors.ts'
import { stateStore } from './provider-state-store.ts'
import type { ProviderSession } from './providers/provider.ts'
import { SingleFlight } from './refresh.ts'
import type { SessionRecord } from './session.ts'
import { withTimeout } from './timeout.ts'
import { endSession } from './routes/logout.ts'

/**
 * An access token is renewed once it expires within this margin (or within half its lifetime,
 * for tokens issued for less than twice the margin), so that the API call made with it does not
 * meet an expired token on the way.
 */
export const refreshMarginMs = 60_000
/**
 * How long a call waits for a renewal while its current token is still valid: a slow IdP must not
 * stall every API call of the margin's last minute. The renewal goes on; its result is kept.
 */
const renewalWaitMs = 2_000

/** The outcome of one renewal, shared with the requests and instances that waited for it. */
type Renewal = { state: ProviderSession } | { refused: string }

/** Serves `app.sso.accessToken()` for one registration. */
export class AccessTokens {
  readonly #core: SsoCore
  readonly #flight: SingleFlight<Renewal>

  constructor (core: SsoCore) {
    this.#core = core
    this.#flight = new SingleFlight(core.store, core.sessions.codec, 'token-refresh')
  }

  /**
   * The request's access token, renewed first when it expires within the margin.
   * @throws FST_SSO_UNAUTHORIZED (no session), FST_SSO_NO_ACCESS_TOKEN (none kept for it),
   *   FST_SSO_REFRESH_REFUSED (the IdP refused; the session is ended), FST_SSO_IDP_UNAVAILABLE,
   *   FST_SSO_STORE_UNAVAILABLE, FST_SSO_INVALID_ARGUMENT (the provider keeps no tokens).
   */
  async get (request: FastifyRequest): Promise<string> {
    const { provider, sessions } = this.#core
    if (!provider.refreshTokens) {
      throw InvalidArgumentError('app.sso.accessToken() needs a provider that keeps the tokens: oidcProvider({ tokens: true }).')
    }
    const record = sessions.read(request).record
    if (!record) throw UnauthorizedError('Sign in to continue: this request has no session, so there is no access token for it.')
    const state = await this.#read(record)
    const accessToken = state?.accessToken
    if (typeof accessToken !== 'string') {
      throw NoAccessTokenError('This session holds no access token: it was started without one (app.sso.signIn(), another provider, or before tokens: true), or its tokens are no longer in the store. Sign in again through the identity provider.')
    }
    if (this.#fresh(state!)) return accessToken
    const renewing = this.#flight.run(record.id, { work: () => this.#renew(request, record, state!), usable: (done) => 'refused' in done || this.#fresh(done.state) }, request.log)
      .then((renewal) => ({ renewal }), (err: unknown) => ({ error: isSsoError(err) ? err : storeFailure(err, request.log) }))
    const expired = this.#expired(state!)
    const outcome = expired ? await renewing : await within(renewing, renewalWaitMs)
    if (outcome === undefined) return accessToken // still valid; the renewal lands later
    if ('error' in outcome) {
      // Not renewed for now (the IdP or the store is down), but the token has not expired yet.
      if (expired) throw outcome.error
      request.log.warn({ code: outcome.error.code }, 'fastify-sso: could not renew the access token; using it until it expires')
      return accessToken
    }
    const { renewal } = outcome
    if (!renewal) throw IdpUnavailableError('Another instance was renewing the access token and did not finish; try again.')
    if ('refused' in renewal) {
      sessions.forget(request)
      throw RefreshRefusedError(renewal.refused)
    }
    return renewal.state.accessToken as string
  }

  /** The session's secret state, or `null` when it keeps none. */
  async #read (record: SessionRecord): Promise<ProviderSession | null> {
    if (!record.ps) return null
    try {
      return await stateStore(this.#core).get(record.id)
    } catch (err) {
      throw StoreUnavailableError(`The access token could not be read from the store: ${(err as Error)?.message ?? err}`)
    }
  }

  /** Renews the tokens (the one instance holding the lock), keeps them, or ends a refused session. */
  async #renew (request: FastifyRequest, record: SessionRecord, state: ProviderSession): Promise<Renewal> {
    const core = this.#core
    let renewed: ProviderSession
    try {
      renewed = await withTimeout(core.provider.refreshTokens!({ ...record.p, ...state }))
    } catch (err) {
      const error = isSsoError(err) ? err : providerFailure(err, request.log)
      core.audit.emit({ type: 'session.refresh_failed', ...auditUser(record.u), ...auditFailure(error) }, request)
      if (error.code !== RefreshRefusedError.code) throw error
      request.log.info({ code: error.code }, 'fastify-sso: the identity provider refused to renew the tokens; ending the session')
      await endSession(core, request, undefined, { revokeTokens: false, source: 'refresh' })
      return { refused: error.message }
    }
    try {
      await stateStore(core).put(record.id, renewed, core.sessions.expiresAt(record) - core.options.now())
    } catch (err) {
      // The new token is good now; the next renewal will find the old (spent) refresh token.
      request.log.error({ err: { message: (err as Error)?.message } }, 'fastify-sso: could not keep the renewed tokens in the store')
    }
    core.audit.emit({ type: 'session.refreshed', ...auditUser(record.u) }, request)
    return { state: renewed }
  }

  /** Whether the access token has more than the margin left (a token without expiry is taken as valid). */
  #fresh (state: ProviderSession): boolean {
    const { accessTokenExpiresAt: expiresAt, accessTokenIssuedAt: issuedAt } = state
    if (typeof expiresAt !== 'number') return true
    const margin = typeof issuedAt === 'number' ? Math.min(refreshMarginMs, (expiresAt - issuedAt) / 2) : refreshMarginMs
    return expiresAt - this.#core.options.now() > margin
  }

  #expired (state: ProviderSession): boolean {
    return typeof state.accessTokenExpiresAt === 'number' && state.accessTokenExpiresAt <= this.#core.options.now()
  }
}

/** What `promise` resolves to, or `undefined` when it takes longer than `ms` (it must not reject). */
async function within<T> (promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>(resolve => { timer = setTimeout(() => resolve(undefined), ms).unref() })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** A store failure (the lock, the shared result) while coordinating a renewal. */
function storeFailure (err: unknown, log: FastifyBaseLogger): SsoError {
  log.error({ err: { message: (err as Error)?.message } }, 'fastify-sso: the store failed while renewing an access token')
  return StoreUnavailableError()
}

/** Anything a provider throws that is not a coded error is an IdP failure (logged without its details' tokens). */
function providerFailure (err: unknown, log: FastifyBaseLogger): SsoError {
  log.error({ err: { message: (err as Error)?.message } }, 'fastify-sso: renewing the access token failed')
  return IdpUnavailableError()
}

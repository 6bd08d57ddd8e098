/**
 * Starting a session for a user: shared by the login callback and `app.sso.signIn()`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SsoCore } from './core.ts'
import { isSsoError, SessionTooLargeError } from './errors.ts'
import type { ProviderSession } from './providers/provider.ts'
import { forgetSecrets, keepSecrets } from './provider-state-store.ts'
import type { SsoUser } from './user.ts'

/**
 * Creates a brand-new session (new id: no fixation), sets its cookie, and revokes the session the
 * browser had before, so a copy of the old cookie is refused too.
 */
export async function startSession (
  core: SsoCore, request: FastifyRequest, reply: FastifyReply, user: SsoUser, providerSession?: ProviderSession, secrets?: ProviderSession
): Promise<void> {
  const { sessions } = core
  const previous = sessions.read(request).record
  let record = sessions.create(user, providerSession)
  if (secrets && await keepSecrets(core, request.log, record.id, secrets, sessions.expiresAt(record) - core.options.now())) record.ps = 1
  let value: string
  try {
    value = await sessions.save(record)
  } catch (err) {
    // The raw claims are a convenience: give them up before giving up the login.
    if (!isSsoError(err) || err.code !== SessionTooLargeError.code || !record.u.claims) throw err // nothing set yet
    const { claims: _dropped, ...withoutClaims } = record.u
    record = { ...record, u: withoutClaims }
    value = await sessions.save(record)
    request.log.info('fastify-sso: user.claims left out to keep the session cookie under 4 KB')
  }
  sessions.setCookie(request, reply, record, value)
  if (previous) {
    core.revocations.revokeSession(previous.id, sessions.expiresAt(previous)).catch((err: unknown) => {
      request.log.warn({ err }, 'fastify-sso: could not revoke the replaced session')
    })
    if (previous.ps) void forgetSecrets(core, request.log, previous.id)
  }
  request.log.info({ userId: user.id, provider: user.provider }, 'fastify-sso: signed in')
}

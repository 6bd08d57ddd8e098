/**
 * Type augmentation: `request.user`, `request.logout()` and `app.sso` in every Fastify app that
 * imports fastify-sso. With a custom `decorator` name, declare your property the same way.
 */
import type { SsoDecorator } from './core.ts'
import type { SsoUser } from './user.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user, or `null` (decoded lazily from the session cookie). */
    user: SsoUser | null
    // An inline import: TypeScript leaves an `import type` used only inside the augmentation of
    // the module it comes from out of the emitted .d.ts, and apps then meet "Cannot find name".
    /** Ends the session: revokes it everywhere, and clears the cookie when `reply` is given. */
    logout(reply?: import('fastify').FastifyReply): Promise<void>
  }
  interface FastifyInstance {
    /** fastify-sso's application API (`revoke`, `loginUrl`). */
    sso: SsoDecorator
  }
}

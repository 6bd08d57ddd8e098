/**
 * The signed-in user every benchmark variant carries: a typical OpenID Connect profile (about
 * 400 bytes of JSON), so that each variant decrypts and reads the same amount of data.
 */
import type { SsoUser } from '../src/index.ts'

/** The profile as fastify-sso keeps it (`request.user`). */
export const benchUser: Omit<SsoUser, 'provider'> = {
  id: '00u8f3k2d9XaQ1bZ4697',
  email: 'alice.anders@acme-corp.example',
  emailVerified: true,
  name: 'Alice Anders',
  firstName: 'Alice',
  lastName: 'Anders',
  organizationId: 'org_01HQ3ZK8XJ5N2M4P6R8T0V2W4Y',
  roles: ['admin', 'billing'],
  groups: ['Engineering', 'Platform'],
  claims: { locale: 'en-US', zoneinfo: 'Europe/Berlin', department: 'Engineering' }
}

/** The same profile as OpenID Connect ID token claims (for express-openid-connect). */
export const benchClaims = {
  sub: benchUser.id,
  email: benchUser.email,
  email_verified: true,
  name: benchUser.name,
  given_name: benchUser.firstName,
  family_name: benchUser.lastName,
  org_id: benchUser.organizationId,
  roles: benchUser.roles,
  groups: benchUser.groups,
  locale: 'en-US',
  zoneinfo: 'Europe/Berlin',
  department: 'Engineering'
}

/** What every benchmark route answers: the signed-in user's email (a constant for bare routes). */
export function answer (email: string | undefined): { hello: string | undefined } {
  return { hello: email }
}

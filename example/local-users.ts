/**
 * An ordinary password login beside SSO (a B2B app keeps its customers without an IdP). One demo
 * user, compared in constant time; a real app would use its user table and a password hash
 * (scrypt, argon2).
 */
import { safeEqual } from '../src/crypto.ts'

export const localUser = {
  id: 'local_demo',
  email: 'demo@example.test',
  name: 'Demo Customer',
  organizationId: 'org_local',
  password: 'demo-password'
}

/** The user for these credentials, or null. */
export function checkPassword (email: unknown, password: unknown): typeof localUser | null {
  if (typeof email !== 'string' || typeof password !== 'string') return null
  // Both comparisons always run: the answer's timing says nothing about which one failed.
  const emailOk = safeEqual(email.trim().toLowerCase(), localUser.email)
  const passwordOk = safeEqual(password, localUser.password)
  return emailOk && passwordOk ? localUser : null
}

/**
 * How ID token claims become `request.user`: the standard ones onto the user's fields, the rest
 * in `user.claims` (once: a mapped claim is not kept a second time in the cookie).
 */
import { test } from 'tap'
import { mapClaims as mapWith, standardClaimNames } from '../src/providers/kit/profile.ts'

const mapClaims = (claims: Record<string, unknown>, sub: string, provider: string) => mapWith({ sub, ...claims }, standardClaimNames, provider)

test('mapped claims leave user.claims; the others stay', async (t) => {
  const user = mapClaims({
    sub: 'u1', email: 'a@acme.test', email_verified: true, name: 'A A', given_name: 'A', family_name: 'A',
    org_id: 'org_1', roles: ['admin'], groups: ['Eng'], locale: 'de-DE', tid: 'tenant-1', iss: 'https://idp', nonce: 'n'
  }, 'u1', 'oidc')
  t.match(user, { id: 'u1', email: 'a@acme.test', emailVerified: true, name: 'A A', organizationId: 'org_1', roles: ['admin'], groups: ['Eng'] })
  t.same(user.claims, { locale: 'de-DE', tid: 'tenant-1' }, 'vendor claims kept, mapped and protocol claims left out')
})

test('the organization claim that was used leaves claims; an unused one and an object stay', async (t) => {
  t.same(mapClaims({ organization_id: 'org_2', organization: 'org_other' }, 's', 'oidc').claims, { organization: 'org_other' })
  const object = mapClaims({ organization: { id: 'org_3', name: 'Three' } }, 's', 'oidc')
  t.equal(object.organizationId, 'org_3')
  t.same(object.claims, { organization: { id: 'org_3', name: 'Three' } }, 'its name stays readable')
})

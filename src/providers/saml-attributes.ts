/**
 * From a verified SAML assertion to a user: which attributes feed which field, with defaults for
 * the names Okta, Microsoft Entra ID, ADFS, Google Workspace and Shibboleth (eduPerson) send.
 */
import { TokenRejectedError } from '../errors.ts'
import { optionError, optionsObject } from '../option-checks.ts'
import type { RawUser } from '../user.ts'
import { mapClaims, type ClaimNames } from './kit/profile.ts'
import type { VerifiedAssertion } from './saml-response.ts'

/** Attribute names for the user fields (a name, or names tried in order), in `samlProvider({ attributes })`. */
export interface SamlAttributeNames {
  /** An attribute to use as `user.id` instead of the NameID (e.g. Entra's objectidentifier). */
  id?: string | string[]
  email?: string | string[]
  firstName?: string | string[]
  lastName?: string | string[]
  /** Display name. */
  name?: string | string[]
  groups?: string | string[]
  roles?: string | string[]
}

const entra = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/'
const soap = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/'

/**
 * The defaults, tried in order. Okta and Google Workspace send whatever names the admin typed
 * (docs/saml.md suggests `email`, `firstName`, `lastName`, `groups`); Entra ID and ADFS send the
 * WS-Federation claim URIs; Shibboleth sends eduPerson OIDs.
 */
export const defaultAttributeNames: Readonly<Record<keyof SamlAttributeNames, readonly string[]>> = {
  id: [],
  email: ['email', 'mail', 'emailAddress', 'Email', `${soap}emailaddress`, 'http://schemas.xmlsoap.org/claims/EmailAddress', 'urn:oid:0.9.2342.19200300.100.1.3'],
  firstName: ['firstName', 'givenName', 'first_name', 'given_name', `${soap}givenname`, 'urn:oid:2.5.4.42'],
  lastName: ['lastName', 'surname', 'last_name', 'family_name', 'sn', `${soap}surname`, 'urn:oid:2.5.4.4'],
  // Not `…/claims/name`: Entra ID puts the user principal name there, not a display name.
  name: ['displayName', 'name', 'http://schemas.microsoft.com/identity/claims/displayname', 'http://schemas.xmlsoap.org/claims/CommonName', 'urn:oid:2.16.840.1.113730.3.1.241'],
  groups: ['groups', 'memberOf', `${entra}groups`, 'http://schemas.xmlsoap.org/claims/Group', 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1'],
  roles: ['roles', 'role', 'Role', `${entra}role`]
}

const transient = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient'
const emailFormat = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
const unspecified = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'

/** Checks `samlProvider({ attributes })` and returns the claim names, overrides first. */
export function attributeNames (value: unknown): ClaimNames {
  const names = optionsObject<SamlAttributeNames>('samlProvider.attributes', value ?? {}, Object.keys(defaultAttributeNames), 'attribute names such as { email: \'mail\' }')
  const pick = (field: keyof SamlAttributeNames): readonly string[] => {
    const given = names[field]
    if (given === undefined) return defaultAttributeNames[field]
    const list = typeof given === 'string' ? [given] : given
    if (!Array.isArray(list) || list.length === 0 || !list.every(name => typeof name === 'string' && name.length > 0)) {
      throw optionError(`samlProvider.attributes.${field}`, 'must be an attribute name or a list of them.')
    }
    return list
  }
  return {
    id: pick('id'),
    email: pick('email'),
    emailVerified: [],
    name: pick('name'),
    firstName: pick('firstName'),
    lastName: pick('lastName'),
    groups: pick('groups'),
    roles: pick('roles'),
    // The tenant comes from configuration (a connection's organizationId), never from the IdP.
    organizationId: []
  }
}

/**
 * The user of a verified assertion: `id` from the configured attribute or the NameID (never a
 * transient one: it changes at every login), the email from attributes or an email-shaped NameID.
 */
export function samlUser (assertion: VerifiedAssertion, names: ClaimNames, provider: string): RawUser {
  const user = mapClaims(assertion.attributes, names, provider)
  if (names.id.length > 0) {
    if (!user.id) throw TokenRejectedError(`The assertion has none of the attributes configured as the user id (${names.id.join(', ')}).`)
  } else {
    if (!assertion.nameId) throw TokenRejectedError('The assertion has no NameID; configure samlProvider({ attributes: { id } }) to take the user id from an attribute.')
    if (assertion.nameIdFormat === transient) {
      throw TokenRejectedError('The assertion\'s NameID is transient (a new value at every sign-in): set the NameID format to persistent or email at the IdP, or configure attributes.id.')
    }
    user.id = assertion.nameId
  }
  const format = assertion.nameIdFormat ?? unspecified
  if (!user.email && assertion.nameId && (format === emailFormat || format === unspecified) && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(assertion.nameId)) {
    user.email = assertion.nameId
  }
  user.idpId = user.id
  return user
}

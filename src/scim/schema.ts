/**
 * The SCIM attributes this service provider knows (RFC 7643 §4.1, §4.2, §4.3), written once: the
 * bodies of POST and PUT are validated against them, PATCH paths and filters resolve through them
 * (attribute names are case-insensitive in SCIM, so this is also where the canonical spelling
 * comes from), and `/Schemas` is rendered from them.
 */

export const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const groupSchema = 'urn:ietf:params:scim:schemas:core:2.0:Group'
export const enterpriseSchema = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
/** Extensions of the app's own (an Entra ID "custom extension attribute"): kept as sent, never interpreted. */
export const customExtensionPrefix = 'urn:ietf:params:scim:schemas:extension:'

export type ResourceType = 'User' | 'Group'

export interface AttributeDefinition {
  name: string
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime'
  multiValued: boolean
  description: string
  required: boolean
  caseExact: boolean
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
  returned: 'always' | 'never' | 'default' | 'request'
  uniqueness: 'none' | 'server' | 'global'
  subAttributes?: AttributeDefinition[]
  referenceTypes?: string[]
}

type Shorthand = Partial<AttributeDefinition> & { name: string, description: string }

function attribute (shorthand: Shorthand): AttributeDefinition {
  return {
    type: 'string',
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...shorthand
  }
}

const text = (name: string, description: string, more: Partial<AttributeDefinition> = {}) => attribute({ name, description, ...more })

/** The sub-attributes every multi-valued attribute such as `emails` has (RFC 7643 §2.4). */
function multiValued (name: string, description: string, types: string[] = []): AttributeDefinition {
  return attribute({
    name,
    description,
    type: 'complex',
    multiValued: true,
    subAttributes: [
      text('value', `The ${name} value.`),
      text('display', 'A human-readable name, primarily used for display purposes.'),
      text('type', `A label indicating the attribute's function${types.length > 0 ? ` (${types.join(', ')})` : ''}.`),
      attribute({ name: 'primary', type: 'boolean', description: 'Whether this is the primary value.' })
    ]
  })
}

export const userAttributes: AttributeDefinition[] = [
  text('userName', 'Unique identifier for the User, typically the sign-in name.', { required: true, uniqueness: 'server' }),
  attribute({
    name: 'name',
    type: 'complex',
    description: 'The components of the user\'s real name.',
    subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix']
      .map(sub => text(sub, `The ${sub} part of the name.`))
  }),
  text('displayName', 'The name of the User, suitable for display to end-users.'),
  text('nickName', 'The casual way to address the user.'),
  attribute({ name: 'profileUrl', type: 'reference', referenceTypes: ['external'], description: 'A URI of the user\'s online profile.' }),
  text('title', 'The user\'s title, such as "Vice President".'),
  text('userType', 'The relationship between the organization and the user.'),
  text('preferredLanguage', 'The user\'s preferred written or spoken language.'),
  text('locale', 'The user\'s default location.'),
  text('timezone', 'The User\'s time zone in IANA format.'),
  attribute({ name: 'active', type: 'boolean', description: 'The User\'s administrative status: false signs the user out everywhere.' }),
  multiValued('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
  multiValued('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  multiValued('ims', 'Instant messaging addresses for the User.'),
  multiValued('photos', 'URLs of photos of the User.'),
  attribute({
    name: 'addresses',
    type: 'complex',
    multiValued: true,
    description: 'A physical mailing address for this User.',
    subAttributes: [
      ...['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'].map(sub => text(sub, `The ${sub} of the address.`)),
      attribute({ name: 'primary', type: 'boolean', description: 'Whether this is the primary address.' })
    ]
  }),
  multiValued('entitlements', 'A list of entitlements for the User.'),
  multiValued('roles', 'A list of roles for the User.'),
  multiValued('x509Certificates', 'A list of certificates issued to the User.'),
  text('externalId', 'The provisioning client\'s identifier for the User.', { caseExact: true })
]

export const enterpriseAttributes: AttributeDefinition[] = [
  text('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person.'),
  text('costCenter', 'Identifies the name of a cost center.'),
  text('organization', 'Identifies the name of an organization.'),
  text('division', 'Identifies the name of a division.'),
  text('department', 'Identifies the name of a department.'),
  attribute({
    name: 'manager',
    type: 'complex',
    description: 'The User\'s manager.',
    subAttributes: [
      text('value', 'The id of the SCIM resource representing the User\'s manager.'),
      attribute({ name: '$ref', type: 'reference', referenceTypes: ['User'], description: 'The URI of the manager\'s resource.' }),
      text('displayName', 'The displayName of the User\'s manager.', { mutability: 'readOnly' })
    ]
  })
]

export const groupAttributes: AttributeDefinition[] = [
  text('displayName', 'A human-readable name for the Group.', { required: true }),
  attribute({
    name: 'members',
    type: 'complex',
    multiValued: true,
    description: 'A list of members of the Group (Users of the same organization).',
    subAttributes: [
      text('value', 'The id of the member User.', { caseExact: true, mutability: 'immutable' }),
      attribute({ name: '$ref', type: 'reference', referenceTypes: ['User'], mutability: 'immutable', description: 'The URI of the member.' }),
      text('display', 'The member\'s display name.'),
      text('type', 'The type of the member (User).', { mutability: 'immutable' })
    ]
  }),
  text('externalId', 'The provisioning client\'s identifier for the Group.', { caseExact: true })
]

/** Attributes every resource carries, set by the service provider. */
export const readOnlyAttributes = new Set(['id', 'meta', 'schemas', 'groups'])

/** The core schema and its attributes, by resource type. */
export const coreSchemaOf: Record<ResourceType, { urn: string, attributes: AttributeDefinition[] }> = {
  User: { urn: userSchema, attributes: userAttributes },
  Group: { urn: groupSchema, attributes: groupAttributes }
}

/** Extension schemas a resource type may carry, with their attributes. */
export const extensionsOf: Record<ResourceType, Array<{ urn: string, attributes: AttributeDefinition[] }>> = {
  User: [{ urn: enterpriseSchema, attributes: enterpriseAttributes }],
  Group: []
}

/** An attribute by name, case-insensitively (SCIM attribute names are case-insensitive). */
export function findAttribute (attributes: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase()
  return attributes.find(candidate => candidate.name.toLowerCase() === lower)
}

/** The known extension (enterprise) of a resource type named by `urn`, case-insensitively. */
export function findExtension (type: ResourceType, urn: string): { urn: string, attributes: AttributeDefinition[] } | undefined {
  const lower = urn.toLowerCase()
  return extensionsOf[type].find(extension => extension.urn.toLowerCase() === lower)
}

/** An app-defined extension URN (kept as sent). */
export function isCustomExtension (urn: string): boolean {
  return urn.toLowerCase().startsWith(customExtensionPrefix) && urn.length > customExtensionPrefix.length && urn.length <= 256
}

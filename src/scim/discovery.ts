/**
 * The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.
 * What they advertise is what the routes do: PATCH and filters yes, ETags yes, bulk, sorting and
 * password changes no.
 */
import { coreSchemaOf, extensionsOf, type AttributeDefinition, type ResourceType } from './schema.ts'

const listSchema = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const configSchema = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'
const resourceTypeSchema = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType'
const schemaSchema = 'urn:ietf:params:scim:schemas:core:2.0:Schema'

/** Most resources one list answer carries (`count` is capped to it). */
export const maxResults = 1000

const endpoints: Record<ResourceType, string> = { User: '/Users', Group: '/Groups' }
const schemaNames: Record<string, { name: string, description: string }> = {
  'urn:ietf:params:scim:schemas:core:2.0:User': { name: 'User', description: 'User Account' },
  'urn:ietf:params:scim:schemas:core:2.0:Group': { name: 'Group', description: 'Group' },
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { name: 'EnterpriseUser', description: 'Enterprise User' }
}

/** A `ListResponse` of everything (discovery lists are short: no paging). */
export function listResponse (resources: unknown[]): Record<string, unknown> {
  return { schemas: [listSchema], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources }
}

export function serviceProviderConfig (base: string): Record<string, unknown> {
  return {
    schemas: [configSchema],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [{
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'A bearer token issued by the application to one organization.',
      primary: true
    }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` }
  }
}

export function resourceType (type: ResourceType, base: string): Record<string, unknown> {
  return {
    schemas: [resourceTypeSchema],
    id: type,
    name: type,
    endpoint: endpoints[type],
    description: schemaNames[coreSchemaOf[type].urn]!.description,
    schema: coreSchemaOf[type].urn,
    schemaExtensions: extensionsOf[type].map(extension => ({ schema: extension.urn, required: false })),
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${type}` }
  }
}

function renderAttribute (definition: AttributeDefinition): Record<string, unknown> {
  const { subAttributes, ...rest } = definition
  return subAttributes ? { ...rest, subAttributes: subAttributes.map(renderAttribute) } : rest
}

/** Every schema this provider knows, as `/Schemas` lists them. */
export function schemas (base: string): Array<Record<string, unknown>> {
  const all = [coreSchemaOf.User, coreSchemaOf.Group, ...extensionsOf.User]
  return all.map(schema => ({
    schemas: [schemaSchema],
    id: schema.urn,
    ...schemaNames[schema.urn],
    attributes: schema.attributes.map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${schema.urn}` }
  }))
}

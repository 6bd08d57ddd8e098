/**
 * Test helpers: `signIn()` for `app.inject`, and the embedded development IdP.
 *
 * @example
 * ```ts
 * import { signIn, startDevIdp } from 'fastify-sso/testing'
 * ```
 */
export { signIn, type TestUser } from './sign-in.ts'
export { startDevIdp, defaultDevUsers, type DevIdp, type DevIdpOptions, type DevIdpUser, type DevIdpClient } from './dev-idp.ts'
export { startDevSamlIdp, type DevSamlIdp, type DevSamlIdpOptions, type DevSamlResponseOptions, type DevSamlAttributeNames } from './dev-saml-idp.ts'
export { selfSignedCertificate, type SelfSignedCertificate, type SelfSignedOptions } from './self-signed.ts'

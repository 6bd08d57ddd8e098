// oidc-provider ships no types; the development IdP uses only its documented configuration.
declare module 'oidc-provider'

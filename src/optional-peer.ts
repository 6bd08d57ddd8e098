/**
 * Optional peer dependencies: a feature's package (ioredis for `redisStore({ url })`, oidc-provider
 * for `startDevIdp()`) is installed only by the applications that use the feature. One that uses it
 * and forgot the package gets `FST_SSO_MISSING_DEPENDENCY` naming the package and the command, when
 * the feature is set up, rather than Node's ERR_MODULE_NOT_FOUND from deep inside dist/.
 *
 * The declarations we ship never import an optional peer (applications without it compile them,
 * often without skipLibCheck): public options describe what we use of it structurally.
 */
import { MissingDependencyError } from './errors.ts'

/** An optional peer dependency, and the feature that needs it. */
export interface OptionalPeer {
  /** The npm package. */
  name: string
  /** The call that needs it, as the user writes it: `redisStore({ url })`. */
  neededBy: string
  /** Only development and tests need it: the install command adds it with `-D`. */
  dev?: boolean
}

/**
 * Throws `FST_SSO_MISSING_DEPENDENCY` at once when the package cannot be found: for factories that
 * run at register time, so that start-up fails instead of every request that reaches the feature.
 *
 * @example
 * ```ts
 * assertPeerInstalled({ name: 'ioredis', neededBy: 'redisStore({ url })' })
 * ```
 */
export function assertPeerInstalled (peer: OptionalPeer): void {
  try {
    // Resolves as `import()` from this package would, without loading anything.
    import.meta.resolve(peer.name)
  } catch (err) {
    throw isNotInstalled(err, peer.name) ? missing(peer) : err
  }
}

/**
 * Loads an optional peer; `load` is the caller's own `() => import('<name>')` (a literal specifier,
 * which TypeScript types and bundlers follow). A package that is installed but fails to load (one
 * of its own dependencies is missing) keeps its original error.
 *
 * @example
 * ```ts
 * const { default: Provider } = await importPeer({ name: 'oidc-provider', neededBy: 'startDevIdp()', dev: true }, () => import('oidc-provider'))
 * ```
 */
export async function importPeer<T> (peer: OptionalPeer, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    throw isNotInstalled(err, peer.name) ? missing(peer) : err
  }
}

/** Node's "Cannot find package '<name>' imported from …", for this package itself. */
function isNotInstalled (err: unknown, name: string): boolean {
  const { code, message } = err as { code?: unknown, message?: unknown }
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`)
}

function missing (peer: OptionalPeer): Error {
  return MissingDependencyError(`${peer.neededBy} needs the package ${peer.name}, which is not installed: npm install ${peer.dev ? '-D ' : ''}${peer.name}`)
}

/**
 * The interop cycle (test/fixtures/interop/cycle.ts) against three real OpenID Providers, one
 * after the other (each starts a browser and servers: in parallel they would fight for a 2-core
 * machine's CPU): Glewlwyd and LemonLDAP::NG from Debian, oauth2-mock-server from npm.
 */
import t from 'tap'
import { interopSuite } from '../fixtures/interop/cycle.ts'
import { glewlwydInstall, glewlwydMissing, startGlewlwyd } from '../fixtures/interop/glewlwyd.ts'
import { lemonldapInstall, lemonldapMissing, startLemonLdap } from '../fixtures/interop/lemonldap.ts'
import { startOauth2MockServer } from '../fixtures/interop/oauth2-mock-server.ts'

// Three cycles of about 20-40 s each: more than the 60 s tap gives a test file.
t.setTimeout(360_000)

interopSuite([
  { name: 'Glewlwyd', missing: glewlwydMissing, install: glewlwydInstall, start: startGlewlwyd },
  { name: 'LemonLDAP::NG', missing: lemonldapMissing, install: lemonldapInstall, start: startLemonLdap },
  { name: 'oauth2-mock-server', missing: () => null, install: 'npm ci (a devDependency)', start: startOauth2MockServer }
])

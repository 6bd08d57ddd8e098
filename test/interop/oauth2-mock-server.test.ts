/**
 * The interop cycle (test/fixtures/interop/cycle.ts) against `oauth2-mock-server` (npm), which
 * has no login page, session or client check: sign-in, user-info, logout and an OP refusal.
 */
import { interopTest } from '../fixtures/interop/cycle.ts'
import { startOauth2MockServer } from '../fixtures/interop/oauth2-mock-server.ts'

interopTest('oauth2-mock-server', () => null, 'npm ci (a devDependency)', startOauth2MockServer)

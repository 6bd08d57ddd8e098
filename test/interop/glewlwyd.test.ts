/**
 * The interop cycle (test/fixtures/interop/cycle.ts) against Glewlwyd, Debian's `glewlwyd`.
 */
import { interopTest } from '../fixtures/interop/cycle.ts'
import { glewlwydInstall, glewlwydMissing, startGlewlwyd } from '../fixtures/interop/glewlwyd.ts'

interopTest('Glewlwyd', glewlwydMissing, glewlwydInstall, startGlewlwyd)

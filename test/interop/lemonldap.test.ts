/**
 * The interop cycle (test/fixtures/interop/cycle.ts) against LemonLDAP::NG, Debian's
 * `liblemonldap-ng-portal-perl`.
 */
import { interopTest } from '../fixtures/interop/cycle.ts'
import { lemonldapInstall, lemonldapMissing, startLemonLdap } from '../fixtures/interop/lemonldap.ts'

interopTest('LemonLDAP::NG', lemonldapMissing, lemonldapInstall, startLemonLdap)

/**
 * SCIM filters: parsed by a parser (scim2-parse-filter), checked against what can be filtered,
 * and matched with SCIM's rules (case-insensitive except on case-exact attributes, any value of
 * a multi-valued attribute).
 */
import { test } from 'tap'
import { matchesScimFilter, parseScimFilter } from '../src/index.ts'

const alice = {
  id: 'u-1',
  active: true,
  attributes: { userName: 'Alice@Acme.test', externalId: 'AbC', displayName: 'Alice Anders', name: { givenName: 'Alice', familyName: 'Anders' }, emails: [{ value: 'alice@acme.test', primary: true }, { value: 'a.anders@home.test' }] }
}

test('eq, co, sw, ew, pr, ne, and, or, not on the attributes clients filter by', async (t) => {
  const yes = ['userName eq "alice@acme.test"', 'USERNAME EQ "ALICE@ACME.TEST"', 'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice@acme.test"',
    'externalId eq "AbC"', 'displayName co "ander"', 'userName sw "alice"', 'userName ew "acme.test"', 'emails.value eq "A.ANDERS@home.test"',
    'emails[value eq "alice@acme.test"]', 'emails.value co "home"', 'name.familyName eq "anders"', 'externalId pr', 'active eq true', 'active eq "True"',
    'userName eq "alice@acme.test" and active eq true', 'userName eq "x" or externalId eq "AbC"', 'not (userName eq "x")', 'userName ne "bob@acme.test"', 'id eq "u-1"']
  for (const filter of yes) t.ok(matchesScimFilter(parseScimFilter(filter, 'User'), alice), filter)
  const no = ['externalId eq "abc"', 'userName eq "alice"', 'displayName sw "Anders"', 'emails.value eq "bob@acme.test"', 'active eq false', 'name.givenName pr and active eq false', 'id eq "U-1"', 'userName ne "ALICE@acme.test"']
  for (const filter of no) t.notOk(matchesScimFilter(parseScimFilter(filter, 'User'), alice), filter)
})

test('the parsed form names attributes canonically, for the app\'s repository', async (t) => {
  t.same(parseScimFilter('UserName Eq "a" and (emails[VALUE co "b"] or ACTIVE eq "false")', 'User'), {
    op: 'and',
    filters: [
      { op: 'eq', attribute: 'userName', value: 'a' },
      { op: 'or', filters: [{ op: 'co', attribute: 'emails.value', value: 'b' }, { op: 'eq', attribute: 'active', value: false }] }
    ]
  })
  t.same(parseScimFilter('id eq "g" and members.value eq "u"', 'Group'), { op: 'and', filters: [{ op: 'eq', attribute: 'id', value: 'g' }, { op: 'eq', attribute: 'members.value', value: 'u' }] })
})

test('what cannot be answered is a 400 invalidFilter, never a guess', async (t) => {
  for (const [filter, type] of [['members.value eq "u"', 'User'], ['userName eq "a"', 'Group'], ['emails.type eq "work"', 'User'], ['meta.lastModified gt "2026-01-01"', 'User'], ['userName lt "b"', 'User'], ['active co "t"', 'User'], ['emails[type eq "work" and value eq "x"]', 'User'], ['userName eq null', 'User']] as const) {
    t.throws(() => parseScimFilter(filter, type), { name: 'ScimError', status: 400, scimType: 'invalidFilter' }, filter)
  }
  t.throws(() => parseScimFilter(Array.from({ length: 40 }, (_, i) => `userName eq "${i}"`).join(' or '), 'User'), { name: 'ScimError', scimType: 'invalidFilter', message: /more than 32 terms/ })
  t.throws(() => parseScimFilter(`${'('.repeat(2000)}userName pr${')'.repeat(2000)}`, 'User'), { name: 'ScimError', scimType: 'invalidFilter' })
})

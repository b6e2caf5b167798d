// Seed data (the Elastic fixture records, re-timed to recent times) and a generator of realistic raw
// records for every store. Everything here is deterministic for a given seed and clock value; generated
// records never contain the simulator's port, so two simulators with the same seed hold the same data.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Prng } from './prng'
import type { Stored, StoreKey } from './store'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

export type Raw = Record<string, unknown>

function readLines(file: string): Raw[] {
  return readFileSync(join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Raw)
}

/** Jira Cloud `created` format: `2021-12-10T11:57:29.971+0000` (offset without a colon). */
export function formatJiraCreated(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000')
}

/** Event time of a raw record of a store, epoch ms. */
export function recordTime(store: StoreKey, raw: Raw): number | undefined {
  switch (store) {
    case 'confluence-cloud':
      return typeof raw.creationDate === 'number' ? raw.creationDate : undefined
    case 'jira-cloud':
      return typeof raw.created === 'string' ? Date.parse(raw.created.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : undefined
    case 'org': {
      const t = (raw.attributes as Raw | undefined)?.time
      return typeof t === 'string' ? Date.parse(t) : undefined
    }
    default:
      return typeof raw.timestamp === 'string' ? Date.parse(raw.timestamp) : undefined
  }
}

/** Returns a copy of `raw` whose event time is `ms` (and, for org events, processedAt = ms + lag). */
export function withTime(store: StoreKey, raw: Raw, ms: number, processedLagMs = 0): Raw {
  switch (store) {
    case 'confluence-cloud':
      return { ...raw, creationDate: ms }
    case 'jira-cloud':
      return { ...raw, created: formatJiraCreated(ms) }
    case 'org': {
      const attributes: Raw = { ...(raw.attributes as Raw), time: new Date(ms).toISOString() }
      attributes.processedAt = new Date(ms + processedLagMs).toISOString()
      return { ...raw, attributes }
    }
    default:
      return { ...raw, timestamp: new Date(ms).toISOString() }
  }
}

/**
 * Re-times fixture records (given newest-first or in any order) so that the newest lands at `newest`:
 * gaps up to 30 minutes are kept exactly (so sub-second neighbours and shared milliseconds survive),
 * longer gaps are shortened to 30 minutes. Relative order is kept.
 */
export function retime(store: StoreKey, records: Raw[], newest: number): Raw[] {
  const withTs = records.map((raw, index) => ({ raw, index, ts: recordTime(store, raw) ?? 0 }))
  // Newest first; among equal times keep the file order (files are newest-first).
  withTs.sort((a, b) => b.ts - a.ts || a.index - b.index)
  const out: Raw[] = []
  let prevOld = Number.NaN
  let prevNew = newest
  for (const r of withTs) {
    const gap = Number.isNaN(prevOld) ? 0 : Math.min(prevOld - r.ts, 30 * MINUTE)
    const t = prevNew - gap
    const lag = store === 'org' ? orgLagOf(r.raw) : 0
    out.push(withTime(store, r.raw, t, lag))
    prevOld = r.ts
    prevNew = t
  }
  return out
}

function orgLagOf(raw: Raw): number {
  const a = raw.attributes as Raw | undefined
  if (!a || typeof a.processedAt !== 'string' || typeof a.time !== 'string') return 2000
  return Math.max(0, Date.parse(a.processedAt) - Date.parse(a.time))
}

export function fixtureRecords(store: StoreKey): Raw[] {
  switch (store) {
    case 'confluence-cloud':
      return readLines('confluence-cloud.log')
    case 'jira-cloud':
      return readLines('jira-cloud.log')
    case 'confluence-dc':
      return readLines('confluence-dc.log')
    case 'jira-dc':
      return readLines('jira-dc.log')
    case 'bitbucket-dc':
      return readLines('bitbucket-dc.log')
    case 'org': {
      const page = JSON.parse(readFileSync(join(FIXTURES, 'org-events-stream.page.json'), 'utf8')) as { data: Raw[] }
      return page.data
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// People, places and things the generated records talk about.

const FIRST = ['Alana', 'Bruno', 'Chiara', 'Dmitri', 'Eun-ji', 'Farah', 'Gustavo', 'Hana', 'Ines', 'Jonas', 'Kofi']
const LAST = ['Admin', 'Okafor', 'Rossi', 'Volkov', 'Park', 'Haddad', 'Silva', 'Novak', 'Moreau', 'Berg', 'Mensah']
const GROUPS = [
  'jira-administrators',
  'confluence-administrators',
  'site-admins',
  'jira-software-users',
  'confluence-users',
  'contractors',
  'security-team',
  'finance-readonly',
]
const SPACES = [
  ['Engineering Handbook', 'ENG'],
  ['Service Catalogue', 'SC'],
  ['Human Resources', 'HR'],
  ['Incident Reviews', 'IR'],
  ['Finance', 'FIN'],
] as const
const PROJECTS = [
  ['Platform', 'PLAT', '10010'],
  ['Mobile App', 'MOB', '10011'],
  ['Change Control', 'ACC', '10022'],
  ['Security Ops', 'SEC', '10030'],
] as const
const APPS = [
  'draw.io Diagrams',
  'Tempo Timesheets',
  'ScriptRunner for Jira',
  'Comala Document Management',
  'Zephyr Scale',
]
const REPOS = [
  ['PLAT', 'api-gateway', '11'],
  ['PLAT', 'billing-service', '12'],
  ['MOB', 'ios-app', '21'],
  ['SEC', 'detections', '31'],
] as const

export interface Person {
  displayName: string
  accountId: string
  email: string
  userKey: string
  username: string
  dcId: string
  jiraDcId: string
  bitbucketId: string
}

// Elastic's GeoIP test ranges (81.2.69.x GB, 175.16.199.x CN, 89.160.20.x SE, 216.160.83.x US) plus the
// documentation ranges, some IPv6 and private proxy hops.
const V4_PREFIXES = ['81.2.69.', '175.16.199.', '89.160.20.', '216.160.83.', '203.0.113.', '198.51.100.']
const V6_PREFIXES = ['2a02:cf40:add:4002:', '2001:db8:85a3:0:', '2600:1f18:6a2:ce00:']

export class Generator {
  readonly rng: Prng
  readonly people: Person[]
  private jiraNextId = 11960
  private jiraOlderId = 11649
  private dcNextId: Record<string, number> = {}

  constructor(seed: number) {
    this.rng = new Prng(seed, 1)
    this.people = []
    for (let i = 0; i < FIRST.length; i++) {
      const displayName = `${FIRST[i]} ${LAST[i]}`
      const username = `${FIRST[i].toLowerCase().replace(/[^a-z]/g, '')}.${LAST[i].toLowerCase()}`
      this.people.push({
        displayName,
        accountId: i % 3 === 0 ? `5${this.rng.hex(23)}` : `712020:${this.rng.uuid()}`,
        email: `${username}@example.com`,
        userKey: this.rng.hex(32),
        username,
        dcId: `2c9680837d4a3682017d4a37${this.rng.hex(8)}`,
        jiraDcId: `JIRAUSER${10000 + i}`,
        bitbucketId: String(i + 2),
      })
    }
  }

  /** Reserve a Jira Cloud id for a record at "now" or later (ids grow with time). */
  nextJiraId(): number {
    return this.jiraNextId++
  }

  /** Reserve a Jira Cloud id below the fixture range, for seeded records older than the fixtures. */
  olderJiraId(): number {
    return Math.max(1, this.jiraOlderId--)
  }

  /** Next DC audit event id of a DC store (the second half of `pageCursor`). */
  nextDcId(store: StoreKey): number {
    const next = (this.dcNextId[store] ?? 0) + 1
    this.dcNextId[store] = next
    return next
  }

  person(): Person {
    return this.rng.pick(this.people)
  }

  ip(): string {
    const r = this.rng.next()
    if (r < 0.15)
      return `${this.rng.pick(V6_PREFIXES)}${this.rng.hex(4)}:${this.rng.hex(4)}:${this.rng.hex(4)}:${this.rng.hex(4)}`
    return `${this.rng.pick(V4_PREFIXES)}${this.rng.int(1, 254)}`
  }

  /** DC `source`: sometimes a comma-separated proxy chain (client first, as X-Forwarded-For does). */
  dcSource(): string {
    const r = this.rng.next()
    if (r < 0.12) return `${this.ip()},10.0.${this.rng.int(0, 9)}.${this.rng.int(2, 250)}`
    if (r < 0.16) return `127.0.0.1,192.168.22.${this.rng.int(2, 250)}`
    return this.ip()
  }

  // -------------------------------------------------------------------------------------------------

  confluenceCloud(ts: number): Raw {
    const g = this.rng
    const actor = this.person()
    const system = g.chance(0.12)
    const author: Raw = system
      ? {
          type: 'user',
          displayName: 'System',
          operations: null,
          isExternalCollaborator: false,
          accountType: '',
          publicName: 'Unknown user',
          externalCollaborator: false,
        }
      : {
          type: 'user',
          displayName: actor.displayName,
          operations: null,
          isExternalCollaborator: false,
          username: actor.accountId,
          userKey: actor.userKey,
          accountId: actor.accountId,
          accountType: 'atlassian',
          publicName: actor.displayName,
          externalCollaborator: false,
        }
    const target = this.person()
    const [space, spaceKey] = g.pick(SPACES)
    const group = g.chance(0.4) ? `${g.pick(GROUPS)}:${g.uuid()}` : g.pick(GROUPS)
    const cv = (name: string, oldValue: string, newValue: string) => ({
      name,
      oldValue,
      newValue,
      hiddenOldValue: '',
      hiddenNewValue: '',
    })
    const kinds: Array<() => Partial<Raw>> = [
      () => ({
        summary: 'Space permission added',
        category: 'Permissions',
        affectedObject: { name: space, objectType: 'Space' },
        changedValues: [
          cv('Type', '', g.pick(['VIEWSPACE', 'EDITSPACE', 'SETSPACEPERMISSIONS', 'EXPORTSPACE'])),
          cv('Group', '', group),
        ],
        associatedObjects: [{ name: group, objectType: 'Group' }],
      }),
      () => ({
        summary: 'Space permission removed',
        category: 'Permissions',
        affectedObject: { name: space, objectType: 'Space' },
        changedValues: [
          cv('Type', g.pick(['VIEWSPACE', 'REMOVEPAGE', 'EDITBLOG']), ''),
          cv('User', target.displayName, ''),
        ],
        associatedObjects: [{ name: target.displayName, objectType: 'User' }],
      }),
      () => ({
        summary: 'Global permission added',
        category: 'Permissions',
        sysAdmin: true,
        affectedObject: { name: group, objectType: 'Group' },
        changedValues: [cv('Type', '', g.pick(['ADMINISTRATECONFLUENCE', 'CREATESPACE', 'USECONFLUENCE']))],
        associatedObjects: [],
      }),
      () => ({
        summary: 'User deactivated',
        category: 'Users and groups',
        affectedObject: g.chance(0.5) ? { name: '', objectType: '' } : { name: target.displayName, objectType: 'User' },
        changedValues: [],
        associatedObjects: [],
      }),
      () => ({
        summary: 'User added to group',
        category: 'Users and groups',
        affectedObject: { name: group, objectType: 'Group' },
        changedValues: [],
        associatedObjects: [{ name: target.displayName, objectType: 'User' }],
      }),
      () => ({
        summary: 'User removed from group',
        category: 'Users and groups',
        affectedObject: { name: group, objectType: 'Group' },
        changedValues: [],
        associatedObjects: [{ name: target.displayName, objectType: 'User' }],
      }),
      () => ({
        summary: 'Space exported',
        category: 'Import/Export',
        affectedObject: { name: space, objectType: 'Space' },
        changedValues: [cv('Export type', '', g.pick(['XML', 'PDF', 'HTML', 'CSV']))],
        associatedObjects: [],
      }),
      () => ({
        summary: 'App installed',
        category: 'Apps',
        sysAdmin: true,
        affectedObject: { name: g.pick(APPS), objectType: 'App' },
        changedValues: [cv('Version', '', `${g.int(1, 9)}.${g.int(0, 20)}.${g.int(0, 9)}`)],
        associatedObjects: [],
      }),
      () => ({
        summary: 'Space configuration updated',
        category: 'Spaces',
        affectedObject: { name: space, objectType: 'Space' },
        changedValues: [cv('Space key', '', spaceKey), cv('Space status', 'CURRENT', g.pick(['CURRENT', 'ARCHIVED']))],
        associatedObjects: [],
      }),
      () => ({
        summary: 'Page archived',
        category: 'Page',
        affectedObject: {
          name: `${g.pick(['Runbook', 'Onboarding', 'Q3 plan', 'Postmortem'])} ${g.int(1, 400)}`,
          objectType: 'Page',
        },
        changedValues: [cv('Content status', 'current', 'archived')],
        associatedObjects: [{ name: space, objectType: 'Space' }],
      }),
    ]
    const body = g.pick(kinds)()
    return {
      author,
      remoteAddress: this.ip(),
      creationDate: ts,
      summary: body.summary,
      description: '',
      category: body.category,
      sysAdmin: body.sysAdmin ?? false,
      superAdmin: false,
      affectedObject: body.affectedObject,
      changedValues: body.changedValues,
      associatedObjects: body.associatedObjects,
    }
  }

  jiraCloud(ts: number, id: number): Raw {
    const g = this.rng
    const actor = this.person()
    const target = this.person()
    const [project, key, projectId] = g.pick(PROJECTS)
    const group = g.pick(GROUPS)
    const user = (p: Person) => ({
      id: p.accountId,
      name: p.accountId,
      typeName: 'USER',
      parentId: '10000',
      parentName: 'com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory',
    })
    const kinds: Array<() => Raw> = [
      () => ({
        summary: 'User added to group',
        category: 'group management',
        objectItem: {
          name: group,
          typeName: 'GROUP',
          parentId: '10000',
          parentName: 'com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory',
        },
        associatedItems: [user(target)],
      }),
      () => ({
        summary: 'User removed from group',
        category: 'group management',
        objectItem: {
          name: group,
          typeName: 'GROUP',
          parentId: '10000',
          parentName: 'com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory',
        },
        associatedItems: [user(target)],
      }),
      () => ({
        summary: 'User updated',
        category: 'user management',
        objectItem: user(target),
        changedValues: [{ fieldName: 'Active / Inactive', changedFrom: 'Active', changedTo: 'Inactive' }],
        associatedItems: [user(target)],
      }),
      () => ({
        summary: 'Permission scheme updated',
        category: 'permissions',
        objectItem: { id: String(g.int(10000, 10020)), name: `${key}: Permission Scheme`, typeName: 'SCHEME' },
        changedValues: [
          {
            fieldName: g.pick(['Browse Projects', 'Administer Projects', 'Delete Issues']),
            changedFrom: '',
            changedTo: g.chance(0.5) ? `Group: ${group}` : 'Project Role: Administrators',
          },
        ],
      }),
      () => ({
        summary: 'Project created',
        category: 'projects',
        objectItem: { id: projectId, name: project, typeName: 'PROJECT' },
        changedValues: [
          { fieldName: 'Name', changedTo: project },
          { fieldName: 'Key', changedTo: key },
          { fieldName: 'Project lead', changedTo: actor.accountId },
        ],
      }),
      () => ({
        summary: 'Workflow updated',
        category: 'workflows',
        objectItem: { id: `${key}: Software workflow`, name: `${key}: Software workflow`, typeName: 'WORKFLOW' },
      }),
      () => ({
        summary: 'Custom field created',
        category: 'fields',
        objectItem: {
          id: `customfield_${g.int(10050, 10400)}`,
          name: g.pick(['Risk', 'Customer tier', 'Root cause']),
          typeName: 'CUSTOM_FIELD',
        },
        changedValues: [
          { fieldName: 'Type', changedTo: g.pick(['Select List (single choice)', 'Text Field (single line)']) },
        ],
      }),
      () => ({
        summary: 'Project role deleted',
        category: 'projects',
        objectItem: {
          id: String(g.int(10002, 10009)),
          name: g.pick(['Viewer', 'Contractor', 'Approver']),
          typeName: 'PROJECT_ROLE',
        },
      }),
    ]
    const body = g.pick(kinds)()
    const system = g.chance(0.2)
    const out: Raw = { id, summary: body.summary }
    if (!system) {
      out.remoteAddress = this.ip()
      out.authorKey = `ug:${g.uuid()}`
      out.authorAccountId = actor.accountId
    }
    out.created = formatJiraCreated(ts)
    out.category = body.category
    out.eventSource = ''
    out.objectItem = body.objectItem
    if (body.changedValues) out.changedValues = body.changedValues
    if (body.associatedItems) out.associatedItems = body.associatedItems
    return out
  }

  dc(store: 'confluence-dc' | 'jira-dc' | 'bitbucket-dc', ts: number): Raw {
    const g = this.rng
    const actor = this.person()
    const target = this.person()
    const group = g.pick(GROUPS)
    if (store === 'confluence-dc') {
      const base = 'http://confluence.internal:8090'
      const [space, spaceKey] = g.pick(SPACES)
      const spaceId = String(98306 + SPACES.findIndex((s) => s[1] === spaceKey))
      const anonymous = g.chance(0.05)
      const kinds: Array<() => Raw> = [
        () => ({
          type: t(
            'Permissions',
            'audit.logging.category.permissions',
            'Space permission added',
            'audit.logging.summary.space.permission.added',
          ),
          affectedObjects: [
            {
              name: group,
              type: 'Group',
              uri: `${base}/admin/users/domembersofgroupsearch.action?membersOfGroupTerm=${group}`,
              id: group,
            },
            { name: space, type: 'Space', uri: `${base}/display/${spaceKey}`, id: spaceId },
          ],
          changedValues: [
            cvDc('Group', group),
            cvDc('Space', spaceKey),
            cvDc('Type', g.pick(['VIEWSPACE', 'EDITSPACE', 'EXPORTSPACE'])),
          ],
        }),
        () => ({
          type: t(
            'Permissions',
            'audit.logging.category.permissions',
            'Space permission removed',
            'audit.logging.summary.space.permission.removed',
          ),
          affectedObjects: [
            {
              name: target.displayName,
              type: 'User',
              uri: `${base}/admin/users/viewuser.action?username=${target.username}`,
              id: target.dcId,
            },
            { name: space, type: 'Space', uri: `${base}/display/${spaceKey}`, id: spaceId },
          ],
          changedValues: [cvDc('Space', spaceKey), cvDc('Type', 'REMOVEPAGE'), cvDc('User', target.username)],
        }),
        () => ({
          type: t(
            'Users and groups',
            'audit.logging.category.user.management',
            'User added to group',
            'audit.logging.summary.group.membership.added',
          ),
          affectedObjects: [
            { name: group, type: 'Group', id: group },
            { name: target.displayName, type: 'User', id: target.dcId },
          ],
          changedValues: [],
        }),
        () => ({
          type: t(
            'Users and groups',
            'audit.logging.category.user.management',
            'User deactivated',
            'audit.logging.summary.user.deactivated',
          ),
          affectedObjects: [{ name: target.displayName, type: 'User', id: target.dcId }],
          changedValues: [{ key: 'Active', i18nKey: 'Active', from: 'true', to: 'false' }],
        }),
        () => ({
          type: t(
            'Import/Export',
            'audit.logging.category.import.export',
            'Space export',
            'audit.logging.summary.space.export',
          ),
          affectedObjects: [{ name: space, type: 'Space', uri: `${base}/display/${spaceKey}`, id: spaceId }],
          changedValues: [cvDc('Export type', g.pick(['XML', 'PDF', 'HTML']))],
        }),
        () => ({
          type: t('Apps', 'audit.logging.category.apps', 'App installed', 'audit.logging.summary.plugin.installed'),
          affectedObjects: [{ name: g.pick(APPS), type: 'App' }],
          changedValues: [],
        }),
        () => ({
          type: t(
            'Security',
            'audit.logging.category.security',
            'Login failed',
            'audit.logging.summary.user.login.failed',
          ),
          affectedObjects: [{ name: target.username, type: 'User' }],
          changedValues: [],
        }),
      ]
      const body = g.pick(kinds)()
      return {
        timestamp: new Date(ts).toISOString(),
        author: anonymous
          ? { name: 'Anonymous', type: 'user', id: '-2' }
          : {
              name: actor.displayName,
              type: 'user',
              id: actor.dcId,
              uri: `${base}/admin/users/viewuser.action?username=${actor.username}`,
              avatarUri: '',
            },
        type: body.type,
        affectedObjects: body.affectedObjects,
        changedValues: body.changedValues,
        source: this.dcSource(),
        system: base,
        method: anonymous ? 'System' : 'Browser',
        extraAttributes: [],
      }
    }
    if (store === 'jira-dc') {
      const base = 'http://jira.internal:8088'
      const [project, key, projectId] = g.pick(PROJECTS)
      const kinds: Array<() => Raw> = [
        () => ({
          type: t(
            'permissions',
            'jira.auditing.category.permissions',
            'Permission scheme updated',
            'jira.auditing.permission.scheme.updated',
          ),
          affectedObjects: [{ name: `${key}: Permission Scheme`, type: 'SCHEME', id: String(g.int(10000, 10020)) }],
          changedValues: [
            {
              key: 'Permission',
              i18nKey: 'admin.common.words.permission',
              to: g.pick(['Browse Projects', 'Delete Issues']),
            },
          ],
        }),
        () => ({
          type: t(
            'group management',
            'jira.auditing.category.groupmanagement',
            'User added to group',
            'jira.auditing.user.added.to.group',
          ),
          affectedObjects: [
            {
              name: target.username,
              type: 'USER',
              uri: `${base}/secure/ViewProfile.jspa?name=${target.username}`,
              id: target.jiraDcId,
            },
            { name: group, type: 'GROUP' },
          ],
          changedValues: [],
        }),
        () => ({
          type: t(
            'user management',
            'jira.auditing.category.usermanagement',
            'User deactivated',
            'jira.auditing.user.deactivated',
          ),
          affectedObjects: [{ name: target.username, type: 'USER', id: target.jiraDcId }],
          changedValues: [{ key: 'Active', i18nKey: 'admin.common.words.active', from: 'Active', to: 'Inactive' }],
        }),
        () => ({
          type: t('projects', 'jira.auditing.category.projects', 'Project created', 'jira.auditing.project.created'),
          affectedObjects: [
            { name: project, type: 'PROJECT', uri: `${base}/secure/ViewProject.jspa?pid=${projectId}`, id: projectId },
          ],
          changedValues: [
            { key: 'Name', i18nKey: 'common.words.name', to: project },
            { key: 'Key', i18nKey: 'common.words.key', to: key },
          ],
        }),
        () => ({
          type: t(
            'Security',
            'personal.access.tokens.audit.log.category.security',
            'Personal access token created',
            'personal.access.tokens.audit.log.summary.token.created',
          ),
          affectedObjects: [{ name: actor.username, type: 'USER', id: actor.jiraDcId }],
          changedValues: [],
        }),
        () => ({
          type: t('system', 'jira.auditing.category.system', 'App installed', 'jira.auditing.plugin.installed'),
          affectedObjects: [{ name: g.pick(APPS), type: 'PLUGIN' }],
          changedValues: [],
        }),
      ]
      const body = g.pick(kinds)()
      return {
        timestamp: new Date(ts).toISOString(),
        author: {
          name: actor.username,
          type: 'ApplicationUser',
          id: actor.jiraDcId,
          uri: `${base}/secure/ViewProfile.jspa?name=${actor.username}`,
          avatarUri: '',
        },
        type: body.type,
        affectedObjects: body.affectedObjects,
        changedValues: body.changedValues,
        source: this.dcSource(),
        system: base,
        method: 'Browser',
        extraAttributes: [],
      }
    }
    const base = 'http://bitbucket.internal:7990'
    const [projectKey, repo, repoId] = g.pick(REPOS)
    const kinds: Array<() => Raw> = [
      () => ({
        type: t(
          'Repositories',
          'bitbucket.service.audit.category.repositories',
          'Repository accessed',
          'bitbucket.service.repository.audit.action.repositoryaccessed',
        ),
        affectedObjects: [
          { name: projectKey, type: 'PROJECT', uri: `${base}/projects/${projectKey}`, id: String(g.int(1, 9)) },
          { name: repo, type: 'REPOSITORY', id: repoId },
        ],
        changedValues: [],
        extraAttributes: [
          { nameI18nKey: 'bitbucket.audit.attribute.legacy.target', name: 'target', value: `${projectKey}/${repo}` },
        ],
      }),
      () => ({
        type: t(
          'Permissions',
          'bitbucket.service.audit.category.permissions',
          'Repository permission granted',
          'bitbucket.service.permission.audit.action.repositorypermissiongranted',
        ),
        affectedObjects: [{ name: repo, type: 'REPOSITORY', id: repoId }],
        changedValues: [
          {
            key: 'Permission',
            i18nKey: 'bitbucket.service.permission.audit.changedvalue.permission',
            to: g.pick(['REPO_READ', 'REPO_WRITE', 'REPO_ADMIN']),
          },
        ],
        extraAttributes: [
          { nameI18nKey: 'bitbucket.audit.attribute.legacy.target', name: 'target', value: `${projectKey}/${repo}` },
        ],
      }),
      () => ({
        type: t(
          'Users and groups',
          'bitbucket.service.audit.category.usersandgroups',
          'User added to user group',
          'bitbucket.service.user.audit.action.groupmembershipscreated.user',
        ),
        affectedObjects: [{ name: target.username, type: 'USER', id: target.bitbucketId }],
        changedValues: [],
        extraAttributes: [{ nameI18nKey: 'bitbucket.audit.attribute.legacy.target', name: 'target', value: group }],
      }),
      () => ({
        type: t(
          'Users and groups',
          'bitbucket.service.audit.category.usersandgroups',
          'User deactivated',
          'bitbucket.service.user.audit.action.userdeactivated',
        ),
        affectedObjects: [{ name: target.username, type: 'USER', id: target.bitbucketId }],
        changedValues: [],
        extraAttributes: [],
      }),
      () => ({
        type: t(
          'Apps',
          'bitbucket.service.audit.category.apps',
          'Plugin enabled',
          'bitbucket.service.plugin.audit.action.pluginenabled',
        ),
        affectedObjects: [],
        changedValues: [],
        extraAttributes: [
          {
            nameI18nKey: 'bitbucket.audit.attribute.legacy.target',
            name: 'target',
            value: `com.example.${g.pick(['hooks', 'mirror', 'sso'])}`,
          },
        ],
      }),
      () => ({
        type: t(
          'Security',
          'bitbucket.service.audit.category.security',
          'Authentication failed',
          'bitbucket.service.user.audit.action.authenticationfailed',
        ),
        affectedObjects: [{ name: target.username, type: 'USER' }],
        changedValues: [],
        extraAttributes: [
          {
            nameI18nKey: 'bitbucket.audit.attribute.legacy.details',
            name: 'details',
            value: '{"authentication-method":"form"}',
          },
        ],
      }),
    ]
    const body = g.pick(kinds)()
    return {
      timestamp: new Date(ts).toISOString(),
      author: {
        name: actor.username,
        type: 'NORMAL',
        id: actor.bitbucketId,
        uri: `${base}/users/${actor.username}`,
        avatarUri: '',
      },
      type: body.type,
      affectedObjects: body.affectedObjects,
      changedValues: body.changedValues,
      source: this.dcSource(),
      system: base,
      node: '8767044c-1b98-4d64-82db-ef29af8c3792',
      method: 'Browser',
      extraAttributes: body.extraAttributes,
    }
  }

  org(ts: number, processedAt: number, orgId: string, cloudId: string): Raw {
    const g = this.rng
    const actor = this.person()
    const target = this.person()
    const id = g.uuid()
    const userCtx = (p: Person) => ({
      id: p.accountId,
      type: 'users',
      links: { self: `https://api.atlassian.com/users/${p.accountId}/manage/profile` },
    })
    const site = {
      id: cloudId,
      type: 'sites',
      attributes: { siteHostName: 'example.atlassian.net' },
      links: { alt: 'https://example.atlassian.net' },
    }
    const org = { id: orgId, type: 'orgs', links: { alt: `https://admin.atlassian.com/o/${orgId}/overview` } }
    const groupId = g.uuid()
    const group = g.pick(GROUPS)
    const kinds: Array<() => { action: string; context: Raw[]; container: Raw[]; message: string }> = [
      () => ({
        action: 'user_added_to_group',
        context: [userCtx(target), { id: groupId, type: 'groups', attributes: { groupName: group } }],
        container: [site],
        message: `${actor.displayName} added a user to group ${group}`,
      }),
      () => ({
        action: 'user_removed_from_group',
        context: [userCtx(target), { id: groupId, type: 'groups', attributes: { groupName: group } }],
        container: [site],
        message: `${actor.displayName} removed a user from group ${group}`,
      }),
      () => ({
        action: 'user_granted_role',
        context: [userCtx(target)],
        container: [site],
        message: `${actor.displayName} granted a product role to a user`,
      }),
      () => ({
        action: 'user_deactivated',
        context: [userCtx(target)],
        container: [org],
        message: `${actor.displayName} deactivated ${target.displayName}`,
      }),
      () => ({
        action: 'api_token_created',
        context: [userCtx(actor)],
        container: [org],
        message: `${actor.displayName} created an API token`,
      }),
      () => ({
        action: 'user_login_failed',
        context: [userCtx(target)],
        container: [org],
        message: `Failed login for ${target.email}`,
      }),
      () => ({
        action: 'policy_updated',
        context: [{ id: g.uuid(), type: 'policies', attributes: { policyName: 'Authentication policy' } }],
        container: [org],
        message: `${actor.displayName} updated an authentication policy`,
      }),
    ]
    const body = g.pick(kinds)()
    const ip = this.ip()
    const actorObj: Raw = {
      id: actor.accountId,
      name: actor.displayName,
      email: actor.email,
      links: { self: `https://api.atlassian.com/users/${actor.accountId}/manage/profile` },
    }
    if (g.chance(0.2)) actorObj.auth = { authType: 'api-token', tokenId: g.uuid(), tokenLabel: 'automation' }
    return {
      id,
      type: 'events',
      attributes: {
        time: new Date(ts).toISOString(),
        action: body.action,
        actor: actorObj,
        context: body.context,
        container: body.container,
        location: {
          ip,
          geo: '',
          countryName: g.pick(['Australia', 'Germany', 'United States', 'Brazil', 'Japan']),
          regionName: '',
          city: g.pick(['Sydney', 'Berlin', 'Austin', 'São Paulo', 'Osaka']),
        },
        processedAt: new Date(processedAt).toISOString(),
      },
      links: { self: `https://api.atlassian.com/admin/v1/orgs/${orgId}/events/${id}` },
      message: { content: body.message, format: 'simple' },
    }
  }

  /** processedAt - time: usually seconds; now and then minutes (processed out of order). */
  processingLag(): number {
    return this.rng.chance(0.04) ? this.rng.int(60_000, 30 * 60_000) : this.rng.int(300, 5000)
  }
}

function t(category: string, categoryI18nKey: string, action: string, actionI18nKey: string): Raw {
  return { categoryI18nKey, category, actionI18nKey, action }
}

function cvDc(key: string, to: string): Raw {
  return { key, i18nKey: key, to }
}

export const TIME = { MINUTE, HOUR, DAY }

/** Wraps a raw record for a store; `tie` decides order among records of one millisecond. */
export function storedOf(store: StoreKey, raw: Raw, tie: number): Stored {
  const ts = recordTime(store, raw)
  if (ts === undefined || Number.isNaN(ts)) throw new Error(`record for ${store} has no valid timestamp`)
  const s: Stored = { ts, tie, raw }
  if (store === 'org') {
    const p = (raw.attributes as Raw).processedAt
    s.processedAt = typeof p === 'string' ? Date.parse(p) : ts
  }
  return s
}

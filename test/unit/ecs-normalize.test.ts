// The normalizer's contract beyond the golden files: entry points, identity, shapes and product
// detection, pages, event.original/tags, and bad input (pipeline_error documents, never a throw or a drop).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { recordFingerprint, textFingerprint } from '../../src/core/ecs/identity'
import { isIp } from '../../src/core/ecs/ip'
import {
  detectDcProduct,
  detectShape,
  normalizePage,
  normalizeRecord,
  normalizeText,
} from '../../src/core/ecs/normalize'
import { parseDcTimestamp, parseIsoTimestamp } from '../../src/core/ecs/timestamp'
import type { EcsDocument } from '../../src/core/model'
import { validateEcsDocument } from '../ecs-validator'

const fixtures = join(import.meta.dirname, '..', 'golden', 'atlassian-fixtures')
const page = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8'))
const elasticLines = (file: string) =>
  readFileSync(join(import.meta.dirname, '..', 'golden', 'fixtures', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')

type Json = Record<string, unknown>
const get = (doc: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o as Json | undefined)?.[k], doc)

const jiraDcEntity = () => page('jira-dc-auditing-events.page.json').entities[0]
const fixedNow = () => new Date('2030-01-02T03:04:05.000Z')

describe('entry points and identity', () => {
  it('normalizeRecord: one record → one document with ecs.version, event.hash, atlassian.*', () => {
    const record = page('jira-cloud-auditing-record.page.json').records[0]
    const site = 'https://example.atlassian.net'
    const doc = normalizeRecord(record, { site })
    expect(doc.ecs.version).toBe('9.4.0')
    expect(doc.event.hash).toBe(recordFingerprint(site, record))
    expect(doc.event.id).toBe(String(record.id))
    expect(doc.atlassian).toEqual({ product: 'jira', deployment: 'cloud', site })
    expect(doc.event.original).toBe(JSON.stringify(record))
    expect(doc.tags).toEqual(['preserve_original_event', 'forwarded', 'jira-audit'])
    expect(doc.event.dataset).toBe('atlassian_jira.audit')
    expect(doc.event.module).toBe('atlassian_jira')
  })

  it('the hash ignores key order, depends on the site, and atlassian.site appears only when set', () => {
    const a = normalizeRecord({ b: 1, ...jiraDcEntity() })
    const reordered = Object.fromEntries(Object.entries({ b: 1, ...jiraDcEntity() }).reverse())
    expect(normalizeRecord(reordered).event.hash).toBe(a.event.hash)
    expect(normalizeRecord(reordered, { site: 'https://x' }).event.hash).not.toBe(a.event.hash)
    expect(get(a, 'atlassian.site')).toBeUndefined()
  })

  it('normalizeText keeps the exact input line as event.original; a page re-serializes each record', () => {
    const line = elasticLines('atlassian_bitbucket/test-audit-api.log')[0]
    expect(normalizeText(`${line}\r\n`)[0].event.original).toBe(line)
    const p = page('confluence-dc-auditing-events.page.json')
    const docs = normalizeText(JSON.stringify(p, null, 2))
    expect(docs.map((d) => d.event.original)).toEqual(p.entities.map((e: unknown) => JSON.stringify(e)))
  })

  it('keepOriginal: false drops event.original and the preserve_original_event tag', () => {
    const doc = normalizeRecord(jiraDcEntity(), { keepOriginal: false })
    expect(doc.event.original).toBeUndefined()
    expect(doc.tags).toEqual(['forwarded', 'jira-audit'])
  })

  it('nothing is memoized by input: the same record twice gives equal, distinct documents', () => {
    const rec = jiraDcEntity()
    const a = normalizeRecord(rec)
    const b = normalizeRecord(rec)
    expect(a).toEqual(b)
    expect(a).not.toBe(b)
    expect(a.event.type).not.toBe(b.event.type)
  })
})

describe('shapes, pages and product detection', () => {
  const cases: Array<[file: string, shape: string, product: string, deployment: string, count: number]> = [
    ['confluence-cloud-audit.page.json', 'confluence-cloud', 'confluence', 'cloud', 6],
    ['jira-cloud-auditing-record.page.json', 'jira-cloud', 'jira', 'cloud', 4],
    ['confluence-dc-auditing-events.page.json', 'dc-api', 'confluence', 'dc', 3],
    ['jira-dc-auditing-events.page.json', 'dc-api', 'jira', 'dc', 4],
    ['bitbucket-dc-auditing-events.page.json', 'dc-api', 'bitbucket', 'dc', 3],
    ['admin-org-events.page.json', 'org-event', 'org', 'cloud', 3],
    ['admin-org-events-stream.page.json', 'org-event', 'org', 'cloud', 3],
  ]
  for (const [file, shape, product, deployment, count] of cases) {
    it(`${file}: ${count} ${shape} records of ${product} ${deployment}`, () => {
      const p = page(file)
      const records = p.entities ?? p.records ?? p.results ?? p.data
      for (const r of records) expect(detectShape(r)).toBe(shape)
      const docs = normalizePage(p)
      expect(docs).toHaveLength(count)
      for (const d of docs) expect(d.atlassian).toMatchObject({ product, deployment })
    })
  }

  it('DC file lines: auditType + {epochSecond, nano}', () => {
    const lines = readFileSync(join(fixtures, 'confluence-dc-audit.file.ndjson'), 'utf8').trim().split('\n')
    for (const line of lines) {
      expect(detectShape(JSON.parse(line))).toBe('dc-file')
      const [doc] = normalizeText(line)
      expect(doc.atlassian).toMatchObject({ product: 'confluence', deployment: 'dc' })
      expect(doc.tags).toEqual(['preserve_original_event', 'confluence-audit'])
    }
  })

  it('DC product hints: i18n keys, author type, user URI, JIRAUSER keys, base URL, node', () => {
    expect(detectDcProduct({ type: { actionI18nKey: 'audit.logging.summary.user.created' } })).toBe('confluence')
    expect(detectDcProduct({ type: { categoryI18nKey: 'jira.auditing.category.projects' } })).toBe('jira')
    expect(detectDcProduct({ extraAttributes: [{ nameI18nKey: 'bitbucket.audit.attribute.legacy.target' }] })).toBe(
      'bitbucket',
    )
    expect(detectDcProduct({ author: { type: 'ApplicationUser' } })).toBe('jira')
    expect(detectDcProduct({ author: { type: 'NORMAL' } })).toBe('bitbucket')
    expect(detectDcProduct({ author: { uri: 'http://c/admin/users/viewuser.action?username=a' } })).toBe('confluence')
    expect(detectDcProduct({ author: { uri: 'http://j/secure/ViewProfile.jspa?name=a' } })).toBe('jira')
    expect(detectDcProduct({ author: { uri: 'http://b:7990/users/admin' } })).toBe('bitbucket')
    expect(detectDcProduct({ affectedObjects: [{ id: 'JIRAUSER10000' }] })).toBe('jira')
    expect(detectDcProduct({ system: 'https://wiki.example.com/confluence' })).toBe('confluence')
    expect(detectDcProduct({ node: '8767044c' })).toBe('bitbucket')
    expect(detectDcProduct({ type: { actionI18nKey: 'atlassian.audit.event.action.audit.search' } })).toBeUndefined()
  })

  it('an explicit product wins over detection for DC records; shapes that name their product keep it', () => {
    const entity = jiraDcEntity()
    expect(normalizeRecord(entity, { product: 'bitbucket' }).atlassian).toMatchObject({ product: 'bitbucket' })
    expect(get(normalizeRecord(entity, { product: 'bitbucket' }), 'bitbucket.audit.type')).toBeDefined()
    const cloud = page('confluence-cloud-audit.page.json').results[0]
    expect(normalizeRecord(cloud, { product: 'jira' }).atlassian).toMatchObject({ product: 'confluence' })
    // Confluence DC's legacy /rest/api/audit has the Cloud shape: the deployment comes from the context
    expect(normalizeRecord(cloud, { deployment: 'dc' }).atlassian).toMatchObject({ deployment: 'dc' })
  })

  it('a DC entity that names no product gets the generic mapping (atlassian.audit.*), still valid ECS', () => {
    const entity = {
      timestamp: '2024-05-01T10:00:00.000Z',
      author: { id: '7', name: 'someone' },
      type: { actionI18nKey: 'atlassian.audit.event.action.audit.config.updated', category: 'Auditing' },
      source: '10.0.0.1',
    }
    const doc = normalizeRecord(entity)
    expect(doc.event.kind).toBe('event')
    expect(get(doc, 'atlassian.product')).toBeUndefined()
    expect(get(doc, 'atlassian.audit.type.category')).toBe('Auditing')
    expect(get(doc, 'user.name')).toBe('someone')
    expect(doc.event.category).toEqual(['configuration'])
    expect(doc.tags).toEqual(['preserve_original_event', 'forwarded'])
    expect(validateEcsDocument(doc)).toEqual([])
  })

  it('a page that names its product once gives it to the entities that do not', () => {
    const anonymous = {
      timestamp: '2024-05-01T10:00:00.000Z',
      type: { actionI18nKey: 'atlassian.audit.event.action.audit.search' },
    }
    const docs = normalizePage({ entities: [anonymous, jiraDcEntity()] })
    expect(docs.map((d) => get(d, 'atlassian.product'))).toEqual(['jira', 'jira'])
  })

  it('empty pages of every API give nothing; blank text gives nothing', () => {
    for (const empty of [
      '{"entities":[],"pagingInfo":{"lastPage":true,"size":0}}',
      '{"results":[],"start":0,"limit":2,"size":0}',
      '{"records":[],"offset":0,"limit":10,"total":0}',
      '{"data":[],"meta":{"next":"abc","page_size":0},"links":{}}',
      '[]',
      '   \n',
    ]) {
      expect(normalizeText(empty)).toEqual([])
    }
  })

  it('a single org event ({data: Event}) is one document', () => {
    const event = page('admin-org-events.page.json').data[0]
    const docs = normalizeText(JSON.stringify({ data: event }))
    expect(docs).toHaveLength(1)
    expect(docs[0].event.id).toBe(event.id)
  })
})

describe('the org mapping (docs/ecs-org-mapping.md)', () => {
  it('maps time, action, actor, location, context, container and processedAt', () => {
    const docs = normalizePage(page('admin-org-events-stream.page.json'))
    const doc = docs.find((d) => d.event.action === 'user_added_to_group') as EcsDocument
    expect(doc).toMatchObject({
      '@timestamp': '2025-02-27T18:50:12.281Z',
      event: {
        kind: 'event',
        id: '2f7a9c1e-8b3d-4e6f-a1c2-3d4e5f6a7b8c',
        category: ['iam'],
        type: ['group', 'change'],
      },
      message: 'Alana Admin added a user to group jira-software-users',
      user: {
        id: '5b10ac8d82e05b22cc7d4ef5',
        full_name: 'Alana Admin',
        email: 'alana.admin@example.com',
        target: {
          id: '712020:9c1f0a3e-4b5d-4c6e-8f7a-1b2c3d4e5f6a',
          group: { id: '0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f', name: 'jira-software-users' },
        },
      },
      source: { ip: '203.0.113.24', geo: { city_name: 'Sydney', country_name: 'Australia' } },
      organization: { id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d' },
      related: { hosts: ['example.atlassian.net'], ip: ['203.0.113.24'] },
      atlassian: { product: 'org', deployment: 'cloud', org: { processed_at: '2025-02-27T18:50:14.020Z' } },
    })
    const token = docs.find((d) => d.event.action === 'user_granted_role') as EcsDocument
    expect(get(token, 'atlassian.org.actor.auth')).toEqual({
      type: 'api-token',
      token_id: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b',
      token_label: 'audit-exporter',
    })
  })

  it('an action that is not in the table is still an event, type info', () => {
    const event = structuredClone(page('admin-org-events.page.json').data[0])
    event.attributes.action = 'something_new_happened'
    event.attributes.userAgent = 'Mozilla/5.0'
    const doc = normalizeRecord(event)
    expect(doc.event).toMatchObject({ kind: 'event', action: 'something_new_happened', type: ['info'] })
    expect(doc.event.category).toBeUndefined()
    expect(get(doc, 'user_agent.original')).toBe('Mozilla/5.0')
  })
})

describe('mapping details', () => {
  it('Jira Cloud `+0000` offsets and the event id', () => {
    const doc = normalizeText(elasticLines('atlassian_jira/test-audit-cloud.log')[0])[0]
    expect(doc['@timestamp']).toBe('2022-01-24T08:48:05.645Z')
    expect(doc.event.id).toBe('11959')
  })

  it('a proxy chain in `source` is split for every product: first = client, the rest additional', () => {
    for (const [product, ns] of [
      ['jira', 'jira'],
      ['confluence', 'confluence'],
      ['bitbucket', 'bitbucket'],
    ] as const) {
      const entity = { ...jiraDcEntity(), source: '127.0.0.1, 192.168.22.33' }
      const doc = normalizeRecord(entity, { product })
      expect(doc.event.kind).toBe('event')
      expect(get(doc, 'source.ip')).toBe('127.0.0.1')
      expect(get(doc, 'source.address')).toBe('127.0.0.1')
      expect(get(doc, `${ns}.audit.additional_source_ips`)).toEqual(['192.168.22.33'])
      expect(get(doc, 'related.ip')).toEqual(['127.0.0.1', '192.168.22.33'])
      expect(validateEcsDocument(doc)).toEqual([])
    }
  })

  it('timestamps: ISO with and without colon offsets, UNIX strings, file epochs; impossible dates rejected', () => {
    expect(parseIsoTimestamp('2022-01-24T08:48:05.645+0000')).toBe('2022-01-24T08:48:05.645Z')
    expect(parseIsoTimestamp('2022-01-24T10:48:05.645+02:00')).toBe('2022-01-24T08:48:05.645Z')
    expect(parseIsoTimestamp('2022-01-24T08:48:05.645123456Z')).toBe('2022-01-24T08:48:05.645Z')
    expect(parseIsoTimestamp('2022-01-24T08:48:05')).toBe('2022-01-24T08:48:05.000Z')
    expect(parseIsoTimestamp('2022-02-30T08:48:05Z')).toBeUndefined()
    expect(parseIsoTimestamp('2023-02-29T00:00:00Z')).toBeUndefined()
    expect(parseIsoTimestamp('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z')
    expect(parseIsoTimestamp('yesterday')).toBeUndefined()
    expect(parseDcTimestamp('1637624653.873')).toBe('2021-11-22T23:44:13.873Z')
    expect(parseDcTimestamp({ epochSecond: 1637624653, nano: 873000000 })).toBe('2021-11-22T23:44:13.873Z')
    expect(parseDcTimestamp({ epochSecond: 1637624653, nano: 66000000 })).toBe('2021-11-22T23:44:13.066Z')
    expect(parseDcTimestamp({ epochSecond: 'x' })).toBeUndefined()
    expect(parseDcTimestamp(42)).toBeUndefined()
  })

  it('IP literals: IPv4, IPv6 (compressed, embedded IPv4), and what is not an IP', () => {
    for (const ok of [
      '81.2.69.143',
      '0.0.0.0',
      '::',
      '::1',
      'fe80::1',
      '2001:db8::8a2e:370:7334',
      '::ffff:10.0.0.1',
      '1:2:3:4:5:6:7:8',
    ])
      expect(isIp(ok), ok).toBe(true)
    for (const bad of [
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':::',
      'abc',
      '',
      '1.2.3.4:80',
      'g::1',
    ])
      expect(isIp(bad), bad).toBe(false)
  })

  it('Confluence Cloud group names `name:uuid` are split into name and id', () => {
    const line = elasticLines('atlassian_confluence/test-audit-cloud.log').find((l) =>
      l.includes('jira-software-users:b8d81944'),
    )
    const doc = normalizeText(line as string, { deployment: 'cloud' })[0]
    expect(get(doc, 'user.target.group')).toEqual({
      name: 'jira-software-users',
      id: 'b8d81944-e737-4da0-94ca-165fa5c0635c',
    })
  })
})

describe('beyond the fixtures', () => {
  const confluenceDc = (action: string, objects: unknown[]) => ({
    author: {
      name: 'Alice A',
      type: 'user',
      id: 'u1',
      uri: 'http://c.example/admin/users/viewuser.action?username=alice',
    },
    type: {
      action,
      actionI18nKey: `audit.logging.summary.${action}`,
      category: 'Users and groups',
      categoryI18nKey: 'audit.logging.category.users.and.groups',
    },
    affectedObjects: objects,
    timestamp: '2021-11-23T00:00:00.000Z',
    source: '10.0.0.1',
  })

  it('an affected User without a uri (optional, §b.2) leaves the user name found before', () => {
    const login = normalizeRecord(confluenceDc('login.success', [{ name: 'Alice A', id: 'u1', type: 'User' }]))
    expect(get(login, 'user.name')).toBe('alice')
    expect(get(login, 'related.user')).toContain('alice')
    const created = normalizeRecord(
      confluenceDc('user.created', [
        { name: 'Bob B', id: 'u2', type: 'User', uri: 'http://c.example/admin/users/viewuser.action?username=bob' },
        { name: 'Bob B', id: 'u2', type: 'User' },
      ]),
    )
    expect(get(created, 'user.target')).toMatchObject({ name: 'bob', full_name: 'Bob B', id: 'u2' })
    for (const d of [login, created]) expect(validateEcsDocument(d)).toEqual([])
  })

  it('a Confluence Cloud group named only `:<uuid>` keeps its name (no empty group name)', () => {
    const line = elasticLines('atlassian_confluence/test-audit-cloud.log').find((l) =>
      l.includes('jira-software-users:b8d81944'),
    ) as string
    const doc = normalizeText(line.replace('jira-software-users:b8d81944', ':b8d81944'), { deployment: 'cloud' })[0]
    expect(get(doc, 'user.target.group.name')).toBe(':b8d81944-e737-4da0-94ca-165fa5c0635c')
  })

  it('a cluster node does not make a Jira entity Bitbucket when its page or content says Jira', () => {
    const clustered = {
      timestamp: '2024-05-01T10:00:00.000Z',
      author: { name: 'anonymous', type: 'user' },
      type: { actionI18nKey: 'atlassian.audit.event.action.audit.search', action: 'Audit log search performed' },
      node: 'node-1',
      system: 'https://issues.example.com',
    }
    const docs = normalizePage({ entities: [jiraDcEntity(), clustered] })
    expect(docs.map((d) => get(d, 'atlassian.product'))).toEqual(['jira', 'jira'])
    // alone, with nothing else to tell, a node is still the sign of Bitbucket
    expect(get(normalizePage({ entities: [clustered] })[0], 'atlassian.product')).toBe('bitbucket')
  })

  it('a field named __proto__ is kept as a field', () => {
    const record = jiraDcEntity()
    record.extraAttributes = [{ name: 'x', nameI18nKey: 'k', value: '', __proto__x: 1 }] // "" has it copied (scrubbed)
    const text = JSON.stringify(record).replace('"__proto__x":1', '"__proto__":{"k":"v"}')
    const doc = normalizeText(text)[0]
    const attrs = get(doc, 'jira.audit.extra_attributes') ?? get(doc, 'jira.audit.extraAttributes')
    expect(JSON.stringify(doc)).toContain('"__proto__":{"k":"v"}')
    expect(attrs).toBeDefined()
  })

  it('a failure with nothing known about its source carries no empty atlassian object', () => {
    const [doc] = normalizeText('garbage')
    expect(doc.atlassian).toBeUndefined()
    expect(validateEcsDocument(doc)).toEqual([])
    expect(normalizeText('garbage', { product: 'jira' })[0].atlassian).toEqual({ product: 'jira' })
  })
})

describe('bad input: a pipeline_error document, never a throw or a silent drop', () => {
  const isError = (d: EcsDocument) => d.event.kind === 'pipeline_error'

  it('text that is not JSON', () => {
    const [doc] = normalizeText('{"timestamp": "2021-11-23T00', { site: 's', now: fixedNow })
    expect(isError(doc)).toBe(true)
    expect(String(doc.error?.message)).toMatch(/^not JSON: /)
    expect(doc.event.original).toBe('{"timestamp": "2021-11-23T00')
    expect(doc.event.hash).toBe(textFingerprint('s', '{"timestamp": "2021-11-23T00'))
    expect(doc.tags).toContain('preserve_original_event')
    expect(doc['@timestamp']).toBe('2030-01-02T03:04:05.000Z')
  })

  it('a record of unknown shape, and values that are not records', () => {
    const [unknown] = normalizeText('{"hello":"world"}')
    expect(isError(unknown)).toBe(true)
    expect(unknown.error?.message).toBe('unknown record shape (keys: hello)')
    expect(unknown.event.original).toBe('{"hello":"world"}')
    for (const v of ['42', '"text"', 'null', 'true']) {
      const docs = normalizeText(v)
      expect(docs).toHaveLength(1)
      expect(isError(docs[0])).toBe(true)
      expect(docs[0].event.original).toBe(v)
    }
  })

  it('an unparsable timestamp keeps every field that could be mapped', () => {
    const entity = { ...jiraDcEntity(), timestamp: '2021-13-45T99:00:00Z' }
    const doc = normalizeRecord(entity, { keepOriginal: false, now: fixedNow })
    expect(isError(doc)).toBe(true)
    expect(doc.error?.message).toBe('cannot parse timestamp "2021-13-45T99:00:00Z"')
    expect(doc['@timestamp']).toBe('2030-01-02T03:04:05.000Z')
    expect(doc.event.action).toBe(jiraDcEntity().type.actionI18nKey)
    expect(get(doc, 'user.name')).toBe(jiraDcEntity().author.name)
    // errors always keep the original, whatever keepOriginal says
    expect(doc.event.original).toBe(JSON.stringify(entity))
    expect(doc.tags?.[0]).toBe('preserve_original_event')
  })

  it('an invalid IP: source.address kept, no source.ip', () => {
    const doc = normalizeRecord({ ...jiraDcEntity(), source: 'proxy.internal' })
    expect(isError(doc)).toBe(true)
    expect(doc.error?.message).toBe('source "proxy.internal" is not an IP address')
    expect(get(doc, 'source.address')).toBe('proxy.internal')
    expect(get(doc, 'source.ip')).toBeUndefined()
    expect(get(doc, 'related.ip')).toBeUndefined()
  })

  it('a page with one bad record gives the good documents and one error document, in input order', () => {
    const p = page('jira-dc-auditing-events.page.json')
    p.entities.splice(2, 0, { timestamp: 'garbage', type: { actionI18nKey: 'jira.auditing.user.created' } })
    const docs = normalizeText(JSON.stringify(p))
    expect(docs.map((d) => d.event.kind)).toEqual(['event', 'event', 'pipeline_error', 'event', 'event'])
    expect(docs[2].event.original).toBe(JSON.stringify(p.entities[2]))
  })

  it('wrong types in fields do not throw', () => {
    const entity = {
      timestamp: '2021-11-23T00:44:36.398Z',
      author: 'not an object',
      type: { actionI18nKey: 42, category: ['x'] },
      affectedObjects: 'nope',
      changedValues: [null, 1, { i18nKey: {}, from: [], to: 3 }],
      extraAttributes: {},
      source: 12345,
      system: { url: 'x' },
      method: null,
    }
    const doc = normalizeRecord(entity, { product: 'confluence' })
    expect(isError(doc)).toBe(true)
    expect(doc.error?.message).toBe('source is not a string: 12345')
    expect(doc.event.action).toBe('42')
  })
})

// Every document the normalizer emits for the fixtures validates against ECS 9.4 (@elastic/ecs EcsFlat).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { normalizeText } from '../../src/core/ecs/normalize'
import { BITBUCKET_CATEGORIZATION } from '../../src/core/ecs/tables/bitbucket'
import { CONFLUENCE_CATEGORIZATION } from '../../src/core/ecs/tables/confluence'
import { JIRA_CATEGORIZATION } from '../../src/core/ecs/tables/jira'
import { ORG_CATEGORIZATION } from '../../src/core/ecs/tables/org'
import type { EcsDocument } from '../../src/core/model'
import { validateEcsDocument } from '../ecs-validator'

const root = join(import.meta.dirname, '..', '..')
const elastic = join(root, 'test', 'golden', 'fixtures')
const atlassian = join(root, 'test', 'golden', 'atlassian-fixtures')

function logFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.log')) out.push(join(entry.parentPath, entry.name))
  }
  return out.sort()
}

function docsOfLines(file: string): EcsDocument[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => normalizeText(line))
}

function expectValid(docs: EcsDocument[]): void {
  const problems = docs.flatMap((d, i) => validateEcsDocument(d).map((p) => `#${i + 1} ${p}`))
  expect(problems).toEqual([])
}

describe('ECS 9.4 validation of every normalized fixture', () => {
  for (const file of logFiles(elastic)) {
    const name = file.slice(elastic.length + 1)
    it(`elastic/${name}`, () => {
      const docs = docsOfLines(file)
      if (!name.includes('empty')) expect(docs.length).toBeGreaterThan(0)
      for (const d of docs) expect(d.event.kind).toBe('event')
      expectValid(docs)
    })
  }

  const pages = readdirSync(atlassian).filter((f) => f.endsWith('.page.json') || f.endsWith('.ndjson'))
  it('the shared Atlassian fixtures are all there', () => {
    expect(pages.sort()).toEqual([
      'admin-org-events-stream.page.json',
      'admin-org-events.page.json',
      'bitbucket-dc-auditing-events.page.json',
      'confluence-cloud-audit.page.json',
      'confluence-dc-audit.file.ndjson',
      'confluence-dc-auditing-events.page.json',
      'jira-cloud-auditing-record.page.json',
      'jira-dc-auditing-events.page.json',
    ])
  })
  for (const file of pages) {
    it(`atlassian/${file}`, () => {
      const text = readFileSync(join(atlassian, file), 'utf8')
      // a pretty-printed page is one JSON text; the ndjson file is one record per line
      const docs = file.endsWith('.ndjson') ? docsOfLines(join(atlassian, file)) : normalizeText(text)
      expect(docs.length).toBeGreaterThan(0)
      for (const d of docs) expect(d.event.kind).toBe('event')
      expectValid(docs)
    })
  }

  it('pipeline_error documents validate too', () => {
    const docs = [
      ...normalizeText('{"timestamp": "not a date", "type": {"actionI18nKey": "jira.auditing.user.created"}}'),
      ...normalizeText('this is not json'),
      ...normalizeText('{"hello": "world"}'),
      ...normalizeText('{"entities": [1, null, {"timestamp": "2021-11-23T00:44:36.398Z", "source": "1.2.3.999"}]}'),
    ]
    expect(docs).toHaveLength(6)
    for (const d of docs) expect(d.event.kind).toBe('pipeline_error')
    expectValid(docs)
  })
})

describe('the categorization tables use allowed ECS values and pairs', () => {
  const tables = {
    confluence: CONFLUENCE_CATEGORIZATION,
    jira: JIRA_CATEGORIZATION,
    bitbucket: BITBUCKET_CATEGORIZATION,
    org: ORG_CATEGORIZATION,
  }
  for (const [product, table] of Object.entries(tables)) {
    it(product, () => {
      const problems: string[] = []
      for (const [action, c] of table) {
        const doc = {
          '@timestamp': '2024-01-01T00:00:00.000Z',
          ecs: { version: '9.4.0' },
          event: {
            kind: 'event',
            category: [...c.category],
            type: [...c.type],
            ...(c.outcome ? { outcome: c.outcome } : {}),
          },
        }
        for (const p of validateEcsDocument(doc)) problems.push(`${action}: ${p}`)
      }
      expect(problems).toEqual([])
    })
  }
})

describe('the validator itself', () => {
  it('finds unknown fields, wrong types, disallowed values and pairs', () => {
    const problems = validateEcsDocument({
      '@timestamp': 'yesterday',
      ecs: { version: '8.11.0' },
      event: { kind: 'happening', category: ['configuration'], type: ['admin'], outcome: 'success' },
      source: { ip: 'not-an-ip' },
      related: { user: 'alice' },
      user: { nickname: 'al' },
      confluence: { audit: { external_collaborator: 'no', mystery: 1 } },
      atlassian: { product: 'trello', whatever: { deep: 1 } },
      labels: { team: 'x' },
    })
    expect(problems.sort()).toEqual(
      [
        '@timestamp: expected a date, got "yesterday"',
        'ecs.version: must be "9.4.0"',
        'event.kind: "happening" is not an allowed value',
        'event.type: "admin" is not expected for event.category ["configuration"]',
        'source.ip: expected an IP address, got "not-an-ip"',
        'related.user: expected an array (ECS normalize: array)',
        'user.nickname: not an ECS field',
        'confluence.audit.external_collaborator: expected a boolean, got "no"',
        'confluence.audit.mystery: not a declared confluence field',
        'atlassian.product: "trello" is not an allowed value',
      ].sort(),
    )
  })
})

// Golden conformance: Elastic's pipeline-test pairs (fixtures/, copied from elastic/integrations) replayed
// through our normalizer; every expected document must match ours on every compared field, and every
// remaining difference must be listed in DEVIATIONS.md (exactly: no unlisted diff, no stale entry).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { normalizeText } from '../../src/core/ecs/normalize'
import type { Deployment, Product } from '../../src/core/model'
import { diffDocuments, type Json } from './compare'

const here = import.meta.dirname
const fixtures = join(here, 'fixtures')

interface Pair {
  file: string
  deployment: Deployment
  product: Product
  expectedCount: number
}

// The counts are the target of issue 2 (37 + 82 Cloud, 182 + 98 + 177 DC = 576).
const PAIRS: Pair[] = [
  { file: 'atlassian_confluence/test-audit-cloud.log', deployment: 'cloud', product: 'confluence', expectedCount: 37 },
  { file: 'atlassian_jira/test-audit-cloud.log', deployment: 'cloud', product: 'jira', expectedCount: 82 },
  { file: 'atlassian_confluence/test-audit-api.log', deployment: 'dc', product: 'confluence', expectedCount: 182 },
  { file: 'atlassian_jira/test-audit-api.log', deployment: 'dc', product: 'jira', expectedCount: 98 },
  { file: 'atlassian_bitbucket/test-audit-api.log', deployment: 'dc', product: 'bitbucket', expectedCount: 177 },
]

const EMPTY_INPUTS: Array<{ file: string; deployment: Deployment }> = [
  { file: 'atlassian_confluence/test-audit-api-empty.log', deployment: 'dc' },
  { file: 'atlassian_confluence/test-audit-cloud-empty.log', deployment: 'cloud' },
  { file: 'atlassian_jira/test-audit-empty.log', deployment: 'cloud' },
]

function inputLines(file: string): string[] {
  return readFileSync(join(fixtures, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
}

function expectedDocs(file: string): Json[] {
  return JSON.parse(readFileSync(join(fixtures, `${file}-expected.json`), 'utf8')).expected
}

/** Rows of the markdown table under `## <heading>` in DEVIATIONS.md, cells without backticks. */
function tableRows(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`## ${heading}\n`)
  if (start === -1) throw new Error(`DEVIATIONS.md has no section "${heading}"`)
  const next = markdown.indexOf('\n## ', start + 1)
  const section = markdown.slice(start, next === -1 ? undefined : next)
  return section
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2) // header + separator
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim().replaceAll('`', '')),
    )
}

const deviationsText = readFileSync(join(here, 'DEVIATIONS.md'), 'utf8')
const ADDED_FIELDS = tableRows(deviationsText, 'Fields we add').map((r) => r[0])
const ADDED_TAGS = new Set(tableRows(deviationsText, 'Tags we add').map((r) => r[0]))
/** "file#doc field" for every listed difference. */
const LISTED = new Set<string>()
for (const [file, docs, fieldName, reason, source] of tableRows(deviationsText, 'Differences')) {
  if (!reason || !source)
    throw new Error(`DEVIATIONS.md: the entry for ${file} ${fieldName} needs a reason and a source`)
  for (const n of docs.split(',')) LISTED.add(`${file}#${n.trim()} ${fieldName}`)
}

function addedFieldAllowed(path: string): boolean {
  return ADDED_FIELDS.some((f) => (f.endsWith('*') ? path.startsWith(f.slice(0, -1)) : path === f))
}

interface Replay {
  pair: Pair
  actual: Json[]
  expected: Json[]
  /** "file#doc field" of every difference that is not an allowed addition. */
  diffs: string[]
  unlistedTags: string[]
  identical: number
}

function replay(pair: Pair): Replay {
  const ctx = { deployment: pair.deployment }
  const actual = inputLines(pair.file).flatMap((line) => normalizeText(line, ctx)) as unknown as Json[]
  const expected = expectedDocs(pair.file)
  const diffs: string[] = []
  const unlistedTags: string[] = []
  let identical = 0
  for (let i = 0; i < expected.length; i++) {
    const { fields, addedTags } = diffDocuments(expected[i], actual[i] ?? {})
    let clean = true
    for (const d of fields) {
      if (d.kind === 'added' && addedFieldAllowed(d.field)) continue
      diffs.push(`${pair.file}#${i + 1} ${d.field}`)
      clean = false
    }
    for (const t of addedTags) if (!ADDED_TAGS.has(t)) unlistedTags.push(`${pair.file}#${i + 1} ${t}`)
    if (clean) identical++
  }
  return { pair, actual, expected, diffs, unlistedTags, identical }
}

const REPLAYS = PAIRS.map(replay)

describe('golden conformance with elastic/integrations pipeline tests', () => {
  for (const r of REPLAYS) {
    const { file, expectedCount } = r.pair
    const deviating = new Set(r.diffs.map((d) => d.split(' ')[0])).size
    it(`${file}: ${r.actual.length}/${expectedCount} documents (${r.identical} identical, ${deviating} with listed deviations)`, () => {
      expect(r.expected).toHaveLength(expectedCount)
      expect(r.actual).toHaveLength(expectedCount)
      const unlisted = r.diffs.filter((d) => !LISTED.has(d))
      expect(unlisted, 'differences not listed in DEVIATIONS.md').toEqual([])
      expect(r.unlistedTags, 'tags not listed in DEVIATIONS.md').toEqual([])
      for (const doc of r.actual) expect((doc.event as Json).kind).toBe('event')
    })
  }

  it('every deviation listed in DEVIATIONS.md still occurs (the list is exact)', () => {
    const occurring = new Set(REPLAYS.flatMap((r) => r.diffs))
    const stale = [...LISTED].filter((d) => !occurring.has(d))
    expect(stale, 'listed in DEVIATIONS.md but no longer different').toEqual([])
  })

  it(`all 576 expected documents are produced, in input order`, () => {
    const total = REPLAYS.reduce((n, r) => n + r.actual.length, 0)
    expect(total).toBe(576)
    for (const r of REPLAYS) {
      r.actual.forEach((doc, i) => {
        expect((doc.event as Json).original).toBe(inputLines(r.pair.file)[i])
      })
    }
  })

  it('product detection without any hint gives the same documents', () => {
    for (const r of REPLAYS) {
      const bare = inputLines(r.pair.file).flatMap((line) => normalizeText(line)) as unknown as Json[]
      expect(bare).toEqual(r.actual)
      for (const doc of bare) expect((doc.atlassian as Json).product).toBe(r.pair.product)
    }
  })

  for (const { file, deployment } of EMPTY_INPUTS) {
    it(`${file}: an empty page produces no document`, () => {
      const lines = inputLines(file)
      expect(lines.length).toBeGreaterThan(0)
      expect(lines.flatMap((l) => normalizeText(l, { deployment }))).toEqual([])
    })
  }
})

describe('DC audit log file lines (mock/test-audit.log, no expected file upstream)', () => {
  for (const product of ['confluence', 'jira', 'bitbucket'] as const) {
    it(`atlassian_${product}/mock/test-audit.log: every line is one ${product} DC document`, () => {
      const lines = inputLines(`atlassian_${product}/mock/test-audit.log`)
      const docs = lines.flatMap((l) => normalizeText(l)) as unknown as Json[]
      expect(docs).toHaveLength(lines.length)
      for (const doc of docs) {
        expect(doc.event).toMatchObject({ kind: 'event' })
        expect(doc.atlassian).toMatchObject({ product, deployment: 'dc' })
        // the log-file input's tags: no `forwarded`
        expect(doc.tags).toEqual(['preserve_original_event', `${product}-audit`])
        expect(doc['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      }
    })
  }

  it('the worked example of ecs-mapping.md §12 (Confluence file line 5)', () => {
    const line = inputLines('atlassian_confluence/mock/test-audit.log')[4]
    const [doc] = normalizeText(line) as unknown as Json[]
    expect(doc).toMatchObject({
      '@timestamp': '2021-11-22T23:50:13.966Z',
      event: {
        action: 'audit.logging.summary.group.membership.added',
        kind: 'event',
        category: ['iam'],
        type: ['group', 'change'],
      },
      user: {
        id: '2c9580827d4a06e8017d4a07c3e10000',
        full_name: 'test.user',
        target: {
          group: { name: 'confluence-users', id: 'confluence-users' },
          name: 'another.user',
          id: '2c9580827d4a06e8017d4a0e9dda0001',
        },
      },
      related: { user: ['another.user'], ip: ['81.2.69.143'], hosts: ['confluence.internal'] },
      source: { ip: '81.2.69.143', address: '81.2.69.143' },
      service: { address: 'http://confluence.internal:8090' },
      confluence: { audit: { method: 'Browser', type: { area: 'USER_MANAGEMENT', level: 'BASE' } } },
    })
    expect((doc.user as Json).name).toBeUndefined()
    expect(((doc.confluence as Json).audit as Json).affected_objects).toHaveLength(2)
  })
})

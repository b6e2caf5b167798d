// Property tests (fast-check): whatever arrives, the normalizer never throws, gives exactly one document
// per input record, every document is valid ECS 9.4, and one the archive may keep compact rebuilds exactly.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compactDocument,
  normalizePage,
  normalizeRecord,
  normalizeText,
  rebuildDocument,
} from '../../src/core/ecs/normalize'
import type { EcsDocument } from '../../src/core/model'
import { validateEcsDocument } from '../ecs-validator'

const golden = join(import.meta.dirname, '..', 'golden')
const atlassianDir = join(golden, 'atlassian-fixtures')

/** Every fixture record (all shapes) as parsed JSON, and every page file as text. */
const pageTexts = readdirSync(atlassianDir)
  .filter((f) => f.endsWith('.page.json'))
  .map((f) => readFileSync(join(atlassianDir, f), 'utf8'))
const recordLines = [
  ...[
    'atlassian_confluence/test-audit-cloud.log',
    'atlassian_jira/test-audit-cloud.log',
    'atlassian_confluence/test-audit-api.log',
    'atlassian_jira/test-audit-api.log',
    'atlassian_bitbucket/test-audit-api.log',
    'atlassian_confluence/mock/test-audit.log',
    'atlassian_jira/mock/test-audit.log',
    'atlassian_bitbucket/mock/test-audit.log',
  ].flatMap((f) =>
    readFileSync(join(golden, 'fixtures', f), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      // a few per file keep the runs fast while covering every shape
      .slice(0, 12),
  ),
  ...pageTexts.flatMap((t) => {
    const p = JSON.parse(t)
    return (p.entities ?? p.records ?? p.results ?? p.data).map((r: unknown) => JSON.stringify(r))
  }),
]
const records = recordLines.map((l) => JSON.parse(l) as unknown)

function checkDocument(doc: EcsDocument): void {
  expect(doc.event.hash).toMatch(/^[0-9a-f]{32}$/)
  expect(['event', 'pipeline_error']).toContain(doc.event.kind)
  if (doc.event.kind === 'pipeline_error') {
    expect(typeof doc.error?.message).toBe('string')
    expect(typeof doc.event.original).toBe('string')
    expect(doc.tags).toContain('preserve_original_event')
  }
  expect(validateEcsDocument(doc)).toEqual([])
  // the document survives serialization unchanged (no undefined, no cycles, no non-JSON values)
  const text = JSON.stringify(doc)
  expect(JSON.stringify(JSON.parse(text))).toBe(text)
  // a document the archive may keep compact rebuilds to the same text
  const compact = compactDocument(doc)
  if (compact) expect(JSON.stringify(rebuildDocument(compact.original, compact.recipe))).toBe(text)
}

/** Every path (as key lists) of a JSON value, objects and arrays included. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = []
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k]
      out.push(p, ...paths(v, p))
    }
  }
  return out
}

function replaceAt(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>
  let node = copy
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]] as Record<string | number, unknown>
  node[path[path.length - 1]] = replacement
  return copy
}

const RUNS = { numRuns: 200 }

describe('normalizer properties', () => {
  it('any JSON value as a record: one document, no throw, valid ECS', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const doc = normalizeRecord(value)
        checkDocument(doc)
      }),
      RUNS,
    )
  })

  it('any string: never throws; blank gives none, otherwise at least one document unless it is an empty page', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (text) => {
        const docs = normalizeText(text)
        for (const d of docs) checkDocument(d)
        if (text.trim() === '') {
          expect(docs).toEqual([])
          return
        }
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          expect(docs).toHaveLength(1)
          expect(docs[0].event.kind).toBe('pipeline_error')
          expect(docs[0].event.original).toBe(text.trim())
          return
        }
        const p = parsed as Record<string, unknown> | null
        const list = Array.isArray(parsed)
          ? parsed
          : ['entities', 'records', 'results', 'data'].map((k) => p?.[k]).find((v) => Array.isArray(v))
        if (Array.isArray(list)) expect(docs).toHaveLength(list.length)
        else expect(docs).toHaveLength(1)
      }),
      RUNS,
    )
  })

  it('truncated records and pages: exactly one pipeline_error document holding the text', () => {
    const texts = [...recordLines, ...pageTexts]
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: texts.length - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (i, at) => {
          const full = texts[i].trimEnd()
          const cut = full.slice(0, Math.floor(at * (full.length - 1))).trimEnd()
          const docs = normalizeText(cut)
          if (cut === '') {
            expect(docs).toEqual([])
            return
          }
          expect(docs).toHaveLength(1)
          expect(docs[0].event.kind).toBe('pipeline_error')
          expect(docs[0].event.original).toBe(cut.trim())
          checkDocument(docs[0])
        },
      ),
      RUNS,
    )
  })

  it('a wrong type in any field of any real record: one document, no throw, valid ECS', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: records.length - 1 }),
        fc.nat(),
        fc.jsonValue({ maxDepth: 2 }),
        (i, pick, replacement) => {
          const all = paths(records[i])
          const mutated = replaceAt(records[i], all[pick % all.length], replacement)
          const doc = normalizeRecord(mutated)
          checkDocument(doc)
          // and the same through the text path
          expect(normalizeText(JSON.stringify(mutated))).toHaveLength(1)
        },
      ),
      RUNS,
    )
  })

  it('pages of arbitrary values: one document per element, in order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('entities', 'records', 'results', 'data'),
        fc.array(fc.oneof(fc.constantFrom(...records), fc.jsonValue({ maxDepth: 2 })), { maxLength: 8 }),
        (key, items) => {
          const docs = normalizePage({ [key]: items })
          expect(docs).toHaveLength(items.length)
          docs.forEach((d, n) => {
            checkDocument(d)
            expect(d.event.original).toBe(JSON.stringify(items[n]))
          })
        },
      ),
      { numRuns: 150 },
    )
  })
})

// ECS documents to push: the copied Atlassian fixtures (see fixtures/PROVENANCE.md) run through the
// project's normalizer, so the collectors receive what the extension and the CLI really produce.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { hash128 } from '../../src/core/ecs/identity'
import { normalizeText } from '../../src/core/ecs/normalize'
import type { EcsDocument } from '../../src/core/model'

const dir = join(import.meta.dirname, 'fixtures')

function linesOf(file: string): string[] {
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
}

/** About 265 documents: Jira Cloud, Confluence DC and organization events. */
export function fixtureDocs(): EcsDocument[] {
  const out: EcsDocument[] = []
  for (const line of linesOf('jira-cloud.log')) {
    out.push(...normalizeText(line, { product: 'jira', deployment: 'cloud', site: 'https://acme.atlassian.net' }))
  }
  for (const line of linesOf('confluence-dc.log')) {
    out.push(...normalizeText(line, { product: 'confluence', deployment: 'dc', site: 'https://wiki.corp.example.com' }))
  }
  out.push(
    ...normalizeText(readFileSync(join(dir, 'org-events.page.json'), 'utf8'), {
      product: 'org',
      deployment: 'cloud',
      site: 'https://admin.atlassian.com',
    }),
  )
  return out
}

/** `n` distinct documents (distinct keys) built by varying the fixture documents' identity. */
export function manyDocs(n: number): EcsDocument[] {
  const base = fixtureDocs()
  const out: EcsDocument[] = []
  for (let i = 0; i < n; i++) {
    const b = base[i % base.length]
    const round = Math.floor(i / base.length)
    if (round === 0) {
      out.push(b)
      continue
    }
    const event = { ...b.event, hash: hash128(`${b.event.hash}/${round}`) }
    if (event.id !== undefined) event.id = `${event.id}-${round}`
    out.push({ ...b, event })
  }
  return out
}

// PLACEHOLDER (issue 2 replaces this file): the normalizer's entry points and their contract.
// normalizeRecord: one raw record → exactly one ECS document (a pipeline_error document for bad input).
// normalizeText:   one input line / one response page (JSON text) → 0..n documents
//                  (an empty page gives none; text that is not JSON gives one pipeline_error document).

import type { EcsDocument, NormalizeContext } from '../model'
import { recordFingerprint, textFingerprint } from './identity'

export function normalizeRecord(record: unknown, ctx: NormalizeContext = {}): EcsDocument {
  const site = ctx.site ?? ''
  const original = JSON.stringify(record)
  return {
    ecs: { version: '9.4.0' },
    event: { kind: 'event', hash: recordFingerprint(site, record), original },
    atlassian: { product: ctx.product, deployment: ctx.deployment, site: site || undefined },
  }
}

export function normalizeText(text: string, ctx: NormalizeContext = {}): EcsDocument[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    return [
      {
        ecs: { version: '9.4.0' },
        event: { kind: 'pipeline_error', hash: textFingerprint(ctx.site ?? '', text), original: text },
        error: { message: `not JSON: ${(e as Error).message}` },
      },
    ]
  }
  const page = parsed as Record<string, unknown>
  for (const k of ['results', 'records', 'entities', 'data']) {
    if (Array.isArray(page?.[k])) return (page[k] as unknown[]).map((r) => normalizeRecord(r, ctx))
  }
  return [normalizeRecord(parsed, ctx)]
}

// Node stand-ins for the browser in extension unit tests: fake-indexeddb (IndexedDB on globalThis) and
// synthetic ECS documents. Import first: `import './setup-extension'`. Tests of code that imports
// webextension-polyfill also need, in the test file itself (vi.mock is hoisted per file):
//   vi.mock('webextension-polyfill', async () => ({ default: (await import('@webext-core/fake-browser')).fakeBrowser }))
import 'fake-indexeddb/auto'
import { afterEach } from 'vitest'
import { recordFingerprint } from '../../src/core/ecs/identity'
import type { EcsDocument } from '../../src/core/model'
import { type Archive, openArchive } from '../../src/extension/db'

/** A maker of empty archives (each its own database) that are destroyed after every test of the file. */
export function freshArchives(prefix: string): () => Archive {
  let n = 0
  const opened: Archive[] = []
  afterEach(async () => {
    for (const a of opened.splice(0)) await a.destroy()
  })
  return () => {
    const a = openArchive(`${prefix}-${process.pid}-${n++}`)
    opened.push(a)
    return a
  }
}

export interface FakeEventOptions {
  site?: string
  ts: number
  action?: string
  user?: string
  ip?: string
  categories?: string[]
  types?: string[]
  outcome?: string
  id?: string
  message?: string
}

export function fakeDoc(o: FakeEventOptions): EcsDocument {
  const record = {
    id: o.id,
    created: new Date(o.ts).toISOString(),
    summary: o.action,
    author: o.user,
    remoteAddress: o.ip,
    m: o.message,
  }
  const site = o.site ?? 'https://a.example'
  const doc: EcsDocument = {
    '@timestamp': new Date(o.ts).toISOString(),
    ecs: { version: '8.11.0' },
    event: {
      kind: 'event',
      hash: recordFingerprint(site, record),
      original: JSON.stringify(record),
      ...(o.action ? { action: o.action } : {}),
      ...(o.categories ? { category: o.categories } : {}),
      type: o.types ?? ['info'],
      ...(o.outcome ? { outcome: o.outcome } : {}),
      ...(o.id ? { id: o.id } : {}),
    },
    atlassian: { site },
  }
  if (o.user) doc.user = { name: o.user }
  if (o.ip) doc.source = { ip: o.ip }
  if (o.message) doc.message = o.message
  return doc
}

const ACTIONS = ['User created', 'User deleted', 'Login failed', 'Permission granted', 'Page updated', 'Space created']
const CATS: Record<string, string[]> = {
  'User created': ['iam'],
  'User deleted': ['iam'],
  'Login failed': ['authentication'],
  'Permission granted': ['iam', 'configuration'],
  'Page updated': ['web'],
  'Space created': ['configuration'],
}

/** n events, one per minute going back from `end`, cycling through actions, 7 users and 5 IPs. */
export function fakeDocs(
  n: number,
  end = Date.UTC(2025, 0, 10),
  site = 'https://a.example',
  offset = 0,
): EcsDocument[] {
  const out: EcsDocument[] = []
  for (let i = offset; i < offset + n; i++) {
    const action = ACTIONS[i % ACTIONS.length]!
    out.push(
      fakeDoc({
        site,
        ts: end - i * 60_000,
        action,
        user: `user${i % 7}`,
        ip: `10.0.0.${i % 5}`,
        categories: CATS[action],
        outcome: action === 'Login failed' ? 'failure' : 'success',
        types: action === 'Permission granted' ? ['change'] : ['info'],
        message: `event number ${i}`,
      }),
    )
  }
  return out
}

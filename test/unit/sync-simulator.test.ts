// Exactly-once collection against the Atlassian simulator (test/fake-atlassian), for every audit API and every
// sign-in mode, under randomized fault schedules (429 bursts with Retry-After, 5xx, slow and truncated
// responses, inserts while paging, one-millisecond clusters across page boundaries) and kills at random
// requests followed by resumes on the same store. Emitted identities must equal the served identities, with
// no repeats, and cover every stored record of the collected window. No secret may appear in any output.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { StateFileStore } from '../../src/cli/state-file-store'
import type { ApiId } from '../../src/core/atlassian/apis'
import { abortableSleep } from '../../src/core/atlassian/client'
import { connect } from '../../src/core/atlassian/connect'
import { canonicalJson } from '../../src/core/ecs/identity'
import type { AuthMode, Credential, Deployment, EcsDocument, Product, Site } from '../../src/core/model'
import { syncStream } from '../../src/core/sync/engine'
import { login } from '../fake-atlassian/helpers'
import { Prng } from '../fake-atlassian/prng'
import type { ApiKey, FakeAtlassian, RecordSite, SiteKey } from '../fake-atlassian/server'
import { startFakeAtlassian } from '../fake-atlassian/server'

const DAY = 86_400_000

/** Uniform [0, 1) numbers from one seed (the simulator's generator). */
function prng(seed: number): () => number {
  const p = new Prng(seed)
  return () => p.next()
}

interface Case {
  name: string
  site: SiteKey
  store: RecordSite
  product: Product
  deployment: Deployment
  mode: AuthMode
  api?: ApiId
  served: ApiKey
  credential: (sim: FakeAtlassian) => Promise<Credential>
}

const loginUrl = (sim: FakeAtlassian, site: SiteKey) => `${sim.sites[site].baseUrl}/login`
const session = (site: SiteKey) => async (sim: FakeAtlassian) =>
  ({ mode: 'session', secret: await login(loginUrl(sim, site)) }) as Credential
const basicCloud = async (sim: FakeAtlassian): Promise<Credential> => ({
  mode: 'basic',
  email: sim.credentials.email,
  secret: sim.credentials.apiToken,
})
const scoped = async (sim: FakeAtlassian): Promise<Credential> => ({
  mode: 'scoped',
  email: sim.credentials.email,
  secret: sim.credentials.scopedToken,
})
const basicDc = async (sim: FakeAtlassian): Promise<Credential> => ({
  mode: 'basic',
  email: sim.credentials.dcUsername,
  secret: sim.credentials.dcPassword,
})
const pat = async (sim: FakeAtlassian): Promise<Credential> => ({ mode: 'pat', secret: sim.credentials.pat })

const CASES: Case[] = [
  {
    name: 'Confluence Cloud, session',
    site: 'cloud',
    store: 'confluence-cloud',
    product: 'confluence',
    deployment: 'cloud',
    mode: 'session',
    served: 'confluence-cloud',
    credential: session('cloud'),
  },
  {
    name: 'Confluence Cloud, basic',
    site: 'cloud',
    store: 'confluence-cloud',
    product: 'confluence',
    deployment: 'cloud',
    mode: 'basic',
    served: 'confluence-cloud',
    credential: basicCloud,
  },
  {
    name: 'Confluence Cloud, scoped via gateway',
    site: 'cloud',
    store: 'confluence-cloud',
    product: 'confluence',
    deployment: 'cloud',
    mode: 'scoped',
    served: 'confluence-cloud',
    credential: scoped,
  },
  {
    name: 'Jira Cloud, session',
    site: 'cloud',
    store: 'jira-cloud',
    product: 'jira',
    deployment: 'cloud',
    mode: 'session',
    served: 'jira-cloud',
    credential: session('cloud'),
  },
  {
    name: 'Jira Cloud, basic',
    site: 'cloud',
    store: 'jira-cloud',
    product: 'jira',
    deployment: 'cloud',
    mode: 'basic',
    served: 'jira-cloud',
    credential: basicCloud,
  },
  {
    name: 'Jira Cloud, scoped via gateway',
    site: 'cloud',
    store: 'jira-cloud',
    product: 'jira',
    deployment: 'cloud',
    mode: 'scoped',
    served: 'jira-cloud',
    credential: scoped,
  },
  {
    name: 'Confluence DC auditing, PAT',
    site: 'confluence-dc',
    store: 'confluence-dc',
    product: 'confluence',
    deployment: 'dc',
    mode: 'pat',
    served: 'confluence-dc',
    credential: pat,
  },
  {
    name: 'Confluence DC auditing, session',
    site: 'confluence-dc',
    store: 'confluence-dc',
    product: 'confluence',
    deployment: 'dc',
    mode: 'session',
    served: 'confluence-dc',
    credential: session('confluence-dc'),
  },
  {
    name: 'Confluence DC legacy, basic',
    site: 'confluence-dc',
    store: 'confluence-dc',
    product: 'confluence',
    deployment: 'dc',
    mode: 'basic',
    api: 'confluence-dc-legacy',
    served: 'confluence-dc-legacy',
    credential: basicDc,
  },
  {
    name: 'Jira DC auditing, basic',
    site: 'jira-dc',
    store: 'jira-dc',
    product: 'jira',
    deployment: 'dc',
    mode: 'basic',
    served: 'jira-dc',
    credential: basicDc,
  },
  {
    name: 'Bitbucket DC auditing, PAT',
    site: 'bitbucket-dc',
    store: 'bitbucket-dc',
    product: 'bitbucket',
    deployment: 'dc',
    mode: 'pat',
    served: 'bitbucket-dc',
    credential: pat,
  },
  {
    name: 'Organization events-stream, org API key',
    site: 'org',
    store: 'org',
    product: 'org',
    deployment: 'cloud',
    mode: 'org-key',
    served: 'org-events-stream',
    credential: async (sim) => ({ mode: 'org-key', secret: sim.credentials.orgKey }),
  },
]

const tmp = mkdtempSync(path.join(tmpdir(), 'sync-sim-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function secretsOf(sim: FakeAtlassian, cred: Credential): string[] {
  const c = sim.credentials
  const out = [c.apiToken, c.scopedToken, c.pat, c.orgKey, c.dcPassword, c.viewerToken, c.viewerPat]
  if (cred.secret) out.push(cred.secret, ...cred.secret.split(/;\s*/).map((kv) => kv.slice(kv.indexOf('=') + 1)))
  return out.filter((s) => s && s.length >= 6)
}

function eventTime(store: RecordSite, raw: Record<string, unknown>): number {
  if (store === 'confluence-cloud') return raw.creationDate as number
  if (store === 'jira-cloud') return Date.parse(String(raw.created).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))
  if (store === 'org') return Date.parse(String((raw.attributes as Record<string, unknown>).time))
  if (store === 'confluence-dc' && typeof raw.creationDate === 'number') return raw.creationDate
  return Date.parse(String(raw.timestamp))
}

const SEEDS = process.env.SYNC_SEEDS
  ? Array.from({ length: Number(process.env.SYNC_SEEDS) }, (_, i) => 100 + i)
  : [11, 12]

describe.each(CASES)('$name', (c) => {
  it.each(SEEDS)('seed %i: exactly once under random faults, kills and resumes', async (seed) => {
    const rnd = prng(seed * 131 + c.name.length)
    const sim = await startFakeAtlassian({ seed, volume: { [c.store]: 700 } })
    const lines: string[] = []
    try {
      const cred = await c.credential(sim)
      // Clusters of records sharing one millisecond, larger than a page, somewhere inside the first window.
      for (let k = 0; k < 2; k++) {
        sim.insertSameMillisecond(
          c.store === 'org' ? 'org' : c.store,
          60 + Math.floor(rnd() * 80),
          Date.now() - Math.floor(rnd() * 5 * DAY),
        )
      }
      const f = sim.faults
      const burst = f.rateLimit({ probability: 0.06, retryAfter: 'seconds', retryAfterSeconds: 1 })
      const dated = f.rateLimit({ probability: 0.04, retryAfter: 'date', retryAfterSeconds: 2 })
      const bare429 = f.rateLimit({ probability: 0.03, retryAfter: 'none' })
      f.serverError({ probability: 0.08, status: 'random' })
      f.slow({ probability: 0.05, delayMs: 30 })
      f.truncate({ probability: 0.05, mode: 'destroy' })
      f.truncate({ probability: 0.05, mode: 'malformed' })
      f.insertWhilePaging({ probability: 0.3, records: 1 + Math.floor(rnd() * 5), sameMillisecond: rnd() < 0.5 })

      const waits: number[] = []
      const emitted: EcsDocument[] = []
      const file = path.join(tmp, `${c.served}-${c.mode}-${seed}.json`)
      const site: Site = {
        id: `${c.product}-${c.deployment}`,
        url: sim.sites[c.site].baseUrl,
        product: c.product,
        deployment: c.deployment,
        auth: c.mode,
        orgId: c.product === 'org' ? sim.orgId : undefined,
      }
      const since = Date.now() - 7 * DAY
      let requests = 0
      let killAt = Number.POSITIVE_INFINITY
      let controller = new AbortController()
      const clientFetch = (url: string, init: RequestInit) => {
        if (++requests >= killAt) controller.abort(new Error('killed'))
        return fetch(url, init)
      }
      const runOnce = async () => {
        const target = await connect(site, cred, {
          fetch: clientFetch,
          gatewayUrl: sim.gatewayUrl,
          api: c.api,
          backoffBaseMs: 5,
          backoffMaxMs: 40,
          maxAttempts: 10,
          maxRateLimitRetries: 40,
          timeoutMs: 5000,
          // Honoured waits are recorded; the test sleeps a fraction of them to stay fast.
          sleep: (ms, signal) => {
            waits.push(ms)
            return abortableSleep(Math.min(ms, 15), signal)
          },
          log: (l) => lines.push(l),
          signal: controller.signal,
        })
        const store = await StateFileStore.open(file, async (docs) => {
          emitted.push(...docs)
          lines.push(...docs.map((d) => JSON.stringify(d)))
        })
        return syncStream(target, store, { limit: 50, since, signal: controller.signal, log: (l) => lines.push(l) })
      }

      let kills = 0
      for (let run = 0; run < 4; run++) {
        controller = new AbortController()
        killAt = requests + 2 + Math.floor(rnd() * 15)
        try {
          await runOnce()
        } catch (e) {
          if (!controller.signal.aborted) throw e
          kills++
        }
      }
      expect(kills).toBeGreaterThan(0)
      // A last clean run after the insert faults stop, once their records are past the overlap.
      f.clear()
      killAt = Number.POSITIVE_INFINITY
      controller = new AbortController()
      const result = await runOnce()

      const ids = emitted.map((d) => canonicalJson(JSON.parse(String(d.event.original))))
      const unique = new Set(ids)
      expect(ids.length - unique.size).toBe(0) // no repeats
      const served = sim.served().identities(c.served)
      expect(unique).toEqual(served) // exactly what was served
      const stored = (sim.records(c.store) as Record<string, unknown>[])
        .filter((r) => {
          const t = eventTime(c.store, r)
          return t >= since && (c.store === 'org' || t <= (result.checkpoint ?? 0))
        })
        .map((r) => canonicalJson(r))
      // The legacy API serves another shape of the same stored records; it is covered by the served check.
      if (!c.api) for (const id of stored) expect(unique.has(id)).toBe(true) // nothing of the window missing
      // A Retry-After of 1 s was honoured. Checkable only when the client read every 429 the server sent: a
      // kill can abort a request (a page read ahead) after the server answered 429 and before the client
      // read it. Client-level Retry-After handling is pinned in atlassian-client.test.ts.
      const served429 = burst.hits + dated.hits + bare429.hits
      const read429 = lines.filter((l) => l.includes('HTTP 429 too many requests; retrying in')).length
      if (burst.hits > 0 && read429 === served429) expect(Math.max(...waits)).toBeGreaterThanOrEqual(1000)

      // Sign-in mode as seen by the server.
      const reqs = sim.requests().filter((r) => r.api === c.served)
      expect(reqs.length).toBeGreaterThan(0)
      for (const r of reqs) {
        if (c.mode === 'session') expect(r.hasAuthorization).toBe(false)
        else expect(r.hasCookies).toBe(false)
        if (c.mode === 'scoped' || c.mode === 'org-key') expect(r.via).toBe('gateway')
        if (c.mode === 'basic' && c.deployment === 'cloud') expect(r.via).toBe('cloud')
      }

      const out = lines.join('\n')
      for (const s of secretsOf(sim, cred)) expect(out.includes(s)).toBe(false)
    } finally {
      await sim.close()
    }
  })
})

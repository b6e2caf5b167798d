// Every sink against a real nginx recording collector: protocol-valid bodies, ECS-valid documents,
// clear credential errors, and at-least-once delivery through 429/503 bursts and an outage.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { EcsDocument } from '../../src/core/model'
import { sinkKey } from '../../src/core/sinks/batch'
import { datasetOf } from '../../src/core/sinks/elasticsearch'
import { CollectorAuthError } from '../../src/core/sinks/errors'
import { createSink } from '../../src/core/sinks/index'
import { type DeliverReport, deliver, enqueueForCollectors, MemoryOutboxStore } from '../../src/core/sinks/outbox'
import type { CollectorConfig, Sink } from '../../src/core/sinks/sink'
import { validateEcsDocument } from '../ecs-validator'
import { fixtureDocs, manyDocs } from './docs'
import { CREDS, type Endpoint, NginxCollector, type ReceivedRequest } from './nginx'

let nginx: NginxCollector
const docs = fixtureDocs()

beforeAll(async () => {
  nginx = new NginxCollector()
  await nginx.start()
})

afterAll(async () => {
  await nginx?.dispose()
})

beforeEach(async () => {
  nginx.clearFailures()
  await nginx.clear()
})

const es = (over: Partial<CollectorConfig> = {}): CollectorConfig => ({
  id: 'es',
  kind: 'elasticsearch',
  url: nginx.baseUrl,
  auth: { scheme: 'basic', username: CREDS.esUser },
  batchSize: 100,
  ...over,
})
const hec = (over: Partial<CollectorConfig> = {}): CollectorConfig => ({
  id: 'hec',
  kind: 'splunk-hec',
  url: nginx.baseUrl,
  auth: { scheme: 'splunk' },
  batchSize: 100,
  ...over,
})
const nd = (over: Partial<CollectorConfig> = {}): CollectorConfig => ({
  id: 'nd',
  kind: 'http-ndjson',
  url: `${nginx.baseUrl}/ingest`,
  auth: { scheme: 'bearer' },
  batchSize: 100,
  ...over,
})

const SECRETS: Record<string, string> = { es: CREDS.esPassword, hec: CREDS.hecToken, nd: CREDS.bearer }

interface BulkItem {
  action: { create: { _index: string; _id: string } }
  doc: EcsDocument
}

/** Parse a `_bulk` body strictly: action/document pairs, create actions only, newline-terminated. */
function parseBulk(body: string): BulkItem[] {
  expect(body.endsWith('\n')).toBe(true)
  const lines = body.slice(0, -1).split('\n')
  expect(lines.length % 2).toBe(0)
  const out: BulkItem[] = []
  for (let i = 0; i < lines.length; i += 2) {
    const action = JSON.parse(lines[i])
    expect(Object.keys(action)).toEqual(['create'])
    expect(Object.keys(action.create).sort()).toEqual(['_id', '_index'])
    expect(action.create._index).toMatch(/^logs-atlassian_[a-z]+\.audit-[a-z0-9_.]+$/)
    expect(action.create._id).toMatch(/^[0-9a-f]{32}$/)
    const doc = JSON.parse(lines[i + 1])
    expect(doc.create ?? doc.index).toBeUndefined()
    out.push({ action, doc })
  }
  return out
}

function expectValidEcs(doc: unknown): void {
  const errors = validateEcsDocument(doc)
  expect(errors, JSON.stringify(errors)).toEqual([])
}

function withoutDataStream(doc: EcsDocument): EcsDocument {
  const { data_stream: _ds, ...rest } = doc
  return rest as EcsDocument
}

const byKey = new Map(docs.map((d) => [sinkKey(d), d]))

describe('Elasticsearch _bulk into nginx', () => {
  it('paired create actions into logs-atlassian_<product>.audit-default, _id = key, every document valid ECS', async () => {
    const result = await createSink(es(), SECRETS.es).send(docs)
    expect(result.delivered.sort()).toEqual([...byKey.keys()].sort())
    const requests = await nginx.waitFor((r) => r.length >= 3)
    expect(requests.map((r) => [r.status, r.uri, r.ctype])).toEqual(
      Array.from({ length: 3 }, () => [200, '/_bulk', 'application/x-ndjson']),
    )
    expect(requests.every((r) => r.auth === `Basic ${btoa(`${CREDS.esUser}:${CREDS.esPassword}`)}`)).toBe(true)
    const items = requests.flatMap((r) => parseBulk(r.body))
    expect(items).toHaveLength(docs.length)
    const products = new Set<string>()
    for (const { action, doc } of items) {
      const original = byKey.get(action.create._id)
      expect(original, 'the _id is the document key').toBeDefined()
      expect(withoutDataStream(doc)).toEqual(original)
      const dataset = datasetOf(original!)
      products.add(dataset)
      expect(action.create._index).toBe(`logs-${dataset}-default`)
      expect(doc.data_stream).toEqual({ type: 'logs', dataset, namespace: 'default' })
      expectValidEcs(doc)
    }
    expect([...products].sort()).toEqual(['atlassian_confluence.audit', 'atlassian_jira.audit', 'atlassian_org.audit'])
  })

  it('ApiKey auth, custom namespace, gzip (raw body kept by nginx, gunzipped here)', async () => {
    const sink = createSink(
      es({ url: `${nginx.baseUrl}/gz/apikey`, auth: { scheme: 'apikey' }, namespace: 'prod', gzip: true }),
      CREDS.esApiKey,
    )
    const result = await sink.send(docs.slice(0, 50))
    expect(result.delivered).toHaveLength(50)
    const [req] = await nginx.waitFor((r) => r.length >= 1)
    expect(req).toMatchObject({ status: 200, uri: '/gz/apikey/_bulk', cenc: 'gzip', auth: `ApiKey ${CREDS.esApiKey}` })
    expect(req.wireBytes).toBeLessThan(new TextEncoder().encode(req.body).length / 3)
    const items = parseBulk(req.body)
    expect(items.map((i) => i.action.create._id)).toEqual(docs.slice(0, 50).map(sinkKey))
    for (const { action, doc } of items) {
      expect(action.create._index).toMatch(/-prod$/)
      expectValidEcs(doc)
    }
  })

  it('wrong password and wrong API key → CollectorAuthError with a clear message and no secret', async () => {
    const wrong = await createSink(es(), 'not-the-password')
      .send(docs.slice(0, 3))
      .catch((e: unknown) => e)
    expect(wrong).toBeInstanceOf(CollectorAuthError)
    expect((wrong as Error).message).toMatch(/^Elasticsearch rejected the credentials \(HTTP 401\): wrong user name/)
    expect((wrong as Error).message).not.toContain('not-the-password')
    const wrongKey = await createSink(es({ url: `${nginx.baseUrl}/apikey`, auth: { scheme: 'apikey' } }), 'bad-key')
      .send(docs.slice(0, 3))
      .catch((e: unknown) => e)
    expect(wrongKey).toBeInstanceOf(CollectorAuthError)
    expect((wrongKey as Error).message).toMatch(/HTTP 401.*security_exception: unable to authenticate/)
    expect(await nginx.acceptedSettled()).toHaveLength(0)
  })

  it('per-item results from a real HTTP response: 201 and 409 delivered, 429 retried, 400 rejected with the reason', async () => {
    const four = docs.slice(0, 4)
    const keys = four.map(sinkKey)
    const result = await createSink(es({ url: `${nginx.baseUrl}/items` }), SECRETS.es).send(four)
    expect(result.delivered).toEqual([keys[0], keys[3]])
    expect(result.retry).toEqual([keys[1]])
    expect(result.rejected).toEqual([
      {
        key: keys[2],
        reason: 'HTTP 400: document_parsing_exception: [1:42] failed to parse field [source.ip] of type [ip]',
      },
    ])
    const [req] = await nginx.waitFor((r) => r.length >= 1)
    expect(parseBulk(req.body)).toHaveLength(4)
  })
})

describe('Splunk HEC into nginx', () => {
  it('concatenated envelopes with time, host, source, sourcetype and a valid ECS event', async () => {
    const result = await createSink(hec(), SECRETS.hec).send(docs)
    expect(result.delivered).toHaveLength(docs.length)
    const requests = await nginx.waitFor((r) => r.length >= 3)
    expect(requests.every((r) => r.status === 200 && r.uri === '/services/collector/event')).toBe(true)
    expect(requests.every((r) => r.auth === `Splunk ${CREDS.hecToken}`)).toBe(true)
    const envelopes = requests.flatMap((r) =>
      r.body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    )
    expect(envelopes).toHaveLength(docs.length)
    envelopes.forEach((env, i) => {
      expect(Object.keys(env).sort()).toEqual(['event', 'host', 'source', 'sourcetype', 'time'])
      expect(env.event).toEqual(docs[i])
      expect(env.time).toBe(Date.parse(docs[i]['@timestamp']!) / 1000)
      expect(env.host).toBe(new URL((docs[i].atlassian as { site: string }).site).host)
      expect(env.source).toBe(`atlassian:${(docs[i].atlassian as { product: string }).product}:audit`)
      expect(env.sourcetype).toBe('atlassian:audit:ecs')
      expectValidEcs(env.event)
    })
  })

  it('a wrong token → CollectorAuthError quoting Splunk, not the token', async () => {
    const err = await createSink(hec(), 'ffffffff-0000-0000-0000-000000000000')
      .send(docs.slice(0, 2))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CollectorAuthError)
    expect((err as Error).message).toMatch(/Splunk HEC refused the request \(HTTP 403\).*Splunk says "Invalid token"/)
    expect((err as Error).message).not.toContain('ffffffff')
  })

  it('gzip', async () => {
    const result = await createSink(hec({ url: `${nginx.baseUrl}/gz`, gzip: true }), SECRETS.hec).send(
      docs.slice(0, 20),
    )
    expect(result.delivered).toHaveLength(20)
    const [req] = await nginx.waitFor((r) => r.length >= 1)
    expect(req.cenc).toBe('gzip')
    expect(
      req.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event),
    ).toEqual(docs.slice(0, 20))
  })
})

describe('HTTP NDJSON into nginx', () => {
  it('one ECS document per line, Bearer and custom-header auth', async () => {
    expect((await createSink(nd(), SECRETS.nd).send(docs)).delivered).toHaveLength(docs.length)
    const webhook = nd({ url: `${nginx.baseUrl}/webhook`, auth: { scheme: 'header', headerName: CREDS.headerName } })
    expect((await createSink(webhook, CREDS.headerValue).send(docs.slice(0, 5))).delivered).toHaveLength(5)
    const requests = await nginx.waitFor((r) => r.length >= 4)
    const ingest = requests.filter((r) => r.uri === '/ingest')
    expect(ingest.every((r) => r.status === 200 && r.auth === `Bearer ${CREDS.bearer}`)).toBe(true)
    expect(ingest.every((r) => r.ctype === 'application/x-ndjson' && r.body.endsWith('\n'))).toBe(true)
    const lines = ingest.flatMap((r) => r.body.slice(0, -1).split('\n'))
    expect(lines.map((l) => JSON.parse(l))).toEqual(docs)
    for (const l of lines) expectValidEcs(JSON.parse(l))
    const hook = requests.filter((r) => r.uri === '/webhook')
    expect(hook).toHaveLength(1)
    expect(hook[0]).toMatchObject({ status: 204, auth: CREDS.headerValue })
  })

  it('a wrong token → CollectorAuthError', async () => {
    await expect(createSink(nd(), 'nope').send(docs.slice(0, 1))).rejects.toThrow(
      /The collector rejected the credentials \(HTTP 401\)/,
    )
  })
})

// ---- at least once, through failures ----

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fastBackoff = { baseMs: 20, maxMs: 300, configErrorMs: 500 }

/** Run the outbox loop in real time until everything is delivered. */
async function drain(collector: CollectorConfig, sink: Sink, queued: EcsDocument[], timeoutMs = 60_000) {
  const store = new MemoryOutboxStore()
  const archive = new Map(queued.map((d) => [sinkKey(d), d]))
  await enqueueForCollectors(store, [collector], queued, Date.now())
  const loadDocs = async (keys: string[]) => new Map(keys.map((k) => [k, archive.get(k)!]))
  const reports: DeliverReport[] = []
  const deadline = Date.now() + timeoutMs
  while ((await store.backlog(collector.id)).pending > 0) {
    if (Date.now() > deadline)
      throw new Error(`not delivered within ${timeoutMs} ms: ${JSON.stringify(reports.at(-1))}`)
    const report = await deliver({ collector, store, loadDocs, sink, backoff: fastBackoff })
    reports.push(report)
    if (report.nextAttemptAt !== undefined) await sleep(Math.min(500, Math.max(0, report.nextAttemptAt - Date.now())))
  }
  return { reports, store }
}

/** Toggle a failure flag on and off while `work` runs. */
async function withBursts<T>(endpoint: Endpoint, status: 429 | 503, work: () => Promise<T>): Promise<T> {
  let stop = false
  const toggler = (async () => {
    let on = true
    while (!stop) {
      nginx.setFailure(endpoint, status, on)
      await sleep(on ? 60 : 40)
      on = !on
    }
    nginx.setFailure(endpoint, status, false)
  })()
  try {
    return await work()
  } finally {
    stop = true
    await toggler
  }
}

/** Keys that reached the collector in accepted requests, with how often. */
function arrivedKeys(kind: CollectorConfig['kind'], requests: ReceivedRequest[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of requests) {
    if (r.status < 200 || r.status >= 300) continue
    const lines = r.body.split('\n').filter(Boolean)
    if (kind === 'elasticsearch') {
      for (const { action, doc } of parseBulk(r.body)) {
        // same _id ⇔ same document: a retry can never create a second copy
        expect(sinkKey(withoutDataStream(doc))).toBe(action.create._id)
        counts.set(action.create._id, (counts.get(action.create._id) ?? 0) + 1)
      }
    } else {
      for (const l of lines) {
        const parsed = JSON.parse(l)
        const key = sinkKey(kind === 'splunk-hec' ? parsed.event : parsed)
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
    }
  }
  return counts
}

describe('at least once through 429/503 bursts and an outage', () => {
  const volume = manyDocs(1200)
  const keys = volume.map(sinkKey)
  const cases: [CollectorConfig['kind'], () => CollectorConfig, Endpoint][] = [
    ['elasticsearch', () => es({ batchSize: 50 }), 'es'],
    ['splunk-hec', () => hec({ batchSize: 50 }), 'hec'],
    ['http-ndjson', () => nd({ batchSize: 50 }), 'nd'],
  ]

  for (const [kind, config, endpoint] of cases) {
    it(`${kind}: flapping 429 then 503 — every document arrives at least once`, async () => {
      const collector = config()
      const sink = createSink(collector, SECRETS[endpoint])
      const half = volume.length / 2
      const first = await withBursts(endpoint, 429, () => drain(collector, sink, volume.slice(0, half)))
      const second = await withBursts(endpoint, 503, () => drain(collector, sink, volume.slice(half)))
      const requests = await nginx.settle()
      const statuses = new Set(requests.map((r) => r.status))
      expect(statuses.has(429) && statuses.has(503), `statuses seen: ${[...statuses]}`).toBe(true)
      expect(first.reports.some((r) => r.outcome === 'retrying')).toBe(true)
      expect(second.reports.some((r) => r.outcome === 'retrying')).toBe(true)
      const arrived = arrivedKeys(kind, requests)
      for (const k of keys) expect(arrived.get(k) ?? 0).toBeGreaterThanOrEqual(1)
      expect(arrived.size).toBe(keys.length)
    })
  }

  it('nginx limit_req (real rate limiting, 20 r/s): every _bulk document arrives, 429s were met', async () => {
    const collector = es({ url: `${nginx.baseUrl}/limited`, batchSize: 20 })
    const sink = createSink(collector, SECRETS.es)
    await drain(collector, sink, volume.slice(0, 400))
    const requests = await nginx.settle()
    expect(requests.filter((r) => r.status === 429).length).toBeGreaterThan(0)
    const arrived = arrivedKeys('elasticsearch', requests)
    expect([...arrived.keys()].sort()).toEqual(keys.slice(0, 400).sort())
  })

  for (const [kind, config, endpoint] of cases) {
    it(`${kind}: collector down for a while (nginx stopped, then started on the same port) — nothing lost`, async () => {
      const collector = config()
      const sink = createSink(collector, SECRETS[endpoint])
      const store = new MemoryOutboxStore()
      const archive = new Map(volume.map((d) => [sinkKey(d), d]))
      const loadDocs = async (ks: string[]) => new Map(ks.map((k) => [k, archive.get(k)!]))
      await enqueueForCollectors(store, [collector], volume, Date.now())
      // deliver two batches, then the collector goes away
      const r1 = await deliver({ collector, store, loadDocs, sink, backoff: fastBackoff, maxBatches: 2 })
      expect(r1).toMatchObject({ outcome: 'paused', delivered: 100 })
      await nginx.stop()
      const outage: DeliverReport[] = []
      const outageEnds = Date.now() + 1500
      while (Date.now() < outageEnds) {
        const r = await deliver({ collector, store, loadDocs, sink, backoff: fastBackoff })
        outage.push(r)
        await sleep(Math.min(200, Math.max(0, (r.nextAttemptAt ?? Date.now()) - Date.now())))
      }
      expect(
        outage.some((r) => r.outcome === 'retrying' && /cannot reach the collector.*ECONNREFUSED/.test(r.error ?? '')),
      ).toBe(true)
      expect(outage.every((r) => r.delivered === 0)).toBe(true)
      expect((await store.backlog(collector.id)).pending).toBe(volume.length - 100)
      expect((await store.getStatus(collector.id))?.lastError).toMatch(/ECONNREFUSED/)
      await nginx.start()
      // a fresh loop (as after a service-worker restart) on the same store finishes the job
      const deadline = Date.now() + 30_000
      while ((await store.backlog(collector.id)).pending > 0 && Date.now() < deadline) {
        const r = await deliver({ collector, store, loadDocs, sink, backoff: fastBackoff, force: true })
        if (r.outcome !== 'done') await sleep(50)
      }
      expect((await store.backlog(collector.id)).pending).toBe(0)
      const arrived = arrivedKeys(kind, await nginx.settle())
      expect([...arrived.keys()].sort()).toEqual([...keys].sort())
      expect((await store.getStatus(collector.id))?.deliveredTotal).toBe(volume.length)
    })
  }
})

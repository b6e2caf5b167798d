import { describe, expect, it } from 'vitest'
import { documentKey } from '../../src/core/ecs/identity'
import type { EcsDocument } from '../../src/core/model'
import { sinkKey } from '../../src/core/sinks/batch'
import { dataStreamOf, datasetOf } from '../../src/core/sinks/elasticsearch'
import { CollectorAuthError, CollectorConfigError, CollectorEndpointError } from '../../src/core/sinks/errors'
import { createSink } from '../../src/core/sinks/index'
import type { CollectorConfig } from '../../src/core/sinks/sink'
import { fakeFetch, json, makeDoc } from './sinks-helpers'

const base: CollectorConfig = {
  id: 'es',
  kind: 'elasticsearch',
  url: 'https://es.example.com:9200',
  auth: { scheme: 'basic', username: 'elastic' },
}

const allCreated = (req: { body: string }) => {
  const n = req.body.split('\n').filter(Boolean).length / 2
  return json(200, { took: 1, errors: false, items: Array.from({ length: n }, () => ({ create: { status: 201 } })) })
}

describe('elasticsearch sink', () => {
  it('writes paired create actions into the product data stream with _id = documentKey, NDJSON ending in a newline', async () => {
    const f = fakeFetch(allCreated)
    const sink = createSink(base, 's3cret', { fetch: f.fetch })
    const docs = [makeDoc(1, 'jira'), makeDoc(2, 'confluence'), makeDoc(3, 'org')]
    const res = await sink.send(docs)
    expect(res.delivered).toEqual(docs.map((d) => documentKey(d)))
    expect(res.retry).toEqual([])
    expect(f.requests).toHaveLength(1)
    const req = f.requests[0]
    expect(req.url).toBe('https://es.example.com:9200/_bulk')
    expect(req.method).toBe('POST')
    expect(req.headers['content-type']).toBe('application/x-ndjson')
    expect(req.headers.authorization).toBe(`Basic ${btoa('elastic:s3cret')}`)
    expect(req.body.endsWith('\n')).toBe(true)
    const lines = req.body.slice(0, -1).split('\n')
    expect(lines).toHaveLength(6)
    const indices = [
      'logs-atlassian_jira.audit-default',
      'logs-atlassian_confluence.audit-default',
      'logs-atlassian_org.audit-default',
    ]
    for (let i = 0; i < 3; i++) {
      expect(JSON.parse(lines[2 * i])).toEqual({ create: { _index: indices[i], _id: documentKey(docs[i]) } })
      const source = JSON.parse(lines[2 * i + 1])
      expect(source.event).toEqual(docs[i].event)
      expect(source.data_stream).toEqual({ type: 'logs', dataset: indices[i].slice(5, -8), namespace: 'default' })
    }
  })

  it('keeps the base path, honours the namespace and does not append /_bulk twice', async () => {
    const f = fakeFetch(allCreated)
    await createSink({ ...base, url: 'https://proxy.example.com/es/', namespace: 'prod_eu' }, 'x', {
      fetch: f.fetch,
    }).send([makeDoc(1)])
    await createSink({ ...base, url: 'https://proxy.example.com/es/_bulk' }, 'x', { fetch: f.fetch }).send([makeDoc(1)])
    expect(f.requests.map((r) => r.url)).toEqual([
      'https://proxy.example.com/es/_bulk',
      'https://proxy.example.com/es/_bulk',
    ])
    expect(JSON.parse(f.requests[0].body.split('\n')[0]).create._index).toBe('logs-atlassian_jira.audit-prod_eu')
    expect(() => createSink({ ...base, namespace: 'Prod-EU' }, 'x')).toThrow(CollectorConfigError)
  })

  it('dataset: event.dataset first, then atlassian.product, else atlassian_unknown.audit', () => {
    const d = makeDoc(1, 'bitbucket')
    expect(datasetOf(d)).toBe('atlassian_bitbucket.audit')
    expect(datasetOf({ ...d, event: { ...d.event, dataset: undefined } })).toBe('atlassian_bitbucket.audit')
    const bare: EcsDocument = { ecs: { version: '9.4.0' }, event: { kind: 'pipeline_error', hash: 'h' } }
    expect(dataStreamOf(bare, 'ns')).toBe('logs-atlassian_unknown.audit-ns')
  })

  it('reads per-item results: 201 and 409 delivered, 429/503 retried, 400 rejected with its reason', async () => {
    const f = fakeFetch(() =>
      json(200, {
        took: 3,
        errors: true,
        items: [
          { create: { status: 201 } },
          { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } },
          { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
          { create: { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary not active' } } },
          {
            create: {
              status: 400,
              error: { type: 'document_parsing_exception', reason: 'failed to parse field [source.ip]' },
            },
          },
        ],
      }),
    )
    const docs = [1, 2, 3, 4, 5].map((i) => makeDoc(i))
    const keys = docs.map(sinkKey)
    const res = await createSink(base, 'x', { fetch: f.fetch }).send(docs)
    expect(res.delivered).toEqual([keys[0], keys[1]])
    expect(res.retry).toEqual([keys[2], keys[3]])
    expect(res.rejected).toEqual([
      { key: keys[4], reason: 'HTTP 400: document_parsing_exception: failed to parse field [source.ip]' },
    ])
    expect(res.transientError).toMatch(/2 documents refused for now/)
  })

  it('whole-request 429/503 → all retried with Retry-After; later batches are not sent', async () => {
    const f = fakeFetch(() => json(429, { error: 'busy' }, { 'retry-after': '7' }))
    const docs = [1, 2, 3, 4, 5].map((i) => makeDoc(i))
    const res = await createSink({ ...base, batchSize: 2 }, 'x', { fetch: f.fetch }).send(docs)
    expect(res.retry).toEqual(docs.map(sinkKey))
    expect(res.retryAfterMs).toBe(7000)
    expect(f.requests).toHaveLength(1)
  })

  it('401 and 403 are typed auth errors that never contain the secret', async () => {
    const secret = 'very-secret-password'
    for (const status of [401, 403]) {
      const f = fakeFetch(() =>
        json(status, {
          error: { type: 'security_exception', reason: `unable to authenticate user [elastic] ${secret}` },
        }),
      )
      const err = await createSink(base, secret, { fetch: f.fetch })
        .send([makeDoc(1)])
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CollectorAuthError)
      const message = (err as Error).message
      expect(message).toMatch(status === 401 ? /wrong user name, password/ : /missing privileges.*create_doc/)
      expect(message).not.toContain(secret)
      expect(message).not.toContain(btoa(`elastic:${secret}`))
    }
  })

  it('404 is an endpoint error; a whole-request 400 rejects the batch; network failure retries with a reason', async () => {
    const notFound = fakeFetch(() => new Response('no handler', { status: 404 }))
    await expect(createSink(base, 'x', { fetch: notFound.fetch }).send([makeDoc(1)])).rejects.toBeInstanceOf(
      CollectorEndpointError,
    )
    const bad = fakeFetch(() =>
      json(400, { error: { type: 'illegal_argument_exception', reason: 'Malformed action' } }),
    )
    const res = await createSink(base, 'x', { fetch: bad.fetch }).send([makeDoc(1)])
    expect(res.rejected[0].reason).toMatch(/HTTP 400.*Malformed action/)
    const down = await createSink(base, 'x', {
      fetch: async () => {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) })
      },
    }).send([makeDoc(1), makeDoc(2)])
    expect(down.retry).toHaveLength(2)
    expect(down.transientError).toBe('cannot reach the collector at https://es.example.com:9200 (ECONNREFUSED)')
  })

  it('413 splits the batch until it fits; a single oversized document is rejected', async () => {
    const f = fakeFetch((req) =>
      req.body.split('\n').length > 3 ? new Response('too big', { status: 413 }) : allCreated(req),
    )
    const docs = [1, 2, 3].map((i) => makeDoc(i))
    const res = await createSink(base, 'x', { fetch: f.fetch }).send(docs)
    expect(res.delivered.sort()).toEqual(docs.map(sinkKey).sort())
    const always = fakeFetch(() => new Response('', { status: 413 }))
    const one = await createSink(base, 'x', { fetch: always.fetch }).send([makeDoc(1)])
    expect(one.rejected[0].reason).toMatch(/too large/)
  })

  it('answers errors:false without items (proxies, test sinks) as all delivered; a short item list as retry', async () => {
    const none = fakeFetch(() => json(200, { took: 1, errors: false, items: [] }))
    expect((await createSink(base, 'x', { fetch: none.fetch }).send([makeDoc(1)])).delivered).toHaveLength(1)
    const short = fakeFetch(() => json(200, { took: 1, errors: true, items: [] }))
    expect((await createSink(base, 'x', { fetch: short.fetch }).send([makeDoc(1)])).retry).toHaveLength(1)
  })

  it('gzip: Content-Encoding set, body decompresses to the same NDJSON', async () => {
    const f = fakeFetch(allCreated)
    await createSink({ ...base, gzip: true }, 'x', { fetch: f.fetch }).send([makeDoc(1), makeDoc(2)])
    const plain = fakeFetch(allCreated)
    await createSink(base, 'x', { fetch: plain.fetch }).send([makeDoc(1), makeDoc(2)])
    expect(f.requests[0].gzipped).toBe(true)
    expect(f.requests[0].body).toBe(plain.requests[0].body)
  })

  it('per-item 401/403/404 are the collector configuration: the entries stay queued, never rejected', async () => {
    const docs = [1, 2, 3].map((i) => makeDoc(i))
    const item = (status: number, type: string) => ({
      create: { status, error: { type, reason: `${type} for [logs-atlassian_jira.audit-default]` } },
    })
    // all refused: the same as a 403 for the whole request
    const denied = fakeFetch(() => json(200, { errors: true, items: docs.map(() => item(403, 'security_exception')) }))
    const e = await createSink(base, 'k-secret', { fetch: denied.fetch })
      .send(docs)
      .catch((x: unknown) => x)
    expect(e).toBeInstanceOf(CollectorAuthError)
    expect((e as Error).message).toMatch(/security_exception.*create_doc/)
    const missing = fakeFetch(() =>
      json(200, { errors: true, items: docs.map(() => item(404, 'index_not_found_exception')) }),
    )
    expect(
      await createSink(base, 'k-secret', { fetch: missing.fetch })
        .send(docs)
        .catch((x: unknown) => x),
    ).toBeInstanceOf(CollectorEndpointError)
    // some through: those are delivered, the refused ones come back as retry
    const mixed = fakeFetch(() =>
      json(200, {
        errors: true,
        items: [{ create: { status: 201 } }, item(403, 'security_exception'), { create: { status: 201 } }],
      }),
    )
    const res = await createSink(base, 'k-secret', { fetch: mixed.fetch }).send(docs)
    expect(res.delivered).toEqual([docs[0], docs[2]].map(sinkKey))
    expect(res.retry).toEqual([sinkKey(docs[1]!)])
    expect(res.rejected).toEqual([])
  })
})

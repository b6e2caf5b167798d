import { describe, expect, it } from 'vitest'
import { sinkKey, splitBatches, utf8Length } from '../../src/core/sinks/batch'
import { CollectorAuthError, CollectorConfigError, CollectorEndpointError } from '../../src/core/sinks/errors'
import { authHeader, checkCollectorUrl, parseRetryAfter } from '../../src/core/sinks/http'
import { createSink } from '../../src/core/sinks/index'
import type { CollectorConfig } from '../../src/core/sinks/sink'
import { fakeFetch, json, makeDoc } from './sinks-helpers'

const hec: CollectorConfig = {
  id: 'hec',
  kind: 'splunk-hec',
  url: 'https://splunk.example.com:8088',
  auth: { scheme: 'splunk' },
}
const ndjson: CollectorConfig = {
  id: 'nd',
  kind: 'http-ndjson',
  url: 'https://logs.example.com/ingest?pipeline=atlassian',
  auth: { scheme: 'bearer' },
  headers: { 'X-Source': 'atlassian-audit' },
}

describe('the https rule and URLs', () => {
  it('plain http only for loopback; no credentials in URLs', () => {
    for (const ok of [
      'http://127.0.0.1:9200',
      'http://127.8.9.10/',
      'http://localhost:8088',
      'http://[::1]:80',
      'https://es.example.com',
    ]) {
      expect(() => checkCollectorUrl(ok)).not.toThrow()
    }
    for (const bad of [
      'http://10.0.0.1:9200',
      'http://es.example.com',
      'http://128.0.0.1',
      'ftp://127.0.0.1',
      'not a url',
    ]) {
      expect(() => checkCollectorUrl(bad)).toThrow(CollectorConfigError)
    }
    expect(() => checkCollectorUrl('https://elastic:pw@es.example.com')).toThrow(/must not contain credentials/)
    expect(() => createSink({ ...hec, url: 'http://splunk.internal:8088' }, 't')).toThrow(/only allowed for loopback/)
  })

  it('auth headers for every scheme; config errors never quote the secret', () => {
    const c = (auth: CollectorConfig['auth']): CollectorConfig => ({ ...ndjson, auth })
    expect(authHeader(c({ scheme: 'basic', username: 'José' }), 'pässword')).toEqual([
      'Authorization',
      `Basic ${Buffer.from('José:pässword').toString('base64')}`,
    ])
    expect(authHeader(c({ scheme: 'bearer' }), 'tok')).toEqual(['Authorization', 'Bearer tok'])
    expect(authHeader(c({ scheme: 'apikey' }), 'a2V5')).toEqual(['Authorization', 'ApiKey a2V5'])
    expect(authHeader(c({ scheme: 'splunk' }), 'guid')).toEqual(['Authorization', 'Splunk guid'])
    expect(authHeader(c({ scheme: 'header', headerName: 'DD-API-KEY' }), 'k')).toEqual(['DD-API-KEY', 'k'])
    expect(authHeader(c({ scheme: 'none' }), undefined)).toBeUndefined()
    expect(() => authHeader(c({ scheme: 'bearer' }), undefined)).toThrow(CollectorConfigError)
    const secret = 'line1\nInjected: yes'
    let message = ''
    try {
      authHeader(c({ scheme: 'bearer' }), secret)
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/cannot be sent in an HTTP header/)
    expect(message).not.toContain('Injected')
  })

  it('Retry-After in seconds or as a date', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000)
    expect(parseRetryAfter(null)).toBeUndefined()
  })
})

describe('batching', () => {
  it('splits by count and by bytes, keeps order, never leaves an oversized item out', () => {
    const items = [5, 5, 5, 20, 5, 5]
    expect(splitBatches(items, { maxDocs: 2, maxBytes: 100 }, (x) => x)).toEqual([
      [5, 5],
      [5, 20],
      [5, 5],
    ])
    expect(splitBatches(items, { maxDocs: 10, maxBytes: 12 }, (x) => x)).toEqual([[5, 5], [5], [20], [5, 5]])
  })

  it('utf8Length equals TextEncoder', () => {
    for (const s of ['abc', 'é', '€', '😀', 'a\ud800b', JSON.stringify(makeDoc(1))]) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length)
    }
  })

  it('the sink splits documents into requests by batchSize and batchBytes', async () => {
    const f = fakeFetch(() => new Response('{}', { status: 200 }))
    const docs = Array.from({ length: 25 }, (_, i) => makeDoc(i))
    const res = await createSink({ ...ndjson, batchSize: 10 }, 't', { fetch: f.fetch }).send(docs)
    expect(f.requests.map((r) => r.body.split('\n').length - 1)).toEqual([10, 10, 5])
    expect(res.delivered).toEqual(docs.map(sinkKey))
    const oneDocBytes = new TextEncoder().encode(`${JSON.stringify(docs[0])}\n`).length
    const g = fakeFetch(() => new Response('{}', { status: 200 }))
    await createSink({ ...ndjson, batchBytes: oneDocBytes * 3 + 5 }, 't', { fetch: g.fetch }).send(docs.slice(0, 7))
    expect(g.requests.map((r) => r.body.split('\n').length - 1)).toEqual([3, 3, 1])
  })
})

describe('splunk-hec sink', () => {
  it('posts concatenated envelopes with time, host, source, sourcetype and the ECS event', async () => {
    const f = fakeFetch(() => json(200, { text: 'Success', code: 0 }))
    const docs = [makeDoc(1, 'jira'), makeDoc(2, 'confluence', 'https://wiki.corp.example.com/confluence')]
    const res = await createSink({ ...hec, splunkIndex: 'atlassian' }, '00000000-0000-0000-0000-000000000000', {
      fetch: f.fetch,
    }).send(docs)
    expect(res.delivered).toEqual(docs.map(sinkKey))
    const req = f.requests[0]
    expect(req.url).toBe('https://splunk.example.com:8088/services/collector/event')
    expect(req.headers.authorization).toBe('Splunk 00000000-0000-0000-0000-000000000000')
    const events = req.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(events).toEqual([
      {
        time: Date.parse(docs[0]['@timestamp']!) / 1000,
        host: 'acme.atlassian.net',
        source: 'atlassian:jira:audit',
        sourcetype: 'atlassian:audit:ecs',
        index: 'atlassian',
        event: docs[0],
      },
      {
        time: Date.parse(docs[1]['@timestamp']!) / 1000,
        host: 'wiki.corp.example.com',
        source: 'atlassian:confluence:audit',
        sourcetype: 'atlassian:audit:ecs',
        index: 'atlassian',
        event: docs[1],
      },
    ])
    expect(events[0].time).toBe(1704067200.001)
  })

  it('code 9 / 503 retry; wrong token is an auth error; incorrect index is an endpoint error; invalid-event-number rejects one', async () => {
    const docs = [1, 2, 3].map((i) => makeDoc(i))
    const busy = fakeFetch(() => json(503, { text: 'Server is busy', code: 9 }))
    expect((await createSink(hec, 't', { fetch: busy.fetch }).send(docs)).retry).toHaveLength(3)
    const wrong = fakeFetch(() => json(403, { text: 'Invalid token', code: 4 }))
    const err = await createSink(hec, 'wrong-token', { fetch: wrong.fetch })
      .send(docs)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CollectorAuthError)
    expect((err as Error).message).toMatch(/HTTP 403.*Invalid token/)
    const index = fakeFetch(() => json(400, { text: 'Incorrect index', code: 7 }))
    await expect(createSink(hec, 't', { fetch: index.fetch }).send(docs)).rejects.toBeInstanceOf(CollectorEndpointError)
    const invalid = fakeFetch(() => json(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 }))
    const res = await createSink(hec, 't', { fetch: invalid.fetch }).send(docs)
    expect(res.rejected.map((r) => r.key)).toEqual([sinkKey(docs[1])])
    expect(res.retry).toEqual([sinkKey(docs[0]), sinkKey(docs[2])])
  })
})

describe('http-ndjson sink', () => {
  it('posts one document per line with the extra headers to the exact URL', async () => {
    const f = fakeFetch(() => new Response(null, { status: 204 }))
    const docs = [makeDoc(1), makeDoc(2)]
    const res = await createSink(ndjson, 'tok', { fetch: f.fetch }).send(docs)
    expect(res.delivered).toHaveLength(2)
    const req = f.requests[0]
    expect(req.url).toBe('https://logs.example.com/ingest?pipeline=atlassian')
    expect(req.headers['x-source']).toBe('atlassian-audit')
    expect(req.headers.authorization).toBe('Bearer tok')
    expect(req.headers['content-type']).toBe('application/x-ndjson')
    expect(req.body).toBe(`${JSON.stringify(docs[0])}\n${JSON.stringify(docs[1])}\n`)
  })

  it('429/5xx retry, 400 rejects all, 404 is an endpoint error, timeout retries', async () => {
    const docs = [makeDoc(1), makeDoc(2)]
    for (const status of [429, 500, 502, 503]) {
      const f = fakeFetch(() => new Response('', { status }))
      expect((await createSink(ndjson, 't', { fetch: f.fetch }).send(docs)).retry).toHaveLength(2)
    }
    const bad = fakeFetch(() => new Response('invalid json at line 2', { status: 400 }))
    const res = await createSink(ndjson, 't', { fetch: bad.fetch }).send(docs)
    expect(res.rejected.map((r) => r.reason)).toEqual([
      'the collector refused the batch (HTTP 400: invalid json at line 2)',
      'the collector refused the batch (HTTP 400: invalid json at line 2)',
    ])
    const missing = fakeFetch(() => new Response('', { status: 404 }))
    await expect(createSink(ndjson, 't', { fetch: missing.fetch }).send(docs)).rejects.toBeInstanceOf(
      CollectorEndpointError,
    )
    const slow = await createSink({ ...ndjson, timeoutMs: 50 }, 't', {
      fetch: (_u, init) =>
        new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    }).send(docs)
    expect(slow.retry).toHaveLength(2)
    expect(slow.transientError).toMatch(/did not answer within 0.05 s/)
  })

  it('an abort from the caller propagates and reports nothing', async () => {
    const controller = new AbortController()
    const sink = createSink(ndjson, 't', {
      fetch: (_u, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
          controller.abort(new Error('stopped by test'))
        }),
    })
    await expect(sink.send([makeDoc(1)], controller.signal)).rejects.toThrow('stopped by test')
  })
})

describe('send() with more documents than one request', () => {
  it('a whole-request failure hands back every later document as retry, none lost, none sent', async () => {
    let calls = 0
    const f = fakeFetch(() => {
      calls++
      return new Response('', { status: calls === 1 ? 200 : 503 })
    })
    const docs = Array.from({ length: 35 }, (_, i) => makeDoc(i))
    const res = await createSink({ ...ndjson, batchSize: 10 }, 't', { fetch: f.fetch }).send(docs)
    expect(f.requests).toHaveLength(2)
    expect(res.delivered).toEqual(docs.slice(0, 10).map(sinkKey))
    expect(res.retry).toEqual(docs.slice(10).map(sinkKey))
    expect(res.transientError).toBe('the collector answered HTTP 503')
  })

  it('credentials refused after some batches went through: what was accepted is kept, the rest retried', async () => {
    let calls = 0
    const f = fakeFetch(() => new Response('', { status: ++calls === 1 ? 200 : 401 }))
    const docs = Array.from({ length: 25 }, (_, i) => makeDoc(i))
    const res = await createSink({ ...ndjson, batchSize: 10 }, 't', { fetch: f.fetch }).send(docs)
    expect(res.delivered).toHaveLength(10)
    expect(res.retry).toHaveLength(15)
    expect(res.transientError).toMatch(/HTTP 401/)
  })
})

describe('answers that are not what they seem', () => {
  const docs = [1, 2, 3].map((i) => makeDoc(i))

  it('a redirect is reported, never followed: no event counted as delivered, no credential sent elsewhere', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const f = fakeFetch(
        () => new Response(null, { status, headers: { location: 'https://login.example.com/landing?next=%2Fingest' } }),
      )
      const calls: RequestInit[] = []
      const sink = createSink({ ...ndjson, auth: { scheme: 'header', headerName: 'X-Api-Key' } }, 'TOPSECRET-1234', {
        fetch: (input, init) => {
          calls.push(init)
          return f.fetch(input, init)
        },
      })
      const e = await sink.send(docs).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(CollectorEndpointError)
      expect((e as Error).message).toMatch(
        new RegExp(`redirect \\(HTTP ${status}\\) to https://login\\.example\\.com/landing`),
      )
      expect((e as Error).message).not.toContain('next=')
      expect(f.requests).toHaveLength(1)
      expect(calls[0]?.redirect).toBe('manual')
    }
    // a browser's opaque redirect (redirect: 'manual' in a service worker)
    const opaque = new Response(null, { status: 200 })
    Object.defineProperty(opaque, 'type', { value: 'opaqueredirect' })
    Object.defineProperty(opaque, 'status', { value: 0 })
    const e = await createSink(hec, 'guid-guid-guid', { fetch: fakeFetch(() => opaque).fetch })
      .send(docs)
      .catch((x: unknown) => x)
    expect(e).toBeInstanceOf(CollectorEndpointError)
  })

  it('a collector that echoes the credentials never gets them into a reason, an error or a log', async () => {
    const echo = (req: { headers: Record<string, string> }) =>
      json(400, { error: `bad request, you sent ${req.headers.authorization ?? req.headers['x-api-key']}` })
    const cases: [CollectorConfig, string][] = [
      [{ ...ndjson, auth: { scheme: 'bearer' } }, 's3cretTOKEN'],
      [{ ...ndjson, auth: { scheme: 'basic', username: 'u' } }, 's3cretPW'],
      [{ ...ndjson, auth: { scheme: 'header', headerName: 'X-Api-Key' } }, 's3cretKEY-1'],
      [{ ...hec }, 's3cretHEC-0000'],
    ]
    for (const [config, secret] of cases) {
      const f = fakeFetch((req) => echo(req))
      const res = await createSink(config, secret, { fetch: f.fetch })
        .send(docs)
        .catch((x: unknown) => ({ error: x as Error }))
      const text = JSON.stringify(res, (_k, v) => (v instanceof Error ? v.message : v))
      expect(text, config.kind).not.toContain(secret)
      expect(text).not.toContain(Buffer.from(`u:${secret}`).toString('base64'))
      expect(text).toContain('[redacted]')
    }
  })

  it('Splunk: a 2xx that is not a HEC reply is an endpoint error, not a delivery', async () => {
    const page = fakeFetch(
      () => new Response('<html>Welcome</html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    )
    const e = await createSink(hec, 'guid-guid-guid', { fetch: page.fetch })
      .send(docs)
      .catch((x: unknown) => x)
    expect(e).toBeInstanceOf(CollectorEndpointError)
    expect((e as Error).message).toMatch(/not a Splunk HEC reply/)
  })

  it('Splunk: the URL may be the base, /services/collector or /services/collector/event', async () => {
    for (const url of [
      'https://splunk.example.com:8088',
      'https://splunk.example.com:8088/services/collector',
      'https://splunk.example.com:8088/services/collector/',
      'https://splunk.example.com:8088/services/collector/event',
    ]) {
      const f = fakeFetch(() => json(200, { text: 'Success', code: 0 }))
      await createSink({ ...hec, url }, 'guid-guid-guid', { fetch: f.fetch }).send(docs)
      expect(f.requests[0]?.url, url).toBe('https://splunk.example.com:8088/services/collector/event')
    }
  })
})

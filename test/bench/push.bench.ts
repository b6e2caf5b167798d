// Push throughput into a real nginx (the recording collector of test/collectors, on its /bench/
// endpoints that read the whole body but log only its size), against the time to merely serialize the
// same batches (the sink's own serializer, same documents, same batch split) in the same run.
//
//   npx tsx test/bench/push.bench.ts                  100,000 documents
//   npx tsx test/bench/push.bench.ts --events 20000   quick run
//
// Ratio = push time / serialize time: what the network, the request handling and (with --gzip) the
// compression add on top of the work any pusher must do anyway. Targets (our own, the issue sets none):
// plain ≤ 3×, gzip ≤ 8× (gzip at zlib's default level costs several times JSON.stringify by itself).

import { sinkKey } from '../../src/core/sinks/batch'
import { elasticsearchAdapter } from '../../src/core/sinks/elasticsearch'
import type { ProtocolAdapter } from '../../src/core/sinks/http'
import { ndjsonAdapter } from '../../src/core/sinks/http-ndjson'
import { createSink } from '../../src/core/sinks/index'
import type { CollectorConfig } from '../../src/core/sinks/sink'
import { splunkAdapter } from '../../src/core/sinks/splunk-hec'
import { manyDocs } from '../collectors/docs'
import { CREDS, NginxCollector } from '../collectors/nginx'

const args = process.argv.slice(2)
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const EVENTS = opt('--events', 100_000)
const MB = 1024 * 1024
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

function verdict(name: string, ok: boolean, detail: string) {
  console.log(`VERDICT ${name}: ${ok ? 'PASS' : 'FAIL'} (${detail})`)
}

interface Case {
  name: string
  config: CollectorConfig
  secret: string
  adapter: (c: CollectorConfig) => ProtocolAdapter
}

async function main() {
  const nginx = new NginxCollector()
  await nginx.start()
  try {
    const docs = manyDocs(EVENTS)
    const base = nginx.baseUrl
    const es = (batchSize: number, gzip: boolean): Case => ({
      name: `elasticsearch batch ${batchSize}${gzip ? ' gzip' : ''}`,
      config: {
        id: 'bench',
        kind: 'elasticsearch',
        url: `${base}/bench`,
        auth: { scheme: 'basic', username: CREDS.esUser },
        batchSize,
        batchBytes: 256 * MB,
        gzip,
      },
      secret: CREDS.esPassword,
      adapter: elasticsearchAdapter,
    })
    const cases: Case[] = [
      es(1000, false),
      es(5000, false),
      es(1000, true),
      es(5000, true),
      {
        name: 'splunk-hec batch 1000',
        config: {
          id: 'b',
          kind: 'splunk-hec',
          url: `${base}/bench`,
          auth: { scheme: 'splunk' },
          batchSize: 1000,
          batchBytes: 256 * MB,
        },
        secret: CREDS.hecToken,
        adapter: splunkAdapter,
      },
      {
        name: 'http-ndjson batch 1000',
        config: {
          id: 'b',
          kind: 'http-ndjson',
          url: `${base}/bench/ingest`,
          auth: { scheme: 'bearer' },
          batchSize: 1000,
          batchBytes: 256 * MB,
        },
        secret: CREDS.bearer,
        adapter: ndjsonAdapter,
      },
    ]
    console.log(`push benchmark: ${EVENTS.toLocaleString('en-US')} documents into nginx at ${base} (loopback)`)
    // warm up the JIT, fetch's connection pool and nginx
    await createSink(cases[0].config, cases[0].secret).send(docs.slice(0, 2000))

    for (const c of cases) {
      // baseline: serialize the same batches with the sink's own serializer, nothing else
      const adapter = c.adapter(c.config)
      const batchSize = c.config.batchSize!
      // best of two, so that a hiccup of the machine does not flatter the ratio
      let bytes = 0
      let serializeMs = Number.POSITIVE_INFINITY
      for (let round = 0; round < 2; round++) {
        bytes = 0
        const t0 = performance.now()
        for (let i = 0; i < docs.length; i += batchSize) {
          const body = docs
            .slice(i, i + batchSize)
            .map((d) => adapter.serialize(d, sinkKey(d)))
            .join('')
          bytes += Buffer.byteLength(body)
        }
        serializeMs = Math.min(serializeMs, performance.now() - t0)
      }

      await nginx.clear()
      const sink = createSink(c.config, c.secret)
      const t1 = performance.now()
      const result = await sink.send(docs)
      const pushMs = performance.now() - t1
      if (result.delivered.length !== docs.length) {
        throw new Error(
          `${c.name}: only ${result.delivered.length} of ${docs.length} delivered (${result.transientError})`,
        )
      }
      const requests = await nginx.waitFor((r) => r.length >= Math.ceil(docs.length / batchSize))
      const ok = requests.filter((r) => r.status === 200)
      const wire = ok.reduce((s, r) => s + r.wireBytes, 0)
      if (ok.length !== Math.ceil(docs.length / batchSize))
        throw new Error(`${c.name}: nginx logged ${ok.length} requests`)
      const ratio = pushMs / serializeMs
      console.log(
        `${c.name.padEnd(30)} push ${fmt(pushMs / 1000, 2)} s = ${fmt(docs.length / (pushMs / 1000), 0)} events/s, ` +
          `${fmt(bytes / MB / (pushMs / 1000))} MB/s (${fmt(bytes / MB)} MB NDJSON, ${fmt(wire / MB)} MB on the wire, ${ok.length} requests); ` +
          `serialize ${fmt(serializeMs / 1000, 2)} s; ratio ${fmt(ratio, 2)}x`,
      )
      const target = c.config.gzip ? 8 : 3
      verdict(
        `${c.name} push/serialize <= ${target}x`,
        ratio <= target,
        `${fmt(ratio, 2)}x over ${docs.length.toLocaleString('en-US')} events`,
      )
    }
  } finally {
    await nginx.dispose()
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})

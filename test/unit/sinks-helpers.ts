// Shared by the sinks unit tests: small ECS documents and a scriptable fake fetch.
import { hash128 } from '../../src/core/ecs/identity'
import type { EcsDocument, Product } from '../../src/core/model'

export function makeDoc(i: number, product: Product = 'jira', site = 'https://acme.atlassian.net'): EcsDocument {
  return {
    '@timestamp': new Date(Date.UTC(2024, 0, 1, 0, 0, 0, i)).toISOString(),
    ecs: { version: '9.4.0' },
    event: {
      kind: 'event',
      hash: hash128(`doc-${product}-${i}`),
      dataset: `atlassian_${product}.audit`,
      action: `a${i}`,
    },
    atlassian: { product, site, deployment: 'cloud' },
  }
}

export interface RecordedRequest {
  url: string
  method: string
  headers: Record<string, string>
  body: string
  gzipped: boolean
}

export type Responder = (req: RecordedRequest, index: number) => Response | Promise<Response>

/** A fetch that records every request (ungzipping bodies) and answers with `responder`. */
export function fakeFetch(responder: Responder) {
  const requests: RecordedRequest[] = []
  const fn = async (input: string, init: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v
    })
    let body: string
    const gzipped = headers['content-encoding'] === 'gzip'
    if (typeof init.body === 'string') body = init.body
    else {
      const bytes = init.body as Uint8Array
      const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      body = await new Response(gzipped ? stream.pipeThrough(new DecompressionStream('gzip')) : stream).text()
    }
    const req = { url: input, method: init.method ?? 'GET', headers, body, gzipped }
    requests.push(req)
    return responder(req, requests.length - 1)
  }
  return { fetch: fn, requests }
}

export const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } })

// A real nginx (Debian nginx + libnginx-mod-http-echo) as a recording collector for tests and the push
// benchmark. Configuration adapted from docs collectors-and-ecs.md §3: every sink location checks the
// credentials, reads the body and writes the request as one JSON line to logs/received.ndjson.
// Failure on demand: a file flag `flags/<endpoint>-<status>` makes that endpoint answer 429/503 until the
// file is removed; stop()/start() takes the whole collector down and up again on the same port.
// nginx limits requests on the /limited/ copies of the endpoints (limit_req → real 429 bursts).

import { type ChildProcess, spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

export const NGINX_BIN = '/usr/sbin/nginx'
export const ECHO_MODULE = '/usr/lib/nginx/modules/ngx_http_echo_module.so'

/** Credentials the recording collector accepts (test values, not secrets). */
export const CREDS = {
  esUser: 'elastic',
  esPassword: 'changeme',
  esApiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
  hecToken: '00000000-0000-0000-0000-000000000000',
  bearer: 'test-token',
  headerName: 'X-Api-Key',
  headerValue: 'ndjson-key',
}

/** Endpoints whose failure can be switched on with setFailure(). */
export type Endpoint = 'es' | 'hec' | 'nd'

export interface ReceivedRequest {
  status: number
  method: string
  uri: string
  ctype: string
  cenc: string
  auth: string
  /** The request body (gunzipped when it came compressed). */
  body: string
  /** Raw body size on the wire. */
  wireBytes: number
}

/** A canned `_bulk` answer with per-item results, in request order: 201, 429, 400, 409. */
export const CANNED_ITEMS_RESPONSE = JSON.stringify({
  took: 2,
  errors: true,
  items: [
    { create: { _index: 'logs-atlassian_jira.audit-default', _id: 'a', status: 201, result: 'created' } },
    {
      create: {
        _index: 'logs-atlassian_jira.audit-default',
        _id: 'b',
        status: 429,
        error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' },
      },
    },
    {
      create: {
        _index: 'logs-atlassian_jira.audit-default',
        _id: 'c',
        status: 400,
        error: {
          type: 'document_parsing_exception',
          reason: '[1:42] failed to parse field [source.ip] of type [ip]',
        },
      },
    },
    {
      create: {
        _index: 'logs-atlassian_jira.audit-default',
        _id: 'd',
        status: 409,
        error: { type: 'version_conflict_engine_exception', reason: '[d]: version conflict, document already exists' },
      },
    },
  ],
})

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

// nginx `echo` and `return` take a quoted string: escape ' and \ for a single-quoted nginx string.
const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

function sinkLocation(opts: {
  match: string
  endpoint: Endpoint
  auth: string
  reply: string
  status?: number
  gzipFile?: boolean
  limited?: boolean
  record?: 'full' | 'size'
  dir: string
}): string {
  const flags = join(opts.dir, 'flags', opts.endpoint)
  const busy503 = opts.endpoint === 'hec' ? '{"text":"Server is busy","code":9}' : '{"error":"unavailable"}'
  const log =
    opts.record === 'size'
      ? 'access_log logs/received.ndjson sinksize;'
      : opts.gzipFile
        ? 'access_log logs/received.ndjson sinkfile;'
        : 'access_log logs/received.ndjson sink;'
  return `
    location ${opts.match} {
      ${log}
      ${opts.limited ? 'limit_req zone=burst nodelay; limit_req_status 429;' : ''}
      if (-f ${flags}-503) { return 503 ${q(busy503)}; }
      if (-f ${flags}-429) { return 429 ${q('{"error":"too many requests"}')}; }
      ${opts.auth}
      ${opts.gzipFile ? 'client_body_in_file_only on; client_body_temp_path tmp/bodies;' : ''}
      echo_read_request_body;
      ${opts.status ? `echo_status ${opts.status};` : ''}
      echo ${q(opts.reply)};
    }`
}

function nginxConf(dir: string, port: number): string {
  const esOk = '{"took":1,"errors":false,"items":[]}'
  const hecOk = '{"text":"Success","code":0}'
  const basic = 'auth_basic "es"; auth_basic_user_file htpasswd;'
  const apikey = `if ($http_authorization != ${q(`ApiKey ${CREDS.esApiKey}`)}) { return 401 ${q('{"error":{"type":"security_exception","reason":"unable to authenticate with provided credentials and anonymous access is not allowed for this request"},"status":401}')}; }`
  const splunk = `if ($http_authorization = "") { return 401 ${q('{"text":"Token is required","code":2}')}; }
      if ($http_authorization != ${q(`Splunk ${CREDS.hecToken}`)}) { return 403 ${q('{"text":"Invalid token","code":4}')}; }`
  const bearer = `if ($http_authorization != ${q(`Bearer ${CREDS.bearer}`)}) { return 401; }`
  const header = `if ($http_x_api_key != ${q(CREDS.headerValue)}) { return 403; }`
  const locations: string[] = []
  // regex locations match in order: the specific prefixes first, the catch-all `/<index>/_bulk` last
  for (const prefix of ['/gz', '/limited', '']) {
    const common = { dir, gzipFile: prefix === '/gz', limited: prefix === '/limited' }
    locations.push(
      sinkLocation({
        ...common,
        match: `~ ^${prefix}/apikey(?:/[^/]+)?/_bulk$`,
        endpoint: 'es',
        auth: apikey,
        reply: esOk,
      }),
      sinkLocation({ ...common, match: `~ ^${prefix}/(?:[^/]+/)?_bulk$`, endpoint: 'es', auth: basic, reply: esOk }),
      sinkLocation({ ...common, match: `${prefix}/services/collector`, endpoint: 'hec', auth: splunk, reply: hecOk }),
      sinkLocation({ ...common, match: `= ${prefix}/ingest`, endpoint: 'nd', auth: bearer, reply: '{"ok":true}' }),
      sinkLocation({ ...common, match: `= ${prefix}/webhook`, endpoint: 'nd', auth: header, reply: '', status: 204 }),
    )
  }
  // canned per-item errors (201, 429, 400, 409) for a 4-document _bulk request
  locations.push(
    sinkLocation({ dir, match: '= /items/_bulk', endpoint: 'es', auth: basic, reply: CANNED_ITEMS_RESPONSE }),
    // an NDJSON endpoint that refuses every batch (400 after reading it)
    sinkLocation({
      dir,
      match: '= /reject/ingest',
      endpoint: 'nd',
      auth: bearer,
      reply: '{"error":"mapping"}',
      status: 400,
    }),
    // the benchmark endpoints: read the whole body, log only its size
    sinkLocation({ dir, match: '= /bench/_bulk', endpoint: 'es', auth: basic, reply: esOk, record: 'size' }),
    sinkLocation({ dir, match: '= /bench/ingest', endpoint: 'nd', auth: bearer, reply: '{"ok":true}', record: 'size' }),
    sinkLocation({
      dir,
      match: '/bench/services/collector',
      endpoint: 'hec',
      auth: splunk,
      reply: hecOk,
      record: 'size',
    }),
  )
  return `load_module ${ECHO_MODULE};
daemon off;
master_process on;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 256; }
http {
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  access_log off;
  # one JSON object per request; escape=json turns the NDJSON newlines into \\n
  log_format sink escape=json '{"status":$status,"method":"$request_method","uri":"$request_uri",'
      '"ctype":"$content_type","cenc":"$http_content_encoding","auth":"$http_authorization",'
      '"xkey":"$http_x_api_key","len":"$content_length","body":"$request_body"}';
  log_format sinkfile escape=json '{"status":$status,"method":"$request_method","uri":"$request_uri",'
      '"ctype":"$content_type","cenc":"$http_content_encoding","auth":"$http_authorization",'
      '"xkey":"$http_x_api_key","len":"$content_length","file":"$request_body_file"}';
  log_format sinksize escape=json '{"status":$status,"method":"$request_method","uri":"$request_uri",'
      '"cenc":"$http_content_encoding","len":"$content_length"}';
  limit_req_zone $server_port zone=burst:1m rate=20r/s;
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 64m;
    client_body_buffer_size 64m;      # the body must fit in memory, or $request_body is empty
    default_type application/json;
    keepalive_requests 100000;
    location = /health { return 200 '{"ok":true}'; }
${locations.join('\n')}
  }
}
`
}

export class NginxCollector {
  readonly dir: string
  port = 0
  private child?: ChildProcess
  private stderr = ''

  constructor() {
    if (!existsSync(NGINX_BIN)) {
      throw new Error(
        `${NGINX_BIN} is missing: apt-get install -y --no-install-recommends nginx libnginx-mod-http-echo`,
      )
    }
    if (!existsSync(ECHO_MODULE)) {
      throw new Error(`${ECHO_MODULE} is missing: apt-get install -y --no-install-recommends libnginx-mod-http-echo`)
    }
    this.dir = mkdtempSync(join(tmpdir(), 'nginx-collector-'))
    // run as root, nginx workers are `nobody`: they must reach htpasswd, the flags and the body files
    chmodSync(this.dir, 0o755)
    for (const d of ['logs', 'tmp/bodies', 'flags']) mkdirSync(join(this.dir, d), { recursive: true })
    writeFileSync(join(this.dir, 'htpasswd'), `${CREDS.esUser}:{PLAIN}${CREDS.esPassword}\n`)
    writeFileSync(join(this.dir, 'logs/received.ndjson'), '')
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Start (or restart on the same port) and wait until /health answers. */
  async start(): Promise<void> {
    if (this.running) return
    if (this.port === 0) {
      this.port = await freePort()
      writeFileSync(join(this.dir, 'nginx.conf'), nginxConf(this.dir, this.port))
    }
    this.stderr = ''
    const child = spawn(NGINX_BIN, ['-p', `${this.dir}/`, '-c', join(this.dir, 'nginx.conf'), '-e', 'stderr'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    this.child = child
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
    })
    const deadline = Date.now() + 10_000
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}): ${this.stderr || this.errorLog()}`)
      }
      try {
        const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(1000) })
        if (res.ok) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`nginx did not answer /health within 10 s: ${this.stderr}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** Stop nginx (SIGQUIT = graceful: in-flight requests complete) and wait for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGQUIT'): Promise<void> {
    const child = this.child
    if (!child || !this.running) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill(signal)
    })
  }

  /** Stop and delete the temp directory. */
  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Make an endpoint answer `status` (429 or 503) until switched off. */
  setFailure(endpoint: Endpoint, status: 429 | 503, on: boolean): void {
    const file = join(this.dir, 'flags', `${endpoint}-${status}`)
    if (on) writeFileSync(file, '')
    else rmSync(file, { force: true })
  }

  clearFailures(): void {
    for (const e of ['es', 'hec', 'nd'] as const) for (const s of [429, 503] as const) this.setFailure(e, s, false)
  }

  /**
   * Every request so far, once the log has been quiet for a moment: nginx writes a request's log line
   * after it sent the answer, so a client can be done before its line is there.
   */
  async settle(): Promise<ReceivedRequest[]> {
    const file = join(this.dir, 'logs/received.ndjson')
    let size = statSync(file).size
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 30))
      const now = statSync(file).size
      if (now === size) break
      size = now
    }
    return this.requests()
  }

  /** Forget what was recorded so far (after late lines of earlier requests arrived). */
  async clear(): Promise<void> {
    await this.settle()
    truncateSync(join(this.dir, 'logs/received.ndjson'), 0)
  }

  errorLog(): string {
    const file = join(this.dir, 'logs/error.log')
    return existsSync(file) ? readFileSync(file, 'utf8') : ''
  }

  /** Every request logged so far (all statuses), bodies resolved and gunzipped. */
  requests(): ReceivedRequest[] {
    const text = readFileSync(join(this.dir, 'logs/received.ndjson'), 'utf8')
    const out: ReceivedRequest[] = []
    for (const line of text.split('\n')) {
      if (line === '') continue
      const r = JSON.parse(line) as Record<string, string | number>
      let body = typeof r.body === 'string' ? r.body : ''
      let wireBytes = Number(r.len) || 0
      if (typeof r.file === 'string' && r.file !== '') {
        const raw = readFileSync(r.file)
        wireBytes = raw.length
        body = (r.cenc === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')
      }
      out.push({
        status: Number(r.status),
        method: String(r.method ?? ''),
        uri: String(r.uri ?? ''),
        ctype: String(r.ctype ?? ''),
        cenc: String(r.cenc ?? ''),
        auth: String(r.auth || r.xkey || ''),
        body,
        wireBytes,
      })
    }
    return out
  }

  /** Requests answered 2xx, as logged so far (see settle() for requests that just completed). */
  accepted(): ReceivedRequest[] {
    return this.requests().filter((r) => r.status >= 200 && r.status < 300)
  }

  /** Requests answered 2xx, once the log settled. */
  async acceptedSettled(): Promise<ReceivedRequest[]> {
    return (await this.settle()).filter((r) => r.status >= 200 && r.status < 300)
  }

  /** Poll until `predicate` holds (nginx writes the log line when the request completes). */
  async waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 5000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const requests = this.requests()
      if (predicate(requests)) return requests
      if (Date.now() > deadline) return requests
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}

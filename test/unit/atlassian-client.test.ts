import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { Authenticator } from '../../src/core/atlassian/auth'
import { createAuthenticator } from '../../src/core/atlassian/auth'
import type { FetchLike } from '../../src/core/atlassian/client'
import { AtlassianClient, discoverCloudId, serverRequestedDelay } from '../../src/core/atlassian/client'
import {
  AtlassianError,
  EndpointNotFoundError,
  HttpError,
  InvalidCredentialsError,
  MalformedResponseError,
  NoAuditLogPlanError,
  NotAdminError,
  RateLimitedError,
  ScopeMismatchError,
  ServerError,
  SessionExpiredError,
  SiteUnreachableError,
} from '../../src/core/atlassian/errors'
import type { AuthMode, Credential } from '../../src/core/model'

const errorsFixture = JSON.parse(
  readFileSync(new URL('./fixtures/atlassian/atlassian-errors.examples.json', import.meta.url), 'utf8'),
) as Record<string, { status: number; body: unknown; headers?: Record<string, string> }>

const SECRET = 'ATATT3xFfGF0-super-secret-token-value'
const SITE = 'https://acme.atlassian.net'
const PURPOSE = {
  path: '/wiki/rest/api/audit',
  requiredRole: 'Confluence Administrator',
  scopes: 'read:audit-log:confluence',
}

type Step = Response | Error | (() => Response | Promise<Response>)

function scripted(steps: Step[]): { fetch: FetchLike; calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = []
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init })
    const step = steps.shift()
    if (!step) throw new Error('no more scripted responses')
    if (step instanceof Error) throw step
    return typeof step === 'function' ? step() : step
  }
  return { fetch, calls }
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

function setup(steps: Step[], mode: AuthMode = 'basic', extra: Partial<Credential> = {}) {
  const { fetch, calls } = scripted(steps)
  const sleeps: number[] = []
  const logs: string[] = []
  const credential: Credential = { mode, email: 'admin@acme.test', secret: SECRET, ...extra }
  const auth: Authenticator = createAuthenticator({
    target: { url: SITE, product: 'confluence', deployment: mode === 'pat' ? 'dc' : 'cloud' },
    credential,
    cloudId: 'cloud-1',
  })
  const client = new AtlassianClient(
    {
      fetch,
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      random: () => 0.5,
      now: () => Date.parse('2025-02-27T18:50:00Z'),
      log: (l) => logs.push(l),
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      maxTotalWaitMs: 120_000,
      maxAttempts: 4,
    },
    auth,
  )
  const get = () => client.getJson(auth.prepare('/wiki/rest/api/audit', { limit: '10' }), auth, PURPOSE)
  return { client, auth, get, calls, sleeps, logs }
}

async function failure(p: Promise<unknown>): Promise<AtlassianError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(AtlassianError)
    return e as AtlassianError
  }
  throw new Error('expected a failure')
}

describe('retries', () => {
  it('retries 5xx, network errors and cut-off JSON, then succeeds', async () => {
    const t = setup([
      new Response('oops', { status: 503 }),
      new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }),
      new Response('{"results":[{"a":1', { status: 200, headers: { 'content-type': 'application/json' } }),
      json({ results: [] }),
    ])
    const res = await t.get()
    expect(res.body).toEqual({ results: [] })
    expect(res.attempts).toBe(4)
    expect(t.calls).toHaveLength(4)
    // exponential: 100, 200, 400 with the jitter (random 0.5 → 75 % of the step)
    expect(t.sleeps).toEqual([75, 150, 300])
    expect(t.logs.join('\n')).toMatch(/HTTP 503.*retrying/)
  })

  it('gives up with ServerError / SiteUnreachableError / MalformedResponseError after maxAttempts', async () => {
    const five = setup(Array.from({ length: 4 }, () => new Response('x', { status: 502 })))
    const e1 = await failure(five.get())
    expect(e1).toBeInstanceOf(ServerError)
    expect(e1.code).toBe('server-error')
    expect(e1.message).toMatch(/HTTP 502 \(4 attempts\).*retry later/)

    const net = setup(
      Array.from({ length: 4 }, () => new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })),
    )
    const e2 = await failure(net.get())
    expect(e2).toBeInstanceOf(SiteUnreachableError)
    expect(e2.message).toMatch(/Could not reach https:\/\/acme\.atlassian\.net \(network error ECONNREFUSED/)

    const cut = setup(Array.from({ length: 4 }, () => new Response('{"results":[', { status: 200 })))
    const e3 = await failure(cut.get())
    expect(e3).toBeInstanceOf(MalformedResponseError)
    expect(e3.message).toMatch(/truncated or invalid JSON/)
  })

  it('times out a hanging request and retries it', async () => {
    const { fetch } = scripted([
      () =>
        new Promise<Response>(() => {
          /* never answers; the client's timeout must abort it */
        }) as Promise<Response>,
      json({ ok: 1 }),
    ])
    const hanging: FetchLike = (url, init) =>
      new Promise((resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason))
        fetch(url, init).then(resolve, reject)
      })
    const auth = createAuthenticator({
      target: { url: SITE, product: 'jira', deployment: 'cloud' },
      credential: { mode: 'basic', email: 'a@b.c', secret: SECRET },
    })
    const client = new AtlassianClient({ fetch: hanging, timeoutMs: 50, backoffBaseMs: 1 }, auth)
    const res = await client.getJson(auth.prepare('/x'), auth, { path: '/x' })
    expect(res.body).toEqual({ ok: 1 })
    expect(res.attempts).toBe(2)
  })

  it('stops at once when the caller aborts', async () => {
    const controller = new AbortController()
    const { fetch } = scripted([new Response('x', { status: 500 }), json({})])
    const auth = createAuthenticator({
      target: { url: SITE, product: 'jira', deployment: 'cloud' },
      credential: { mode: 'basic', email: 'a@b.c', secret: SECRET },
    })
    const client = new AtlassianClient(
      {
        fetch,
        sleep: async () => {
          controller.abort(new Error('user cancelled'))
        },
      },
      auth,
    )
    await expect(client.getJson(auth.prepare('/x'), auth, { path: '/x' }, controller.signal)).rejects.toThrow(
      'user cancelled',
    )
  })
})

describe('429 handling', () => {
  const now = Date.parse('2025-02-27T18:50:00Z')

  it('reads Retry-After seconds, Retry-After dates and X-RateLimit-Reset', () => {
    expect(serverRequestedDelay(new Headers({ 'retry-after': '5' }), now)).toBe(5000)
    expect(serverRequestedDelay(new Headers({ 'retry-after': 'Thu, 27 Feb 2025 18:50:07 GMT' }), now)).toBe(7000)
    expect(serverRequestedDelay(new Headers({ 'x-ratelimit-reset': '2025-02-27T18:51Z' }), now)).toBe(60_000)
    expect(serverRequestedDelay(new Headers({ 'retry-after': 'Thu, 27 Feb 2025 18:40:00 GMT' }), now)).toBe(0)
    expect(serverRequestedDelay(new Headers({}), now)).toBeUndefined()
  })

  it('waits at least what the server asks, then continues', async () => {
    const t = setup([
      new Response('', { status: 429, headers: errorsFixture.jira_cloud_429.headers }),
      new Response('', { status: 429, headers: { 'retry-after': 'Thu, 27 Feb 2025 18:50:02 GMT' } }),
      new Response('', { status: 429, headers: { 'x-ratelimit-reset': '2025-02-27T18:51Z' } }),
      new Response('', { status: 429 }),
      json({ results: [] }),
    ])
    await t.get()
    // server-requested delays + jitter (random 0.5 × min(1000, base 100) = 50); no header → own backoff
    expect(t.sleeps).toEqual([5050, 2050, 60_050, 600])
  })

  it('a delay that is already due does not cut the own backoff: no burst of retries against a limiting site', async () => {
    // X-RateLimit-Reset has minute precision: truncated to the current minute it is already past
    const due = { 'x-ratelimit-reset': '2025-02-27T18:50Z' }
    const t = setup([
      new Response('', { status: 429, headers: due }),
      new Response('', { status: 429, headers: { 'retry-after': '0' } }),
      new Response('', { status: 429, headers: due }),
      new Response('', { status: 429, headers: due }),
      new Response('', { status: 429, headers: { 'retry-after': '2' } }),
      json({ results: [] }),
    ])
    await t.get()
    // own backoff (base 100 doubling, capped at 1000, half jittered with random 0.5) + 50 jitter; Retry-After 2 s wins
    expect(t.sleeps).toEqual([125, 200, 350, 650, 2050])
  })

  it('reports no retry time that is already past when it gives up', async () => {
    const due = { 'x-ratelimit-reset': '2025-02-27T18:50Z' }
    const steps = Array.from({ length: 20 }, () => new Response('', { status: 429, headers: due }))
    const t = setup(steps)
    const e = await failure(t.get())
    expect(e).toBeInstanceOf(RateLimitedError)
    expect(e.message).toMatch(/Try again in a few minutes/)
    expect(t.sleeps.every((ms) => ms >= 100)).toBe(true)
  })

  it('a 5xx is retried on Retry-After or the own backoff, never held off by X-RateLimit-Reset', async () => {
    const t = setup([
      new Response('bad gateway', { status: 502, headers: { 'x-ratelimit-reset': '2025-02-27T19:30Z' } }),
      new Response('busy', { status: 503, headers: { 'retry-after': '3' } }),
      json({ results: [] }),
    ])
    await t.get()
    expect(t.sleeps).toEqual([75, 3050])
  })

  it('throws RateLimitedError when the total wait cap would be exceeded', async () => {
    const t = setup([
      new Response('', { status: 429, headers: { 'retry-after': '30' } }),
      new Response('', { status: 429, headers: { 'retry-after': '100' } }),
    ])
    const e = await failure(t.get())
    expect(e).toBeInstanceOf(RateLimitedError)
    expect(e.code).toBe('rate-limited')
    expect(e.message).toMatch(/HTTP 429.*after 30 s of waiting.*Try again after 2025-02-27T18:51:40/)
    expect(t.sleeps).toEqual([30_050])
  })
})

describe('typed failures', () => {
  const cases: [string, Step, AuthMode, new (...a: never[]) => AtlassianError, RegExp][] = [
    [
      '401 with the session',
      json(errorsFixture.jira_cloud_401_unauthenticated_json.body, 401),
      'session',
      SessionExpiredError,
      /Sign in to https:\/\/acme\.atlassian\.net again/,
    ],
    [
      '302 to the login page',
      new Response(null, { status: 302, headers: { location: 'https://id.atlassian.com/login' } }),
      'session',
      SessionExpiredError,
      /redirected to a login page/,
    ],
    [
      'HTML where JSON was expected',
      new Response('<!DOCTYPE html><html><body>Log in</body></html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      }),
      'session',
      SessionExpiredError,
      /HTML page/,
    ],
    [
      '401 with an API token',
      new Response(String(errorsFixture.jira_cloud_401_unauthenticated_text.body), {
        status: 401,
        headers: { 'content-type': 'text/plain' },
      }),
      'basic',
      InvalidCredentialsError,
      /rejected the e-mail address and API token.*--auth scoped/,
    ],
    [
      '401 with a PAT',
      json(errorsFixture.jira_cloud_401_unauthenticated_alt_json.body, 401),
      'pat',
      InvalidCredentialsError,
      /rejected the personal access token/,
    ],
    [
      '401 scope does not match',
      json(errorsFixture.confluence_cloud_401_scope_mismatch.body, 401),
      'scoped',
      ScopeMismatchError,
      /scope does not match.*read:audit-log:confluence/,
    ],
    [
      '403 not an admin',
      json(errorsFixture.confluence_v1_error_shape_403.body, 403),
      'basic',
      NotAdminError,
      /may not read its audit log.*Confluence Administrator/,
    ],
    [
      '403 Jira Free plan',
      json(errorsFixture.jira_cloud_403_all_products_free.body, 403),
      'basic',
      NoAuditLogPlanError,
      /no audit log on its current plan/,
    ],
    [
      '403 Confluence Free edition',
      json(
        {
          statusCode: 403,
          message:
            errorsFixture.confluence_cloud_free_plan_audit.body ??
            'Cannot make this request because you are on Free edition. Please upgrade to standard or premium.',
        },
        403,
      ),
      'session',
      NoAuditLogPlanError,
      /Standard or Premium/,
    ],
    [
      '403 organization without Atlassian Guard',
      json(
        {
          errors: [
            {
              status: '403',
              title: 'Forbidden',
              detail:
                'Audit log is not available for this organization. Subscribe to Atlassian Guard to access audit log events.',
            },
          ],
        },
        403,
      ),
      'basic', // (the body decides; the setup's target is a Confluence site)
      NoAuditLogPlanError,
      /organization audit log needs an Atlassian Guard/,
    ],
    [
      '404 missing API',
      json({ message: 'null for uri' }, 404),
      'pat',
      EndpointNotFoundError,
      /has no \/wiki\/rest\/api\/audit \(HTTP 404\)/,
    ],
  ]
  for (const [name, step, mode, cls, message] of cases) {
    it(`${name} → ${cls.name}`, async () => {
      const t = setup([step], mode)
      const e = await failure(t.get())
      expect(e).toBeInstanceOf(cls)
      expect(e.message).toMatch(message)
      expect(e.message).not.toContain(SECRET)
      expect(t.calls).toHaveLength(1) // not retried
    })
  }

  it('an opaque redirect (browser redirect:"manual") is an expired session', async () => {
    const res = new Response(null, { status: 200 })
    Object.defineProperty(res, 'type', { value: 'opaqueredirect' })
    Object.defineProperty(res, 'status', { value: 0 })
    const t = setup([res], 'session')
    expect(await failure(t.get())).toBeInstanceOf(SessionExpiredError)
  })

  it('a token mode redirected elsewhere is told where, not that its credentials were rejected', async () => {
    const moved = new Response(null, {
      status: 301,
      headers: { location: 'https://acme-new.atlassian.net/wiki/rest/api/audit?limit=10' },
    })
    const t = setup([moved], 'basic')
    const e = await failure(t.get())
    expect(e).toBeInstanceOf(HttpError)
    expect(e.message).toMatch(
      /redirected \/wiki\/rest\/api\/audit to https:\/\/acme-new\.atlassian\.net\/wiki\/rest\/api\/audit \(HTTP 301\)/,
    )
    expect(e.message).not.toContain('limit=10')
    expect(t.calls).toHaveLength(1) // not followed
    // a redirect to a login page is still a rejected credential in token modes, an expired session in session mode
    const login = () => new Response(null, { status: 302, headers: { location: '/login.jsp?os_destination=%2Fwiki' } })
    expect(await failure(setup([login()], 'pat').get())).toBeInstanceOf(InvalidCredentialsError)
    expect(await failure(setup([login()], 'session').get())).toBeInstanceOf(SessionExpiredError)
    expect(await failure(setup([moved.clone()], 'session').get())).toBeInstanceOf(SessionExpiredError)
  })

  it('every failure class has its own stable code', () => {
    const codes = [
      new SessionExpiredError('o', 'x').code,
      new InvalidCredentialsError('o', 'API token', '').code,
      new NotAdminError('o', 'admin').code,
      new NoAuditLogPlanError('o').code,
      new ScopeMismatchError('o', 's').code,
      new RateLimitedError('o', 1).code,
      new SiteUnreachableError('o', 'x').code,
      new ServerError('o', 1).code,
      new MalformedResponseError('o', 'x').code,
      new EndpointNotFoundError('o', '/p', 'h').code,
    ]
    expect(new Set(codes).size).toBe(codes.length)
  })
})

describe('secrets', () => {
  it('never appear in messages or log lines, even when a server echoes them', async () => {
    const echo = `bad token ${SECRET} and Basic ${btoa(`admin@acme.test:${SECRET}`)}`
    const t = setup([
      new TypeError(`fetch failed for ${SECRET}`),
      new Response(echo, { status: 500 }),
      new Response(echo, { status: 500 }),
      new Response(echo, { status: 500 }),
    ])
    const e = await failure(t.get())
    const all = [e.message, ...t.logs].join('\n')
    expect(all).not.toContain(SECRET)
    expect(all).not.toContain(btoa(`admin@acme.test:${SECRET}`))
  })

  it('redacts cookie values of a session Cookie header', () => {
    const cookie = 'tenant.session.token=eyJhbGciOiJIUzI1NiJ9.payload.sig; atlassian.xsrf.token=ABCD-1234-xyz'
    const t = setup([], 'session', { secret: cookie })
    expect(t.client.redact(`got eyJhbGciOiJIUzI1NiJ9.payload.sig back`)).toBe('got [redacted] back')
    expect(t.client.redact('xsrf ABCD-1234-xyz')).toBe('xsrf [redacted]')
  })
})

describe('discoverCloudId', () => {
  it('asks /_edge/tenant_info without any credential', async () => {
    const { fetch, calls } = scripted([json({ cloudId: 'c0ffee', baseUrl: SITE })])
    const client = new AtlassianClient({ fetch })
    expect(await discoverCloudId(client, SITE)).toBe('c0ffee')
    expect(calls[0].url).toBe(`${SITE}/_edge/tenant_info`)
    expect(calls[0].init.credentials).toBe('omit')
    expect(JSON.stringify(calls[0].init.headers)).not.toMatch(/authorization|cookie/i)
  })
})

import { describe, expect, it } from 'vitest'
import { createAuthenticator, defaultAuthMode, selectCredential } from '../../src/core/atlassian/auth'
import { AuthConfigError } from '../../src/core/atlassian/errors'

const SECRET = 'tok-0123456789abcdef'

describe('authenticators', () => {
  it('session: cookies only, no Authorization header; the CLI Cookie value becomes a Cookie header', () => {
    const browser = createAuthenticator({
      target: { url: 'https://acme.atlassian.net/', product: 'confluence', deployment: 'cloud' },
      credential: { mode: 'session' },
    })
    const r = browser.prepare('/wiki/rest/api/audit', { limit: '1' })
    expect(r).toEqual({
      url: 'https://acme.atlassian.net/wiki/rest/api/audit?limit=1',
      headers: { Accept: 'application/json' },
      credentials: 'include',
    })
    const cli = createAuthenticator({
      target: { url: 'https://acme.atlassian.net', product: 'confluence', deployment: 'cloud' },
      credential: { mode: 'session', secret: 'tenant.session.token=abc.def.ghi' },
    })
    const h = cli.prepare('/x').headers
    expect(h.Cookie).toBe('tenant.session.token=abc.def.ghi')
    expect(h.Authorization).toBeUndefined()
    expect(cli.secrets).toContain('abc.def.ghi')
  })

  it('basic: e-mail + API token against the site, no cookies', () => {
    const a = createAuthenticator({
      target: { url: 'https://acme.atlassian.net', product: 'jira', deployment: 'cloud' },
      credential: { mode: 'basic', email: 'ädmin@acme.test', secret: SECRET },
    })
    const r = a.prepare('/rest/api/3/auditing/record')
    expect(r.url).toBe('https://acme.atlassian.net/rest/api/3/auditing/record')
    expect(r.credentials).toBe('omit')
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(r.headers.Authorization.slice(6)), (c) => c.charCodeAt(0)),
    )
    expect(decoded).toBe(`ädmin@acme.test:${SECRET}`)
    expect(a.secrets).toContain(r.headers.Authorization.slice(6))
  })

  it('scoped: always through the gateway with the cloudId, never the site', () => {
    const a = createAuthenticator({
      target: { url: 'https://acme.atlassian.net', product: 'confluence', deployment: 'cloud' },
      credential: { mode: 'scoped', email: 'a@acme.test', secret: SECRET },
      gatewayUrl: 'http://127.0.0.1:9999/gateway/',
      cloudId: 'cid-1',
    })
    const r = a.prepare('/wiki/rest/api/audit', { start: '0' })
    expect(r.url).toBe('http://127.0.0.1:9999/gateway/ex/confluence/cid-1/wiki/rest/api/audit?start=0')
    expect(r.credentials).toBe('omit')
    expect(r.headers.Authorization).toMatch(/^Basic /)
    expect(() =>
      createAuthenticator({
        target: { url: 'https://bb.acme.test', product: 'bitbucket', deployment: 'dc' },
        credential: { mode: 'scoped', email: 'a', secret: SECRET },
        cloudId: 'x',
      }),
    ).toThrow(AuthConfigError)
    expect(() =>
      createAuthenticator({
        target: { url: 'https://acme.atlassian.net', product: 'jira', deployment: 'cloud' },
        credential: { mode: 'scoped', email: 'a', secret: SECRET },
      }),
    ).toThrow(/cloudId/)
  })

  it('pat: Bearer on Data Center only, no cookies', () => {
    const a = createAuthenticator({
      target: { url: 'https://jira.acme.test/jira', product: 'jira', deployment: 'dc' },
      credential: { mode: 'pat', email: 'ignored@acme.test', secret: SECRET },
    })
    const r = a.prepare('/rest/auditing/1.0/events')
    expect(r.url).toBe('https://jira.acme.test/jira/rest/auditing/1.0/events')
    expect(r.headers.Authorization).toBe(`Bearer ${SECRET}`)
    expect(r.credentials).toBe('omit')
    expect(() =>
      createAuthenticator({
        target: { url: 'https://acme.atlassian.net', product: 'jira', deployment: 'cloud' },
        credential: { mode: 'pat', secret: SECRET },
      }),
    ).toThrow(/Data Center/)
  })

  it('org-key: Bearer, only to the gateway admin API', () => {
    const a = createAuthenticator({
      target: { url: 'https://admin.atlassian.com', product: 'org', deployment: 'cloud' },
      credential: { mode: 'org-key', secret: SECRET },
    })
    expect(a.prepare('/admin/v1/orgs').url).toBe('https://api.atlassian.com/admin/v1/orgs')
    expect(() => a.prepare('/wiki/rest/api/audit')).toThrow(AuthConfigError)
    expect(() =>
      createAuthenticator({
        target: { url: 'https://acme.atlassian.net', product: 'jira', deployment: 'cloud' },
        credential: { mode: 'org-key', secret: SECRET },
      }),
    ).toThrow(/organization audit log/)
    expect(() =>
      createAuthenticator({
        target: { url: 'https://admin.atlassian.com', product: 'org', deployment: 'cloud' },
        credential: { mode: 'basic', email: 'a', secret: SECRET },
      }),
    ).toThrow(/organization API key/)
  })

  it('refuses user info in the site URL and missing secrets', () => {
    expect(() =>
      createAuthenticator({
        target: { url: 'https://me:pw@acme.atlassian.net', product: 'jira', deployment: 'cloud' },
        credential: { mode: 'session' },
      }),
    ).toThrow(/user name or password/)
    expect(() =>
      createAuthenticator({
        target: { url: 'https://acme.atlassian.net', product: 'jira', deployment: 'cloud' },
        credential: { mode: 'basic', email: 'a@b.c' },
      }),
    ).toThrow(/missing/)
  })
})

describe('choosing a mode', () => {
  it('CLI default: org-key for org, basic with an e-mail, pat on dc, else session', () => {
    expect(defaultAuthMode({ product: 'org', deployment: 'cloud', email: 'a' })).toBe('org-key')
    expect(defaultAuthMode({ product: 'jira', deployment: 'cloud', email: 'a' })).toBe('basic')
    expect(defaultAuthMode({ product: 'jira', deployment: 'dc' })).toBe('pat')
    expect(defaultAuthMode({ product: 'confluence', deployment: 'cloud' })).toBe('session')
  })

  it('a PAT wins over e-mail + token on Data Center', () => {
    const stored = [
      { mode: 'basic' as const, email: 'a@b.c', secret: 'pw' },
      { mode: 'pat' as const, secret: 'pat' },
    ]
    expect(selectCredential({ deployment: 'dc', auth: 'basic' }, stored).mode).toBe('pat')
    expect(selectCredential({ deployment: 'cloud', auth: 'basic' }, stored).mode).toBe('basic')
    expect(() => selectCredential({ deployment: 'cloud', auth: 'basic' }, [])).toThrow(AuthConfigError)
  })
})

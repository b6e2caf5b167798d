import { describe, expect, it } from 'vitest'
import { siteOrigins } from '../../src/extension/site-origins'
import { detectSite, normalizeSiteUrl } from '../../src/extension/ui/detect-site'

describe('detectSite (popup "Add this site")', () => {
  it.each([
    ['https://acme.atlassian.net/wiki/spaces/ENG/overview', 'confluence'],
    ['https://acme.atlassian.net/jira/software/projects/ABC/boards/1', 'jira'],
    ['https://acme.atlassian.net/browse/ABC-12', 'jira'],
    ['https://acme.atlassian.net/secure/admin/ViewApplicationProperties.jspa', 'jira'],
  ])('Cloud %s → %s on the site origin with the browser session', (url, product) => {
    expect(detectSite(url)).toEqual({
      url: 'https://acme.atlassian.net',
      product,
      deployment: 'cloud',
      auth: 'session',
    })
  })

  it('leaves the product open on a Cloud page that does not say which product it is', () => {
    expect(detectSite('https://acme.atlassian.net/')).toEqual({
      url: 'https://acme.atlassian.net',
      product: undefined,
      deployment: 'cloud',
      auth: 'session',
    })
  })

  it('reads the organization id from admin.atlassian.com and uses the API gateway with an org key', () => {
    expect(detectSite('https://admin.atlassian.com/o/2a3b-44/audit-log')).toEqual({
      url: 'https://api.atlassian.com',
      product: 'org',
      deployment: 'cloud',
      auth: 'org-key',
      orgId: '2a3b-44',
    })
  })

  it.each([
    ['https://jira.corp.example/browse/OPS-1', 'https://jira.corp.example', 'jira'],
    ['https://tools.corp.example/jira/secure/Dashboard.jspa', 'https://tools.corp.example/jira', 'jira'],
    ['https://tools.corp.example/confluence/display/ENG/Home', 'https://tools.corp.example/confluence', 'confluence'],
    ['https://wiki.corp.example/pages/viewpage.action?pageId=1', 'https://wiki.corp.example', 'confluence'],
    [
      'https://git.corp.example/bitbucket/projects/OPS/repos/infra/browse',
      'https://git.corp.example/bitbucket',
      'bitbucket',
    ],
    ['https://git.corp.example/projects/OPS/repos/infra', 'https://git.corp.example', 'bitbucket'],
    ['https://jira.corp.example/projects/OPS', 'https://jira.corp.example', 'jira'],
  ])('Data Center %s → %s (%s)', (tab, url, product) => {
    expect(detectSite(tab)).toEqual({ url, product, deployment: 'dc', auth: 'session' })
  })

  it('ignores pages that are not Atlassian sites', () => {
    expect(detectSite('https://example.com/news/today')).toBeUndefined()
    expect(detectSite('chrome://extensions/')).toBeUndefined()
    expect(detectSite(undefined)).toBeUndefined()
    expect(detectSite('not a url')).toBeUndefined()
  })
})

describe('siteOrigins (host permission asked when saving, checked before a run)', () => {
  it('asks for the site host on any port, without path', () => {
    expect(siteOrigins({ url: 'http://127.0.0.1:8123/jira', product: 'jira', auth: 'session' })).toEqual([
      'http://127.0.0.1/*',
    ])
  })
  it('adds the API gateway for scoped tokens', () => {
    expect(siteOrigins({ url: 'https://acme.atlassian.net', product: 'confluence', auth: 'scoped' })).toEqual([
      'https://acme.atlassian.net/*',
      'https://api.atlassian.com/*',
    ])
  })
  it("uses the site's own gateway for scoped tokens when set, and the org log's URL as its gateway", () => {
    expect(
      siteOrigins({
        url: 'https://acme.atlassian.net',
        product: 'jira',
        auth: 'scoped',
        gateway: 'https://gw.example',
      }),
    ).toEqual(['https://acme.atlassian.net/*', 'https://gw.example/*'])
    expect(siteOrigins({ url: 'http://127.0.0.1:9000', product: 'org', auth: 'org-key' })).toEqual([
      'http://127.0.0.1/*',
    ])
    // a gateway on a site that does not use one asks for nothing more
    expect(
      siteOrigins({ url: 'https://acme.atlassian.net', product: 'jira', auth: 'basic', gateway: 'https://gw.example' }),
    ).toEqual(['https://acme.atlassian.net/*'])
  })
  it('asks for nothing when the URL is not one', () => {
    expect(siteOrigins({ url: 'nope', product: 'jira', auth: 'session' })).toEqual([])
  })
})

describe('normalizeSiteUrl', () => {
  it('adds https://, drops the trailing slash, query and hash, keeps a context path', () => {
    expect(normalizeSiteUrl(' acme.atlassian.net/ ')).toBe('https://acme.atlassian.net')
    expect(normalizeSiteUrl('https://tools.corp.example/jira/?x=1#y')).toBe('https://tools.corp.example/jira')
    expect(normalizeSiteUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080')
  })
  it('refuses empty input and other schemes', () => {
    expect(normalizeSiteUrl('')).toBeUndefined()
    expect(normalizeSiteUrl('ftp://x.example')).toBeUndefined()
  })
})

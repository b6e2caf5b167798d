// Every sign-in mode of the simulator, the login page/cookie flow, tenant_info, and the request log.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { adminBasic, basic, bearer, getJson, login, NOW } from './helpers'
import { type FakeAtlassian, startFakeAtlassian } from './server'

let fa: FakeAtlassian
let confCloud: string
let jiraCloud: string
let jiraDc: string

beforeAll(async () => {
  fa = await startFakeAtlassian({ seed: 31, now: () => NOW, volume: { cloud: 20, 'jira-dc': 20, org: 20 } })
  confCloud = `${fa.sites.cloud.baseUrl}/wiki/rest/api/audit?limit=2`
  jiraCloud = `${fa.sites.cloud.baseUrl}/rest/api/3/auditing/record?limit=2`
  jiraDc = `${fa.sites['jira-dc'].baseUrl}/rest/auditing/1.0/events?limit=2`
})
afterAll(() => fa.close())
afterEach(() => {
  fa.faults.clear()
  fa.faults.setExpiredSessionMode('auto')
})

describe('Cloud site', () => {
  it('serves tenant_info without authentication', async () => {
    const { status, body } = await getJson(`${fa.sites.cloud.baseUrl}/_edge/tenant_info`)
    expect(status).toBe(200)
    expect(body).toEqual({ cloudId: fa.cloudId, baseUrl: fa.sites.cloud.baseUrl })
  })

  it('logs in through /login (GET and POST) with an HttpOnly tenant.session.token on Path=/cloud', async () => {
    const res = await fetch(`${fa.sites.cloud.baseUrl}/login?user=admin`, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/cloud/')
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tenant.session.token='))
    expect(cookie).toMatch(/; Path=\/cloud; HttpOnly; SameSite=Lax$/)
    const page = await fetch(`${fa.sites.cloud.baseUrl}/login`)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(await page.text()).toContain('<form id="form-login" method="post" action="/cloud/login">')
    const post = await fetch(`${fa.sites.cloud.baseUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=admin&continue=%2Fcloud%2Fwiki%2F',
    })
    expect(post.status).toBe(302)
    expect(post.headers.get('location')).toBe('/cloud/wiki/')
    const cookies = post.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const { status, body } = await getJson(confCloud, { cookie: cookies })
    expect(status).toBe(200)
    expect(body.results.length).toBe(2)
  })

  it('lets an admin session read both Cloud audit APIs and refuses a viewer session with 403', async () => {
    const admin = await login(`${fa.sites.cloud.baseUrl}/login`, 'admin')
    const viewer = await login(`${fa.sites.cloud.baseUrl}/login`, 'viewer')
    expect((await getJson(jiraCloud, { cookie: admin })).status).toBe(200)
    const j = await getJson(jiraCloud, { cookie: viewer })
    expect(j.status).toBe(403)
    expect(j.body).toEqual({ errorMessages: [expect.stringContaining('Administer Jira')], errors: {} })
    const c = await getJson(confCloud, { cookie: viewer })
    expect(c.status).toBe(403)
    expect(c.body).toMatchObject({ statusCode: 403, data: { authorized: false } })
    const me = await getJson(`${fa.sites.cloud.baseUrl}/rest/api/3/myself`, { cookie: viewer })
    expect(me.body.emailAddress).toBe(fa.credentials.viewerEmail)
    const perms = await getJson(`${fa.sites.cloud.baseUrl}/rest/api/3/mypermissions?permissions=ADMINISTER`, {
      cookie: viewer,
    })
    expect(perms.body.permissions.ADMINISTER.havePermission).toBe(false)
  })

  it('answers an unknown or expired session per mode: 302 to login (default), 401 JSON, or a 200 login page', async () => {
    const stale = { cookie: 'tenant.session.token=not-a-session' }
    const r302 = await getJson(confCloud, stale)
    expect(r302.status).toBe(302)
    expect(r302.headers.get('location')).toMatch(/\/cloud\/login\?continue=/)
    fa.faults.setExpiredSessionMode('401')
    const r401 = await getJson(jiraCloud, stale)
    expect(r401.status).toBe(401)
    expect(r401.body).toEqual({ errorMessages: ['Client must be authenticated to access this resource.'], errors: {} })
    fa.faults.setExpiredSessionMode('html')
    const html = await getJson(jiraCloud, stale)
    expect(html.status).toBe(200)
    expect(html.headers.get('content-type')).toContain('text/html')
    expect(html.body).toContain('id="login-page"')
  })

  it('invalidates every session with expireSessions()', async () => {
    const admin = await login(`${fa.sites.cloud.baseUrl}/login`)
    expect((await getJson(jiraCloud, { cookie: admin })).status).toBe(200)
    fa.faults.expireSessions()
    expect((await getJson(jiraCloud, { cookie: admin })).status).toBe(302)
    const again = await login(`${fa.sites.cloud.baseUrl}/login`)
    expect((await getJson(jiraCloud, { cookie: again })).status).toBe(200)
  })

  it('accepts Basic email:apiToken; 401 for a wrong token, with Jira and Confluence bodies', async () => {
    expect((await getJson(jiraCloud, adminBasic(fa))).status).toBe(200)
    const bad = await getJson(jiraCloud, basic(fa.credentials.email, 'nope'))
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toBe('Basic realm="Jira"')
    const none = await getJson(confCloud)
    expect(none.status).toBe(401)
    expect(none.body).toMatchObject({
      statusCode: 401,
      message: 'Client must be authenticated to access this resource.',
    })
  })

  it('refuses a scoped token on the site URL (401) and accepts it through the gateway', async () => {
    const scoped = basic(fa.credentials.email, fa.credentials.scopedToken)
    const onSite = await getJson(jiraCloud, scoped)
    expect(onSite.status).toBe(401)
    expect(onSite.body.errorMessages).toEqual(['Client must be authenticated to access this resource.'])
    const gw = await getJson(`${fa.gatewayUrl}/ex/jira/${fa.cloudId}/rest/api/3/auditing/record?limit=2`, scoped)
    expect(gw.status).toBe(200)
    const classicViaGw = await getJson(
      `${fa.gatewayUrl}/ex/jira/${fa.cloudId}/rest/api/3/auditing/record?limit=2`,
      adminBasic(fa),
    )
    expect(classicViaGw.status).toBe(200)
    const wrong = await getJson(
      `${fa.gatewayUrl}/ex/confluence/${fa.cloudId}/wiki/rest/api/audit`,
      basic(fa.credentials.email, fa.credentials.wrongScopeToken),
    )
    expect(wrong.status).toBe(401)
    expect(wrong.body).toEqual({ code: 401, message: 'Unauthorized; scope does not match' })
  })

  it('ignores site cookies on the gateway', async () => {
    const admin = await login(`${fa.sites.cloud.baseUrl}/login`)
    const gw = await getJson(`${fa.gatewayUrl}/ex/jira/${fa.cloudId}/rest/api/3/auditing/record`, { cookie: admin })
    expect(gw.status).toBe(401)
  })
})

describe('Data Center', () => {
  it('accepts a PAT (Bearer) and refuses it with any JSESSIONID next to it', async () => {
    expect((await getJson(jiraDc, bearer(fa.credentials.pat))).status).toBe(200)
    const withCookie = await getJson(jiraDc, { ...bearer(fa.credentials.pat), cookie: 'JSESSIONID=ABCDEF' })
    expect(withCookie.status).toBe(401)
    expect(withCookie.body.errorMessages[0]).toBe("os_authType was 'any' and an invalid cookie was sent.")
    expect((await getJson(jiraDc, bearer('wrong'))).status).toBe(401)
  })

  it('logs in with a JSESSIONID on the context path; viewer sessions and PATs get 403', async () => {
    const res = await fetch(`${fa.sites['jira-dc'].baseUrl}/login.jsp?user=admin`, { redirect: 'manual' })
    const setCookie = res.headers.getSetCookie()[0]
    expect(setCookie).toMatch(/^JSESSIONID=[0-9A-F]{32}; Path=\/jira; HttpOnly/)
    const cookie = setCookie.split(';')[0]
    expect((await getJson(jiraDc, { cookie })).status).toBe(200)
    // A JSESSIONID of one instance is not a session on another.
    const other = await getJson(`${fa.sites['confluence-dc'].baseUrl}/rest/auditing/1.0/events`, { cookie })
    expect(other.status).toBe(401)
    const viewer = await login(`${fa.sites['jira-dc'].baseUrl}/login`, 'viewer')
    expect((await getJson(jiraDc, { cookie: viewer })).status).toBe(403)
    expect((await getJson(jiraDc, bearer(fa.credentials.viewerPat))).status).toBe(403)
  })

  it('Bitbucket names its session cookie BITBUCKETSESSIONID (§g.4), and only that one counts there', async () => {
    const bitbucket = `${fa.sites['bitbucket-dc'].baseUrl}/rest/auditing/1.0/events?limit=1`
    const cookie = await login(`${fa.sites['bitbucket-dc'].baseUrl}/login`)
    expect(cookie).toMatch(/^BITBUCKETSESSIONID=[0-9A-F]{32}$/)
    expect((await getJson(bitbucket, { cookie })).status).toBe(200)
    const renamed = cookie.replace('BITBUCKETSESSIONID', 'JSESSIONID')
    expect((await getJson(bitbucket, { cookie: renamed })).status).toBe(401)
    // next to a PAT it breaks the request like Jira's JSESSIONID does
    expect((await getJson(bitbucket, { ...bearer(fa.credentials.pat), cookie })).status).toBe(401)
  })

  it('accepts Basic username:password', async () => {
    const ok = await getJson(
      `${fa.sites['bitbucket-dc'].baseUrl}/rest/auditing/1.0/events?limit=1`,
      basic(fa.credentials.dcUsername, fa.credentials.dcPassword),
    )
    expect(ok.status).toBe(200)
    const bad = await getJson(`${fa.sites['bitbucket-dc'].baseUrl}/rest/auditing/1.0/events`, basic('admin', 'x'))
    expect(bad.status).toBe(401)
    expect(bad.body.errors[0].exceptionName).toMatch(/Authentication/)
  })

  it('answers an unknown DC session with 401 by default (Seraph under /rest)', async () => {
    const r = await getJson(jiraDc, { cookie: 'JSESSIONID=00' })
    expect(r.status).toBe(401)
    expect(r.headers.get('x-seraph-loginreason')).toBe('AUTHENTICATED_FAILED')
  })

  it('reports the anonymous user on Confluence DC user/current', async () => {
    const r = await getJson(`${fa.sites['confluence-dc'].baseUrl}/rest/api/user/current`)
    expect(r.status).toBe(200)
    expect(r.body.type).toBe('anonymous')
  })
})

describe('Organization API', () => {
  it('accepts the org key as Bearer on /gateway/admin only', async () => {
    const orgs = await getJson(`${fa.gatewayUrl}/admin/v1/orgs`, bearer(fa.credentials.orgKey))
    expect(orgs.status).toBe(200)
    expect(orgs.body.data[0]).toMatchObject({ id: fa.orgId, type: 'orgs' })
    const siteToken = await getJson(`${fa.gatewayUrl}/admin/v1/orgs`, adminBasic(fa))
    expect(siteToken.status).toBe(401)
    expect(siteToken.body).toMatchObject({ status: 401, error: 'Unauthorized', requestId: expect.any(String) })
    const keyOnSite = await getJson(jiraCloud, bearer(fa.credentials.orgKey))
    expect(keyOnSite.status).toBe(401)
    const otherOrg = await getJson(`${fa.gatewayUrl}/admin/v1/orgs/other/events-stream`, bearer(fa.credentials.orgKey))
    expect(otherOrg.status).toBe(403)
    expect(otherOrg.body.message).toBe('User has no permission to access resource.')
  })
})

describe('request log', () => {
  it('records auth kinds and cookie names but never a secret', async () => {
    fa.clearRequests()
    const admin = await login(`${fa.sites.cloud.baseUrl}/login`)
    await getJson(confCloud, { cookie: admin })
    await getJson(jiraCloud, adminBasic(fa))
    await getJson(jiraDc, bearer(fa.credentials.pat))
    await getJson(`${fa.gatewayUrl}/admin/v1/orgs?api_token=${fa.credentials.orgKey}`, bearer(fa.credentials.orgKey))
    const log = fa.requests()
    const byApi = (api: string) => log.filter((e) => e.api === api)
    expect(byApi('confluence-cloud')[0]).toMatchObject({
      auth: 'none',
      hasAuthorization: false,
      credential: 'session',
      cookieNames: ['tenant.session.token', 'atlassian.xsrf.token'],
      user: 'admin',
      status: 200,
    })
    expect(byApi('jira-cloud')[0]).toMatchObject({ auth: 'basic', hasCookies: false, credential: 'api-token' })
    expect(byApi('jira-dc')[0]).toMatchObject({ auth: 'bearer', hasCookies: false, credential: 'pat' })
    expect(byApi('org-list')[0].query.api_token).toBe('[redacted]')
    const text = JSON.stringify(log)
    for (const secret of [
      fa.credentials.apiToken,
      fa.credentials.pat,
      fa.credentials.orgKey,
      fa.credentials.dcPassword,
      admin.split('; ')[0].split('=')[1],
    ]) {
      expect(text).not.toContain(secret)
    }
  })
})

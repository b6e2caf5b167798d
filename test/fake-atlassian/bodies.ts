// Error bodies and HTML pages in the shapes Atlassian products send (see shared/docs/atlassian-apis.md §h and
// shared/fixtures/atlassian/atlassian-errors.examples.json).

/** Which error-body dialect an endpoint speaks. */
export type Family = 'jira' | 'confluence' | 'bitbucket' | 'admin' | 'gateway'

export const MSG = {
  unauthenticated: 'Client must be authenticated to access this resource.',
  scopeMismatch: 'Unauthorized; scope does not match',
  staleCookieWithToken: "os_authType was 'any' and an invalid cookie was sent.",
  jiraFree: "Audit logs aren't available for this site as all of its Jira Cloud products are on Free plans.",
  confluenceFree: 'Cannot make this request because you are on Free edition. Please upgrade to standard or premium.',
  orgNoGuard:
    'Audit log is not available for this organization. Subscribe to Atlassian Guard to access audit log events.',
  jiraNotAdmin:
    'You do not have the permission to see the specified audit records. The Administer Jira global permission is required.',
  confluenceNotAdmin:
    'com.atlassian.confluence.api.service.exceptions.PermissionException: User is not permitted to view the audit log. Confluence Administrator permission is required.',
  bitbucketNotAdmin: 'You are not permitted to access this resource',
  adminNoPermission: 'User has no permission to access resource.',
  adminUnauthorized: 'Unauthorized: the API key is invalid, expired or revoked.',
} as const

export function errorBody(family: Family, status: number, message: string, path: string, requestId: string): unknown {
  switch (family) {
    case 'jira':
      return { errorMessages: [message], errors: {} }
    case 'confluence':
      return {
        statusCode: status,
        data: { authorized: status !== 401 && status !== 403, valid: status !== 400, errors: [], successful: false },
        message,
      }
    case 'bitbucket':
      return { errors: [{ context: null, message, exceptionName: bitbucketException(status) }] }
    case 'gateway':
      return { code: status, message }
    case 'admin':
      return {
        timestamp: new Date().toISOString().replace('Z', '+00:00'),
        path: `/api${path}`,
        status,
        error: reason(status),
        message,
        requestId,
      }
  }
}

function bitbucketException(status: number): string {
  if (status === 401) return 'com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException'
  if (status === 403) return 'com.atlassian.bitbucket.AuthorisationException'
  if (status === 400) return 'com.atlassian.bitbucket.validation.ArgumentValidationException'
  return 'com.atlassian.bitbucket.ServiceException'
}

export function reason(status: number): string {
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  }
  return reasons[status] ?? 'Error'
}

/** 5xx as the product (500) or its edge proxy (502/503/504, HTML) answers. */
export function serverErrorResponse(
  family: Family,
  status: 500 | 502 | 503 | 504,
  path: string,
  requestId: string,
): { contentType: string; body: string } {
  if (status === 500) {
    const msg =
      family === 'confluence'
        ? 'java.lang.RuntimeException: Unexpected failure while reading the audit log'
        : 'Internal server error'
    return {
      contentType: 'application/json;charset=UTF-8',
      body: JSON.stringify(errorBody(family, 500, msg, path, requestId)),
    }
  }
  if (status === 503 && family !== 'admin') {
    return {
      contentType: 'text/html;charset=UTF-8',
      body: '<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request. Please try again later.</p></body></html>',
    }
  }
  if (family === 'admin') {
    return {
      contentType: 'application/json',
      body: JSON.stringify(errorBody('admin', status, reason(status), path, requestId)),
    }
  }
  const title = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out'
  return {
    contentType: 'text/html',
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`,
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The login page: a real form (POST) plus links, so that browser tests can sign in either way. Like every
 * simulator page it names an empty icon, so browsers never ask for /favicon.ico (its 404 would be console noise). */
export function loginPage(opts: { title: string; action: string; continueTo?: string; product: string }): string {
  const cont = opts.continueTo ? `<input type="hidden" name="continue" value="${escapeHtml(opts.continueTo)}">` : ''
  const q = opts.continueTo ? `&continue=${encodeURIComponent(opts.continueTo)}` : ''
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(opts.title)}</title></head>
<body id="login-page" data-product="${escapeHtml(opts.product)}">
<h1>${escapeHtml(opts.title)}</h1>
<form id="form-login" method="post" action="${escapeHtml(opts.action)}">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" value="">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" value="">
  <label for="user">Sign in as</label>
  <select id="user" name="user"><option value="admin">admin</option><option value="viewer">viewer (not an administrator)</option></select>
  ${cont}
  <button id="login-submit" type="submit">Log in</button>
</form>
<p><a id="login-admin" href="${escapeHtml(opts.action)}?user=admin${escapeHtml(q)}">Log in as admin</a>
 · <a id="login-viewer" href="${escapeHtml(opts.action)}?user=viewer${escapeHtml(q)}">Log in as viewer</a></p>
</body>
</html>
`
}

export function sitePage(opts: { title: string; user?: string; loginUrl: string }): string {
  const who = opts.user
    ? `<p id="signed-in">Signed in as <b>${escapeHtml(opts.user)}</b>.</p>`
    : `<p id="signed-out">Not signed in. <a href="${escapeHtml(opts.loginUrl)}">Log in</a></p>`
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(opts.title)}</title></head>
<body><h1>${escapeHtml(opts.title)}</h1>${who}</body></html>
`
}

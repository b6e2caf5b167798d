// What each result code means for an admin, and what to do about it. The background's message adds the
// specifics (status, the server's own words); this adds a headline that reads the same everywhere.
import type { ResultCode } from '../messages'

export interface ResultWords {
  headline: string
  advice: string
  tone: 'good' | 'warn' | 'bad'
}

export const RESULT_WORDS: Record<ResultCode, ResultWords> = {
  ok: { headline: 'Working', advice: 'The audit log can be read.', tone: 'good' },
  'permission-missing': {
    headline: 'Access to the site not granted',
    advice: 'Allow the extension to reach this site: edit the site and save it again, then accept the prompt.',
    tone: 'warn',
  },
  'session-expired': {
    headline: 'Session expired',
    advice: 'Log in to the site in a browser tab, then try again.',
    tone: 'warn',
  },
  'bad-credentials': {
    headline: 'Sign-in refused',
    advice: 'Check the email and token (tokens expire; create a new one if needed).',
    tone: 'bad',
  },
  'not-admin': {
    headline: 'Not an administrator',
    advice: 'The account is signed in but may not read the audit log. Use an administrator account.',
    tone: 'bad',
  },
  'plan-without-audit': {
    headline: 'Plan without audit log',
    advice: 'This site’s plan has no audit log (Free plans). Upgrade the plan or remove the site.',
    tone: 'bad',
  },
  'scope-missing': {
    headline: 'Token scope missing',
    advice: 'The scoped token lacks the audit-log scope, or must be used through api.atlassian.com.',
    tone: 'bad',
  },
  'rate-limited': {
    headline: 'Rate limited',
    advice: 'Atlassian asked us to slow down. The extension retries by itself later.',
    tone: 'warn',
  },
  'not-found': {
    headline: 'No audit log at this address',
    advice: 'Check the site URL, product and deployment (Data Center needs a recent version).',
    tone: 'bad',
  },
  unreachable: {
    headline: 'Unreachable',
    advice: 'The site did not answer. Check the URL, your network or VPN.',
    tone: 'bad',
  },
  'bad-response': {
    headline: 'Unexpected answer',
    advice: 'The server answered with a page instead of data: often a login page or a proxy. Log in and retry.',
    tone: 'bad',
  },
  'invalid-config': {
    headline: 'Incomplete settings',
    advice: 'Fill in the missing fields.',
    tone: 'bad',
  },
  error: { headline: 'Failed', advice: '', tone: 'bad' },
}

export function wordsFor(code: string): ResultWords {
  return code in RESULT_WORDS ? RESULT_WORDS[code as ResultCode] : RESULT_WORDS.error
}

/** The message of any thrown thing, for a status line. Background errors already carry admin words. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

// Small helpers for the simulator's own tests (plain fetch, no project client).

import type { FakeAtlassian } from './server'

export const NOW = Date.UTC(2025, 2, 10, 12, 0, 0)

export function basic(user: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` }
}

export function adminBasic(fa: FakeAtlassian): Record<string, string> {
  return basic(fa.credentials.email, fa.credentials.apiToken)
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

export async function getJson<T = any>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual' })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers }
}

/** Session cookie header value after logging in through the simulator's login URL. */
export async function login(loginUrl: string, user: 'admin' | 'viewer' = 'admin'): Promise<string> {
  const res = await fetch(`${loginUrl}?user=${user}`, { redirect: 'manual' })
  if (res.status !== 302) throw new Error(`login answered ${res.status}`)
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
}

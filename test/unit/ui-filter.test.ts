import { describe, expect, it } from 'vitest'
import {
  EMPTY_FILTER,
  filterFromSearch,
  filterToSearch,
  isFiltered,
  toEventFilter,
} from '../../src/extension/ui/filter'

describe('popup/dashboard filter', () => {
  const now = Date.parse('2026-05-01T12:00:00Z')

  it('an empty filter asks for everything', () => {
    expect(toEventFilter(EMPTY_FILTER, now)).toEqual({})
    expect(isFiltered(EMPTY_FILTER)).toBe(false)
    expect(filterToSearch(EMPTY_FILTER)).toBe('')
  })

  it('combines every control into one archive filter (AND), trimming typed values', () => {
    const state = {
      ...EMPTY_FILTER,
      range: '24h' as const,
      site: 's1',
      product: 'jira',
      category: 'iam',
      action: ' user_created ',
      user: 'alice',
      ip: '10.0.0.1',
      text: ' <b> ',
    }
    expect(toEventFilter(state, now)).toEqual({
      from: now - 86_400_000,
      siteIds: ['s1'],
      products: ['jira'],
      categories: ['iam'],
      actions: ['user_created'],
      users: ['alice'],
      ips: ['10.0.0.1'],
      text: '<b>',
    })
  })

  it('custom ranges include the whole last minute', () => {
    const f = toEventFilter({ ...EMPTY_FILTER, range: 'custom', from: '2026-04-01T00:00', to: '2026-04-02T10:05' }, now)
    expect(f.from).toBe(Date.parse('2026-04-01T00:00'))
    expect(f.to).toBe(Date.parse('2026-04-02T10:05') + 59_999)
  })

  it('travels through a URL unchanged (popup → dashboard link)', () => {
    const state = { ...EMPTY_FILTER, range: '7d' as const, user: 'bob & co', text: 'a=b?c' }
    expect(filterFromSearch(filterToSearch(state))).toEqual(state)
  })

  it('ignores unknown keys and bad ranges in a URL', () => {
    expect(filterFromSearch('?range=forever&evil=1&ip=1.2.3.4')).toEqual({ ...EMPTY_FILTER, ip: '1.2.3.4' })
  })
})

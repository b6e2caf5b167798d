import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { StateFileStore } from '../../src/cli/state-file-store'
import type { EcsDocument } from '../../src/core/model'

const tmp = mkdtempSync(path.join(tmpdir(), 'state-file-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const doc = (hash: string): EcsDocument => ({ ecs: { version: '9' }, event: { kind: 'event', hash } })

describe('StateFileStore', () => {
  it('emits only new documents, keeps the keys inside the retained ranges, and survives a reopen', async () => {
    const file = path.join(tmp, 'a.json')
    const emitted: string[] = []
    const emit = async (docs: EcsDocument[]) => void emitted.push(...docs.map((d) => d.event.hash))
    const s1 = await StateFileStore.open(file, emit)
    const added = await s1.commit(
      's',
      [doc('a'), doc('b'), doc('a'), doc('c')],
      { v: 1, n: 1 },
      {
        recordTimes: [10, 20, 10, 30],
        retain: [{ from: 20, to: 25 }],
      },
    )
    expect(added.map((d) => d.event.hash)).toEqual(['a', 'b', 'c'])
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const saved = JSON.parse(readFileSync(file, 'utf8'))
    expect(saved.streams.s.keys).toEqual({ b: 20 }) // a (10) and c (30) are outside [20, 25]
    const s2 = await StateFileStore.open(file, emit)
    expect(await s2.loadState('s')).toEqual({ v: 1, n: 1 })
    await s2.commit('s', [doc('b'), doc('a')], { v: 1, n: 2 }, { recordTimes: [20, 10] })
    expect(emitted).toEqual(['a', 'b', 'c', 'a'])
  })

  it('within one run, a key pruned from the file is still never emitted twice', async () => {
    const file = path.join(tmp, 'run.json')
    const emitted: string[] = []
    const s = await StateFileStore.open(file, async (docs) => void emitted.push(...docs.map((d) => d.event.hash)))
    // the retained range moves on with every page; records pushed down by inserts come back pages later
    await s.commit('s', [doc('p'), doc('q')], { v: 1 }, { recordTimes: [50, 40], retain: [{ from: 45, to: 60 }] })
    await s.commit('s', [doc('r')], { v: 2 }, { recordTimes: [30], retain: [{ from: 25, to: 35 }] })
    await s.commit(
      's',
      [doc('q'), doc('p'), doc('s')],
      { v: 3 },
      { recordTimes: [40, 50, 20], retain: [{ from: 15, to: 25 }] },
    )
    expect(emitted).toEqual(['p', 'q', 'r', 's'])
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).streams.s.keys)).toEqual(['s'])
  })

  it('does not record keys (nor the state) when emitting fails', async () => {
    const file = path.join(tmp, 'b.json')
    let fail = true
    const store = await StateFileStore.open(file, async () => {
      if (fail) throw new Error('EPIPE')
    })
    await expect(store.commit('s', [doc('x')], { v: 1 }, {})).rejects.toThrow('EPIPE')
    expect(() => statSync(file)).toThrow()
    fail = false
    expect(await store.commit('s', [doc('x')], { v: 1 }, {})).toHaveLength(1)
  })

  it('refuses a file that is not a state file', async () => {
    const file = path.join(tmp, 'c.json')
    writeFileSync(file, '{"hello":1}')
    await expect(StateFileStore.open(file, async () => {})).rejects.toThrow(/not an atlassian-audit state file/)
  })
})

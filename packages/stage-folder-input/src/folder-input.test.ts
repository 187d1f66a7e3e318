import { existsSync } from 'node:fs'
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { folderInput } from './folder-input.js'
import { instancePaths, openSource, syntheticDicom, useTempDirs, waitFor } from './test-support/helpers.js'

const tempDir = useTempDirs()
const STUDY = '1.2.826.0.1.3680043.10.7.1'
const SERIES = ['1.2.826.0.1.3680043.10.7.1.1', '1.2.826.0.1.3680043.10.7.1.2']
const fast = { stableMs: 150, pollMs: 200, quietPeriodMs: 400 }

async function setup() {
  const root = await tempDir()
  const drop = join(root, 'drop')
  await mkdir(drop)
  return { root, drop, spool: join(root, 'spool') }
}

describe('folderInput', () => {
  it('takes an exam folder, loose files and junk: one study with every file byte for byte, junk quarantined, the folder emptied', async () => {
    const { drop, spool } = await setup()
    // Present before the start (the initial scan) ...
    await mkdir(join(drop, 'exam', 'series1'), { recursive: true })
    const expected = new Map<string, Uint8Array>()
    for (let slice = 0; slice < 4; slice++) {
      const bytes = syntheticDicom(STUDY, SERIES[0]!, slice)
      await writeFile(join(drop, 'exam', 'series1', `IM${slice}`), bytes)
      expected.set(`${SERIES[0]}.${slice + 1}`, bytes)
    }
    await writeFile(join(drop, 'exam', 'DICOMDIR'), 'not really a DICOMDIR')
    const source = openSource(folderInput({ dir: drop, spool, ...fast }))
    const first = source.next()
    // ... and arriving while it runs: loose files, a nested folder, junk.
    await new Promise((resolve) => setTimeout(resolve, 100))
    await mkdir(join(drop, 'a', 'b', 'c'), { recursive: true })
    for (let slice = 0; slice < 3; slice++) {
      const bytes = syntheticDicom(STUDY, SERIES[1]!, slice)
      await writeFile(join(slice === 0 ? drop : join(drop, 'a', 'b', 'c'), `loose-${slice}.dcm`), bytes)
      expected.set(`${SERIES[1]}.${slice + 1}`, bytes)
    }
    const truncated = syntheticDicom(STUDY, SERIES[1]!, 9)
    await writeFile(join(drop, 'a', 'cut.dcm'), truncated.subarray(0, truncated.length - 20))
    await writeFile(join(drop, 'README.txt'), 'exam notes')
    await writeFile(join(drop, '.DS_Store'), new Uint8Array([0, 0, 0, 1, 66, 117, 100, 49]))

    const delivery = await first
    expect(delivery.id).toBe(`${STUDY}.g1`)
    const instances = delivery.value.series.flatMap((s) => s.instances)
    expect(instances.map((i) => i.sopInstanceUid).sort()).toEqual([...expected.keys()].sort())
    for (const instance of instances) expect(new Uint8Array(await readFile(instance.path))).toEqual(expected.get(instance.sopInstanceUid))
    await delivery.ack()

    const quarantine = join(spool, 'quarantine')
    await waitFor(async () => (await readdir(quarantine)).length === 6)
    const reasons = await Promise.all(
      (await readdir(quarantine)).filter((name) => name.endsWith('.reason.json')).map(async (name) => JSON.parse(await readFile(join(quarantine, name), 'utf8')) as { code: string; originalName: string }),
    )
    expect(reasons.map((r) => [r.originalName, r.code]).sort()).toEqual([
      ['.DS_Store', 'DICOM_INVALID'],
      ['README.txt', 'DICOM_INVALID'],
      ['cut.dcm', 'DICOM_TRUNCATED'],
    ])
    // Everything consumed, empty folders removed, the watched folder itself kept.
    await waitFor(async () => (await readdir(drop)).length === 0)
    expect(existsSync(drop)).toBe(true)
    expect(await source.nothingWithin(700)).toBe(true)
    await source.close()
  })

  it('waits for a file that grows slowly, then takes it whole', async () => {
    const { drop, spool } = await setup()
    const source = openSource(folderInput({ dir: drop, spool, stableMs: 300, pollMs: 100, quietPeriodMs: 200 }))
    const first = source.next()
    const bytes = syntheticDicom(STUDY, SERIES[0]!, 0)
    const path = join(drop, 'slow.dcm')
    const step = Math.ceil(bytes.length / 6)
    for (let at = 0; at < bytes.length; at += step) {
      await appendFile(path, bytes.subarray(at, at + step))
      await new Promise((resolve) => setTimeout(resolve, 120))
    }
    const delivery = await first
    const [stored] = instancePaths(delivery.value)
    expect(new Uint8Array(await readFile(stored!))).toEqual(bytes)
    expect(await readdir(join(spool, 'quarantine'))).toEqual([])
    await source.close()
  })

  it('leaves other programs’ temporary files alone, works without fs.watch, and ends promptly on abort', async () => {
    const { drop, spool } = await setup()
    await writeFile(join(drop, '.IM1.aB3xYz'), 'rsync in progress')
    await writeFile(join(drop, 'IM2.part'), 'download in progress')
    await writeFile(join(drop, 'IM3.dcm'), syntheticDicom(STUDY, SERIES[0]!, 3))
    const source = openSource(folderInput({ dir: drop, spool, ...fast, watch: false }))
    const delivery = await source.next()
    expect(instancePaths(delivery.value)).toHaveLength(1)
    expect((await readdir(drop)).sort()).toEqual(['.IM1.aB3xYz', 'IM2.part'])
    const waiting = source.iterator.next()
    const started = Date.now()
    await source.close()
    expect(await waiting).toEqual({ done: true, value: undefined })
    expect(Date.now() - started).toBeLessThan(3_000) // promptly: not ended, it would wait for ever
  })

  it('checks its options at once and fails to open on a missing folder', async () => {
    const { root, drop, spool } = await setup()
    expect(() => folderInput({ dir: drop, spool: join(drop, 'spool') })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    expect(() => folderInput({ dir: drop, spool: root })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    expect(() => folderInput({ dir: drop, spool, stableMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    expect(() => folderInput({ dir: '', spool })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
    const missing = openSource(folderInput({ dir: join(root, 'not-mounted'), spool }))
    await expect(missing.iterator.next()).rejects.toMatchObject({ code: 'FOLDER_INPUT_UNAVAILABLE' })
    expect(existsSync(join(root, 'not-mounted'))).toBe(false)
  })
})

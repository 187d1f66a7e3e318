import { closeSync, existsSync, openSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readPart10, writePart10 } from '@pacsflow/imaging'
import { closeSpool, createSpool } from './spool.js'
import type { Spool } from './types.js'
import { SERIES_A, sopOf, STUDY, syntheticDicom, useTempDirs } from './test-support/dicom.js'

const tempDir = useTempDirs()
const dimse = { source: 'dimse', origin: 'SCANNER@127.0.0.1' }

async function freshSpool(): Promise<Spool> {
  return createSpool({ dir: join(await tempDir(), 'spool') })
}

/** Writes bytes at a new incoming path, as a receiver would. */
async function received(spool: Spool, bytes: Uint8Array): Promise<string> {
  const path = spool.incomingPath('obj')
  await writeFile(path, bytes)
  return path
}

const instance = (slice: number, seed = 0, sop = sopOf(SERIES_A, slice)) => syntheticDicom({ study: STUDY, series: SERIES_A, sop, slice, seed })

describe('commit', () => {
  it('stores an instance under its UIDs, byte for byte, and empties incoming/', async () => {
    const spool = await freshSpool()
    const bytes = instance(0)
    const result = await spool.commit(await received(spool, bytes), dimse)
    const expected = join(spool.dir, STUDY, SERIES_A, `${sopOf(SERIES_A, 0)}.dcm`)
    expect(result).toEqual({ status: 'stored', path: expected, studyInstanceUid: STUDY, seriesInstanceUid: SERIES_A, sopInstanceUid: sopOf(SERIES_A, 0) })
    expect(new Uint8Array(await readFile(expected))).toEqual(bytes)
    expect(await readdir(join(spool.dir, 'incoming'))).toEqual([])
  })

  it('takes the header from the head a receiver gives, or from the file when the head is short (fsyncs inline or pooled)', async () => {
    const spool = await freshSpool()
    for (const [slice, cut, flushInline] of [[1, undefined, true], [2, 64, false]] as const) {
      const bytes = instance(slice)
      const head = { bytes: cut === undefined ? bytes : bytes.subarray(0, cut), size: bytes.length }
      const result = await spool.commit(await received(spool, bytes), dimse, { head, flushInline })
      expect(result).toMatchObject({ status: 'stored', sopInstanceUid: sopOf(SERIES_A, slice) })
      expect(new Uint8Array(await readFile(result.path))).toEqual(bytes)
    }
  })

  it('flushes through the descriptor a receiver still holds (a closed one fails the commit, nothing is placed)', async () => {
    const spool = await freshSpool()
    const bytes = instance(3)
    const path = await received(spool, bytes)
    const fd = openSync(path, 'r+')
    const result = await spool.commit(path, dimse, { fd })
    closeSync(fd)
    expect(result).toMatchObject({ status: 'stored', sopInstanceUid: sopOf(SERIES_A, 3) })
    // A descriptor number nothing has open (far above the process's limit): EBADF, whatever the file's name says.
    await expect(spool.commit(await received(spool, instance(4)), dimse, { fd: 1_000_000 })).rejects.toMatchObject({ code: 'SPOOL_IO' })
    expect(existsSync(join(spool.dir, STUDY, SERIES_A, `${sopOf(SERIES_A, 4)}.dcm`))).toBe(false)
  })

  it('makes a series folder again when it has gone since the last commit into it, and fails (once) when the object itself has gone', async () => {
    const spool = await freshSpool()
    await spool.commit(await received(spool, instance(5)), dimse)
    // As a settled study's tree is moved away while the receiver keeps running.
    await rm(join(spool.dir, STUDY), { recursive: true })
    const again = await spool.commit(await received(spool, instance(6)), dimse)
    expect(again).toMatchObject({ status: 'stored', path: join(spool.dir, STUDY, SERIES_A, `${sopOf(SERIES_A, 6)}.dcm`) })
    expect(new Uint8Array(await readFile(again.path))).toEqual(instance(6))
    // The incoming file removed under the receiver (its head still in memory): SPOOL_IO, not a retry loop.
    const bytes = instance(7)
    const path = await received(spool, bytes)
    const fd = openSync(path, 'r+')
    await rm(path)
    try {
      await expect(spool.commit(path, dimse, { fd, head: { bytes, size: bytes.length } })).rejects.toMatchObject({ code: 'SPOOL_IO' })
    } finally {
      closeSync(fd)
    }
    expect(existsSync(join(spool.dir, STUDY, SERIES_A))).toBe(true)
  })

  it('names incoming files uniquely, with a per-process tag and a serial', async () => {
    const spool = await freshSpool()
    const names = Array.from({ length: 1000 }, () => spool.incomingPath('x'))
    expect(new Set(names).size).toBe(1000)
    for (const name of names) expect(name.startsWith(join(spool.dir, 'incoming') + '/')).toBe(true)
    expect(spool.incomingPath('../../evil')).not.toContain('/../')
  })

  it('quarantines hostile UIDs with a reason and never makes a path from them', async () => {
    const spool = await freshSpool()
    const hostile = [
      syntheticDicom({ study: '../x', series: SERIES_A, sop: '1.2.3' }),
      syntheticDicom({ study: STUDY, series: '../../escape', sop: '1.2.3' }),
      syntheticDicom({ study: STUDY, series: SERIES_A, sop: '1.2.03/../../x' }),
      syntheticDicom({ study: '1.2.abc', series: SERIES_A, sop: '1.2.4' }),
    ]
    for (const bytes of hostile) {
      const result = await spool.commit(await received(spool, bytes), { source: 'folder', origin: '/drop/evil.dcm' })
      expect(result.status).toBe('quarantined')
      expect(result.reason?.code).toBe('UID_INVALID')
      expect(result.path.startsWith(join(spool.dir, 'quarantine'))).toBe(true)
      expect(new Uint8Array(await readFile(result.path))).toEqual(bytes)
      const reason = JSON.parse(await readFile(`${result.path}.reason.json`, 'utf8')) as Record<string, unknown>
      expect(reason).toMatchObject({ code: 'UID_INVALID', provenance: { source: 'folder', origin: '/drop/evil.dcm' }, originalName: 'evil.dcm' })
    }
    expect(existsSync(join(spool.dir, '..', 'x'))).toBe(false)
    expect(existsSync(join(spool.dir, '..', 'escape'))).toBe(false)
    expect((await readdir(spool.dir)).sort()).toEqual(['done', 'failed', 'incoming', 'jobs', 'quarantine', 'state', 'trash'])
    expect(await readdir(join(spool.dir, 'quarantine'))).toHaveLength(8)
  })

  it('quarantines non-DICOM and truncated files with their coded reason', async () => {
    const spool = await freshSpool()
    const text = await spool.commit(await received(spool, new TextEncoder().encode('hello, not DICOM')), dimse)
    expect(text).toMatchObject({ status: 'quarantined', reason: { code: 'DICOM_INVALID' } })
    const whole = instance(1)
    const truncated = await spool.commit(await received(spool, whole.subarray(0, whole.length - 10)), dimse)
    expect(truncated).toMatchObject({ status: 'quarantined', reason: { code: 'DICOM_TRUNCATED' } })
    const empty = await spool.commit(await received(spool, new Uint8Array()), dimse)
    expect(empty.status).toBe('quarantined')
    expect(existsSync(join(spool.dir, STUDY))).toBe(false)
  })

  it('drops a duplicate (same bytes) and keeps a different object with the same SOP Instance UID as a new version', async () => {
    const spool = await freshSpool()
    const first = await spool.commit(await received(spool, instance(0)), dimse)
    const again = await spool.commit(await received(spool, instance(0)), dimse)
    expect(again).toMatchObject({ status: 'duplicate', path: first.path })
    const changed = await spool.commit(await received(spool, instance(0, 1)), dimse)
    expect(changed.status).toBe('new-version')
    expect(changed.path).toBe(join(spool.dir, STUDY, SERIES_A, `${sopOf(SERIES_A, 0)}.v2.dcm`))
    const third = await spool.commit(await received(spool, instance(0, 2)), dimse)
    expect(third.path.endsWith('.v3.dcm')).toBe(true)
    // A resend of version 2 is a duplicate of it, not a fourth version.
    expect(await spool.commit(await received(spool, instance(0, 1)), dimse)).toMatchObject({ status: 'duplicate', path: changed.path })
    expect((await readdir(join(spool.dir, STUDY, SERIES_A))).sort()).toEqual(
      [`${sopOf(SERIES_A, 0)}.dcm`, `${sopOf(SERIES_A, 0)}.v2.dcm`, `${sopOf(SERIES_A, 0)}.v3.dcm`].sort(),
    )
    expect(new Uint8Array(await readFile(changed.path))).toEqual(instance(0, 1))
    expect(await readdir(join(spool.dir, 'incoming'))).toEqual([])
  })

  it('runs concurrent commits for one study without races: versions numbered without gaps, duplicates dropped', async () => {
    const spool = await freshSpool()
    const objects: Uint8Array[] = []
    for (let slice = 0; slice < 20; slice++) objects.push(instance(slice))
    for (let seed = 1; seed <= 6; seed++) objects.push(instance(100, seed, `${SERIES_A}.999`))
    for (let copy = 0; copy < 6; copy++) objects.push(instance(5))
    const paths = await Promise.all(objects.map((bytes) => received(spool, bytes)))
    const results = await Promise.all(paths.map((path) => spool.commit(path, dimse)))
    const count = (status: string) => results.filter((r) => r.status === status).length
    expect([count('stored'), count('new-version'), count('duplicate')]).toEqual([21, 5, 6])
    const names = (await readdir(join(spool.dir, STUDY, SERIES_A))).filter((name) => name.startsWith(`${SERIES_A}.999.`))
    expect(names.sort()).toEqual([`${SERIES_A}.999.dcm`, ...[2, 3, 4, 5, 6].map((v) => `${SERIES_A}.999.v${v}.dcm`)].sort())
    // Each version holds one of the six different objects: none lost, none twice.
    const held = await Promise.all(names.map(async (name) => Buffer.from(await readFile(join(spool.dir, STUDY, SERIES_A, name))).toString('hex')))
    expect(new Set(held).size).toBe(6)
    expect(await readdir(join(spool.dir, 'incoming'))).toEqual([])
  })

  it('stores as received what the pipeline cannot decode but is still DICOM: an MPEG-2 object, a structured report', async () => {
    const spool = await freshSpool()
    const mpeg = readPart10(instance(0))
    mpeg.meta['00020010'] = { vr: 'UI', Value: ['1.2.840.10008.1.2.4.100'] }
    const mpegBytes = writePart10(mpeg)
    const stored = await spool.commit(await received(spool, mpegBytes), dimse)
    expect(stored).toMatchObject({ status: 'stored', sopInstanceUid: sopOf(SERIES_A, 0) })
    expect(new Uint8Array(await readFile(stored.path))).toEqual(mpegBytes)
    const report = readPart10(instance(1))
    delete report.dict['7FE00010']
    report.dict['00080016'] = { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.88.11'] }
    report.meta['00020002'] = { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.88.11'] }
    expect(await spool.commit(await received(spool, writePart10(report)), dimse)).toMatchObject({ status: 'stored', sopInstanceUid: sopOf(SERIES_A, 1) })
  })

  it('refuses a path outside incoming/ and rejects with SPOOL_IO when the object cannot be read', async () => {
    const spool = await freshSpool()
    const outside = join(spool.dir, '..', 'outside.dcm')
    await writeFile(outside, instance(0))
    await expect(spool.commit(outside, dimse)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    await expect(spool.commit(spool.incomingPath(), dimse)).rejects.toMatchObject({ code: 'SPOOL_IO', retryable: true })
    expect(existsSync(outside)).toBe(true)
  })
})

describe('ingestFile and quarantine', () => {
  it('copies an outside file in, commits it, then removes the original; junk goes to quarantine', async () => {
    const root = await tempDir()
    const spool = await createSpool({ dir: join(root, 'spool') })
    await mkdir(join(root, 'drop'))
    const good = join(root, 'drop', 'IM0001')
    await writeFile(good, instance(3))
    const result = await spool.ingestFile(good, { source: 'folder' })
    expect(result.status).toBe('stored')
    expect(existsSync(good)).toBe(false)
    expect(new Uint8Array(await readFile(result.path))).toEqual(instance(3))
    const junk = join(root, 'drop', 'README.txt')
    await writeFile(junk, 'notes')
    const quarantined = await spool.ingestFile(junk, { source: 'folder' })
    expect(quarantined.status).toBe('quarantined')
    expect(existsSync(junk)).toBe(false)
    expect(await readFile(quarantined.path, 'utf8')).toBe('notes')
    expect(JSON.parse(await readFile(`${quarantined.path}.reason.json`, 'utf8'))).toMatchObject({
      code: 'DICOM_INVALID',
      originalName: 'README.txt',
      provenance: { source: 'folder', origin: junk },
    })
    await expect(spool.ingestFile(join(root, 'drop', 'gone'), { source: 'folder' })).rejects.toMatchObject({ code: 'SPOOL_SOURCE_CHANGED' })
  })

  it('quarantine() takes bytes or a file and writes the reason beside it', async () => {
    const spool = await freshSpool()
    const path = await spool.quarantine(new Uint8Array([1, 2, 3]), { code: 'DIMSE_BAD', message: 'bad object' }, dimse)
    expect([...(await readFile(path))]).toEqual([1, 2, 3])
    expect(JSON.parse(await readFile(`${path}.reason.json`, 'utf8'))).toMatchObject({ code: 'DIMSE_BAD', message: 'bad object', provenance: dimse })
  })
})

describe('createSpool', () => {
  it('creates its folders, returns the same spool for the same folder, and removes leftovers of a crash', async () => {
    const dir = join(await tempDir(), 'spool')
    const spool = await createSpool({ dir })
    expect(await createSpool({ dir })).toBe(spool)
    await writeFile(spool.incomingPath('half'), 'partial object')
    await mkdir(join(dir, 'trash', 'half-deleted'), { recursive: true })
    await mkdir(join(dir, 'jobs', '.1.2.3.g1.abcd.pacsflow-tmp'))
    closeSpool(spool)
    const reopened = await createSpool({ dir })
    expect(reopened).not.toBe(spool)
    expect(await readdir(join(dir, 'incoming'))).toEqual([])
    expect(await readdir(join(dir, 'trash'))).toEqual([])
    expect(await readdir(join(dir, 'jobs'))).toEqual([])
    await expect(createSpool({ dir: '' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
  })
})

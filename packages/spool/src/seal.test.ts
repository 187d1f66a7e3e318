// Sealed commits: answered once durable, placed after; what a crash leaves sealed in incoming/ is committed at the next opening.
import { closeSync, existsSync, linkSync, openSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { silentLogger, type Logger } from '@pacsflow/core'
import { readSeal, SEAL_BYTES, writeSeal } from './seal.js'
import { FolderFlusher } from './fs-util.js'
import { closeSpool, createSpool, spoolCore } from './spool.js'
import type { Spool } from './types.js'
import { SERIES_A, sopOf, STUDY, syntheticDicom, useTempDirs } from './test-support/dicom.js'

const tempDir = useTempDirs()
const dimse = { source: 'dimse', origin: 'SCANNER@127.0.0.1' }

const instance = (slice: number, seed = 0) => syntheticDicom({ study: STUDY, series: SERIES_A, sop: sopOf(SERIES_A, slice), slice, seed })

/** The object's bytes with the seal in their preamble, as a receiver writes them. */
function sealed(bytes: Uint8Array, provenance = dimse): Uint8Array {
  const out = bytes.slice()
  writeSeal(out, out.length, provenance)
  return out
}

/** A logger that keeps its warnings and errors as text. */
function recordingLog(): Logger & { readonly lines: string[] } {
  const lines: string[] = []
  const log: Logger & { lines: string[] } = {
    ...silentLogger,
    lines,
    warn: (_fields: unknown, message?: string) => void lines.push(`warn: ${String(message)}`),
    error: (_fields: unknown, message?: string) => void lines.push(`error: ${String(message)}`),
    child: () => log,
  }
  return log
}

describe('the seal', () => {
  it('says the size and who sent the object, and nothing for a preamble without one', () => {
    const preamble = new Uint8Array(SEAL_BYTES).fill(0xee)
    writeSeal(preamble, 227_094, { source: 'dimse', origin: 'MY SCANNER@10.0.0.7' })
    expect(readSeal(preamble)).toEqual({ size: 227_094, provenance: { source: 'dimse', origin: 'MY SCANNER@10.0.0.7' } })
    expect(preamble.at(-1)).toBe(0) // padded with NULs over what was there
    writeSeal(preamble, 500, { source: 'folder' })
    expect(readSeal(preamble)).toEqual({ size: 500, provenance: { source: 'folder' } })
    // A newline cannot break the lines; an origin too long for the preamble is cut.
    writeSeal(preamble, 500, { source: 'dimse', origin: `A\nB@${'9'.repeat(200)}` })
    expect(readSeal(preamble)?.provenance.origin).toMatch(/^A B@9+$/)
    expect(readSeal(new Uint8Array(SEAL_BYTES))).toBeUndefined()
    expect(readSeal(new TextEncoder().encode(`PACSFLOW-SEAL/1\nnot a size\ndimse\n${'\0'.repeat(100)}`))).toBeUndefined()
    expect(readSeal(new TextEncoder().encode('II*\0 a TIFF header in the preamble'.padEnd(SEAL_BYTES, '\0')))).toBeUndefined()
    expect(() => writeSeal(new Uint8Array(64), 500, dimse)).toThrow(RangeError)
  })
})

describe('a sealed commit', () => {
  async function receivedSealed(spool: Spool, bytes: Uint8Array): Promise<string> {
    const path = spool.incomingPath('obj')
    await writeFile(path, sealed(bytes))
    return path
  }

  it('resolves accepted while the object is still in incoming/, then places it (stored, then duplicate) and tells the arrival listeners', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    const arrivals: string[] = []
    spoolCore(spool).arrivals.add((event) => arrivals.push(`${event.status} ${event.sopInstanceUid}`))
    const bytes = instance(0)
    const path = await receivedSealed(spool, bytes)
    const accepted = await spool.commit(path, dimse, { sealed: true, head: { bytes: sealed(bytes), size: bytes.length } })
    expect(accepted).toMatchObject({ status: 'accepted', path, studyInstanceUid: STUDY, seriesInstanceUid: SERIES_A, sopInstanceUid: sopOf(SERIES_A, 0) })
    // Not placed yet: the caller answers its sender first.
    expect(existsSync(path)).toBe(true)
    expect(arrivals).toEqual([])
    const placed = await accepted.placed
    const target = join(spool.dir, STUDY, SERIES_A, `${sopOf(SERIES_A, 0)}.dcm`)
    expect(placed).toEqual({ status: 'stored', path: target, studyInstanceUid: STUDY, seriesInstanceUid: SERIES_A, sopInstanceUid: sopOf(SERIES_A, 0) })
    expect(new Uint8Array(await readFile(target))).toEqual(sealed(bytes))
    expect(await readdir(join(spool.dir, 'incoming'))).toEqual([])
    expect(arrivals).toEqual([`stored ${sopOf(SERIES_A, 0)}`])
    const again = await spool.commit(await receivedSealed(spool, bytes), dimse, { sealed: true })
    expect(await again.placed).toMatchObject({ status: 'duplicate', path: target })
  })

  it('quarantines what is not usable DICOM before it resolves, as an unsealed commit does', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    const whole = instance(1)
    const path = await receivedSealed(spool, whole.subarray(0, whole.length - 10))
    const result = await spool.commit(path, dimse, { sealed: true })
    expect(result).toMatchObject({ status: 'quarantined', reason: { code: 'DICOM_TRUNCATED' } })
    expect(result.placed).toBeUndefined()
  })

  it('leaves an object it cannot place sealed in incoming/, and the next opening commits it', async () => {
    const dir = join(await tempDir(), 'spool')
    const log = recordingLog()
    const spool = await createSpool({ dir, log })
    // A file where the study's folder must go: the placement fails (ENOTDIR/EEXIST), as on a broken disk.
    await writeFile(join(dir, STUDY), 'in the way')
    const bytes = instance(2)
    const path = await receivedSealed(spool, bytes)
    const accepted = await spool.commit(path, dimse, { sealed: true })
    expect(accepted.status).toBe('accepted')
    expect(await accepted.placed).toEqual({ status: 'accepted', path, studyInstanceUid: STUDY, seriesInstanceUid: SERIES_A, sopInstanceUid: sopOf(SERIES_A, 2) })
    expect(log.lines.some((line) => line.startsWith('error: an accepted object could not be put in its study tree'))).toBe(true)
    expect(existsSync(path)).toBe(true)
    await rm(join(dir, STUDY))
    closeSpool(spool)
    await createSpool({ dir, log })
    expect(new Uint8Array(await readFile(join(dir, STUDY, SERIES_A, `${sopOf(SERIES_A, 2)}.dcm`)))).toEqual(sealed(bytes))
    expect(await readdir(join(dir, 'incoming'))).toEqual([])
  })
})

describe('opening a spool after a crash', () => {
  it('commits whole sealed objects left in incoming/ and removes partial, unsealed and empty ones', async () => {
    const dir = join(await tempDir(), 'spool')
    const spool = await createSpool({ dir })
    const whole = sealed(instance(3), { source: 'dimse', origin: 'MRI@127.0.0.1' })
    await writeFile(spool.incomingPath('whole'), whole)
    // Sealed with its full size, but only part of it reached the disk.
    const cut = sealed(instance(4))
    await writeFile(spool.incomingPath('cut'), cut.subarray(0, cut.length - 10))
    await writeFile(spool.incomingPath('unsealed'), instance(5))
    closeSync(openSync(spool.incomingPath('prepared'), 'wx'))
    await mkdir(spool.incomingPath('folder'))
    closeSpool(spool)
    const log = recordingLog()
    await createSpool({ dir, log })
    expect(await readdir(join(dir, STUDY, SERIES_A))).toEqual([`${sopOf(SERIES_A, 3)}.dcm`])
    expect(new Uint8Array(await readFile(join(dir, STUDY, SERIES_A, `${sopOf(SERIES_A, 3)}.dcm`)))).toEqual(whole)
    expect(await readdir(join(dir, 'incoming'))).toEqual([])
    // Removed, not committed (and so not quarantined either).
    expect(await readdir(join(dir, 'quarantine'))).toEqual([])
    expect(log.lines).toContain('warn: committed the sealed objects a crash left in incoming/ (received, perhaps acknowledged, not yet placed)')
    expect(log.lines).toContain('warn: removed unsealed objects a crash left in incoming/ (none was acknowledged without being stored in its study folder; senders still hold the rest)')
  })

  it('keeps the incoming name until the series folder holding the new one is flushed, sealed or not', async () => {
    const spool = await createSpool({ dir: join(await tempDir(), 'spool') })
    const seen: boolean[] = []
    let incomingPath = ''
    const flush = FolderFlusher.prototype.flush
    const spy = vi.spyOn(FolderFlusher.prototype, 'flush').mockImplementation(function (this: FolderFlusher, ...args) {
      seen.push(existsSync(incomingPath))
      return flush.apply(this, args)
    })
    try {
      for (const [slice, isSealed] of [[6, true], [7, false]] as const) {
        incomingPath = spool.incomingPath(`obj${slice}`)
        await writeFile(incomingPath, isSealed ? sealed(instance(slice)) : instance(slice))
        const result = await spool.commit(incomingPath, dimse, { sealed: isSealed })
        expect(await (result.placed ?? Promise.resolve(result))).toMatchObject({ status: 'stored' })
        expect(existsSync(incomingPath)).toBe(false)
      }
    } finally {
      spy.mockRestore()
    }
    // One series-folder flush per commit, each while the incoming name was still there.
    expect(seen).toEqual([true, true])
  })

  it('drops the incoming name of an object a crash left both placed and in incoming/', async () => {
    const dir = join(await tempDir(), 'spool')
    const spool = await createSpool({ dir })
    const bytes = sealed(instance(8))
    const path = spool.incomingPath('placed')
    await writeFile(path, bytes)
    const result = await spool.commit(path, dimse, { sealed: true })
    const placed = await result.placed!
    expect(placed).toMatchObject({ status: 'stored' })
    // The crash came after the link was durable and before the incoming name was removed.
    linkSync(placed.path, path)
    closeSpool(spool)
    await createSpool({ dir })
    expect(await readdir(join(dir, 'incoming'))).toEqual([])
    expect(await readdir(join(dir, STUDY, SERIES_A))).toEqual([`${sopOf(SERIES_A, 8)}.dcm`])
    expect(new Uint8Array(await readFile(placed.path))).toEqual(bytes)
    expect(statSync(placed.path).nlink).toBe(1)
  })
})

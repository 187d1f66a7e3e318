// readDicomHeader with `head`: the header parsed from bytes a receiver still holds, the file read only when they fall short.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { writePart10, type RawDict } from './dcmjs.js'
import { readDicomHeader } from './header.js'

const MR = '1.2.840.10008.5.1.4.1.1.4'

function instanceBytes(sop: string, rows = 8): Uint8Array {
  const meta: RawDict = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [MR] },
    '00020003': { vr: 'UI', Value: [sop] },
    '00020010': { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] },
  }
  const dict: RawDict = {
    '00080016': { vr: 'UI', Value: [MR] },
    '00080018': { vr: 'UI', Value: [sop] },
    '00080060': { vr: 'CS', Value: ['MR'] },
    '0020000D': { vr: 'UI', Value: ['1.2.3.1'] },
    '0020000E': { vr: 'UI', Value: ['1.2.3.1.2'] },
    '00200013': { vr: 'IS', Value: [1] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [rows] },
    '00280011': { vr: 'US', Value: [rows] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OW', Value: [new Uint16Array(rows * rows).fill(7).buffer] },
  }
  return writePart10({ meta, dict })
}

let scratch = ''
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pacsflow-head-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught)
  return isPacsflowError(error) ? error.code : `not a PacsflowError: ${String(error)}`
}

describe('readDicomHeader({ head })', () => {
  it('gives the same instance as the file read', async () => {
    const bytes = instanceBytes('1.2.3.1.2.1')
    const path = join(scratch, 'same.dcm')
    await writeFile(path, bytes)
    const fromFile = await readDicomHeader(path)
    expect(await readDicomHeader(path, { head: { bytes, size: bytes.length } })).toEqual(fromFile)
    expect(fromFile.sopInstanceUid).toBe('1.2.3.1.2.1')
  })

  it('parses the head without reading the file when the head reaches the pixel data', async () => {
    const bytes = instanceBytes('1.2.3.1.2.2')
    const path = join(scratch, 'elsewhere.dcm')
    // The file on disk says something else: only the head can have given this SOP Instance UID.
    await writeFile(path, instanceBytes('1.2.3.1.2.99'))
    expect((await readDicomHeader(path, { head: { bytes, size: bytes.length } })).sopInstanceUid).toBe('1.2.3.1.2.2')
  })

  it('reads the file when the head ends before the header does', async () => {
    const bytes = instanceBytes('1.2.3.1.2.3')
    const path = join(scratch, 'short-head.dcm')
    await writeFile(path, bytes)
    for (const cut of [16, 131, 200]) {
      const head = { bytes: bytes.subarray(0, cut), size: bytes.length }
      expect((await readDicomHeader(path, { head })).sopInstanceUid, `head of ${cut} bytes`).toBe('1.2.3.1.2.3')
    }
  })

  it('refuses a head longer than the file, and finds truncated pixel data from the size', async () => {
    const bytes = instanceBytes('1.2.3.1.2.4')
    const path = join(scratch, 'sizes.dcm')
    await writeFile(path, bytes)
    expect(await codeOf(readDicomHeader(path, { head: { bytes, size: bytes.length - 1 } }))).toBe('DICOM_INVALID')
    const cut = bytes.subarray(0, bytes.length - 10)
    expect(await codeOf(readDicomHeader(path, { head: { bytes: cut, size: cut.length } }))).toBe('DICOM_TRUNCATED')
  })

  it('reports what is not DICOM in the head as the file read would', async () => {
    const junk = new TextEncoder().encode('not DICOM at all\n'.repeat(40))
    const path = join(scratch, 'junk.txt')
    await writeFile(path, junk)
    expect(await codeOf(readDicomHeader(path, { head: { bytes: junk, size: junk.length } }))).toBe(await codeOf(readDicomHeader(path)))
  })
})

// readDicomIdentity: the identity a store files an object by, refusing exactly what readDicomHeader refuses.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { writePart10, type RawDict } from './dcmjs.js'
import { readDicomHeader, readDicomIdentity } from './header.js'
import { withTransferSyntax } from './test-fixtures.js'

const MR = '1.2.840.10008.5.1.4.1.1.4'
const ENHANCED_MR = '1.2.840.10008.5.1.4.1.1.4.1'

/** A small MR object; `edit` changes its data set before it is written. */
function objectBytes(edit: (dict: RawDict) => void = () => {}, sopClass = MR): Uint8Array {
  const meta: RawDict = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClass] },
    '00020003': { vr: 'UI', Value: ['1.2.3.1.2.1'] },
    '00020010': { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] },
  }
  const dict: RawDict = {
    '00080016': { vr: 'UI', Value: [sopClass] },
    '00080018': { vr: 'UI', Value: ['1.2.3.1.2.1'] },
    '0020000D': { vr: 'UI', Value: ['1.2.3.1'] },
    '0020000E': { vr: 'UI', Value: ['1.2.3.1.2'] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [8] },
    '00280011': { vr: 'US', Value: [8] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OW', Value: [new Uint16Array(64).fill(7).buffer] },
  }
  edit(dict)
  return writePart10({ meta, dict })
}

/** An Enhanced MR object with one frame in its functional groups. */
function enhancedBytes(): Uint8Array {
  return objectBytes((dict) => {
    dict['00280008'] = { vr: 'IS', Value: [1] }
    dict['52009229'] = { vr: 'SQ', Value: [{ '00289110': { vr: 'SQ', Value: [{ '00280030': { vr: 'DS', Value: [1, 1] } }] } }] }
    dict['52009230'] = { vr: 'SQ', Value: [{ '00209113': { vr: 'SQ', Value: [{ '00200032': { vr: 'DS', Value: [0, 0, 0] } }] } }] }
  }, ENHANCED_MR)
}

/** `bytes` with the first item of the Per-Frame Functional Groups Sequence claiming more bytes than its sequence holds. */
function withBrokenPerFrameItem(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  const view = new DataView(out.buffer)
  for (let at = 132; at + 12 < out.length; at++) {
    // (5200,9230) SQ, then its first item (FFFE,E000): the item's 32-bit length follows its tag.
    if (view.getUint16(at, true) === 0x5200 && view.getUint16(at + 2, true) === 0x9230 && out[at + 4] === 0x53 && out[at + 5] === 0x51) {
      const item = at + 12
      if (view.getUint16(item, true) !== 0xfffe || view.getUint16(item + 2, true) !== 0xe000) break
      view.setUint32(item + 4, 0x7ffffff0, true)
      return out
    }
  }
  throw new Error('no Per-Frame Functional Groups item to break')
}

let scratch = ''
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pacsflow-identity-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function outcome(promise: Promise<{ studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }>): Promise<string> {
  try {
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = await promise
    return `${studyInstanceUid} ${seriesInstanceUid} ${sopInstanceUid}`
  } catch (error) {
    return isPacsflowError(error) ? error.code : `not a PacsflowError: ${String(error)}`
  }
}

describe('readDicomIdentity', () => {
  const good = objectBytes()
  const cases: Record<string, Uint8Array> = {
    'a classic MR image': good,
    'an Enhanced MR image': enhancedBytes(),
    'not DICOM': new TextEncoder().encode('not DICOM at all\n'.repeat(40)),
    'cut in its pixel data': good.subarray(0, good.length - 10),
    'cut in its header': good.subarray(0, 200),
    'a hostile Series Instance UID': objectBytes((dict) => (dict['0020000E'] = { vr: 'UI', Value: ['../x'] })),
    'no Study Instance UID': objectBytes((dict) => delete dict['0020000D']),
    'a DICOMDIR': objectBytes(() => {}, '1.2.840.10008.1.3.10'),
    'pixel data without Rows': objectBytes((dict) => delete dict['00280010']),
    'pixel data shorter than its attributes': objectBytes((dict) => (dict['00280010'] = { vr: 'US', Value: [9] })),
    'a transfer syntax nothing here decodes': withTransferSyntax(good, '1.2.840.10008.1.2.4.100'),
    'a broken Per-Frame Functional Groups item': withBrokenPerFrameItem(enhancedBytes()),
  }

  it('gives what readDicomHeader gives, or fails with its code, for good and broken objects, from the file and from a head', async () => {
    const seen = new Map<string, string>()
    for (const [name, bytes] of Object.entries(cases)) {
      const path = join(scratch, `${name.replaceAll(' ', '-')}.dcm`)
      await writeFile(path, bytes)
      const expected = await outcome(readDicomHeader(path))
      seen.set(name, expected)
      expect(await outcome(readDicomIdentity(path)), name).toBe(expected)
      expect(await outcome(readDicomIdentity(path, { direct: true })), `${name}, direct`).toBe(expected)
      expect(await outcome(readDicomIdentity(path, { head: { bytes, size: bytes.length } })), `${name}, head`).toBe(expected)
    }
    // Each case is what its name says (so that the comparison above covers every refusal).
    expect(Object.fromEntries(seen)).toEqual({
      'a classic MR image': '1.2.3.1 1.2.3.1.2 1.2.3.1.2.1',
      'an Enhanced MR image': '1.2.3.1 1.2.3.1.2 1.2.3.1.2.1',
      'not DICOM': 'DICOM_INVALID',
      'cut in its pixel data': 'DICOM_TRUNCATED',
      'cut in its header': 'DICOM_TRUNCATED',
      'a hostile Series Instance UID': 'UID_INVALID',
      'no Study Instance UID': 'UID_INVALID',
      'a DICOMDIR': 'DICOM_INVALID',
      'pixel data without Rows': 'DICOM_INVALID',
      'pixel data shorter than its attributes': 'DICOM_TRUNCATED',
      'a transfer syntax nothing here decodes': 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
      'a broken Per-Frame Functional Groups item': 'DICOM_INVALID',
    })
  })

  it('names the file in its errors and gives the transfer syntax and SOP class', async () => {
    const path = join(scratch, 'named.dcm')
    await writeFile(path, cases['a hostile Series Instance UID']!)
    await expect(readDicomIdentity(path)).rejects.toMatchObject({ code: 'UID_INVALID', details: { path, value: '../x' } })
    await writeFile(path, good)
    expect(await readDicomIdentity(path)).toEqual({
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sopClassUid: MR,
      studyInstanceUid: '1.2.3.1',
      seriesInstanceUid: '1.2.3.1.2',
      sopInstanceUid: '1.2.3.1.2.1',
    })
  })
})

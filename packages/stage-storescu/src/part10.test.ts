// The meta group reader finds the transfer syntax, the UIDs and where the data set starts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { testDataDir } from '@pacsflow/testkit'
import { parsePart10Meta } from './part10.js'

function element(group: number, element: number, vr: string, value: Buffer): Buffer {
  const long = ['OB', 'UN', 'SQ'].includes(vr)
  const header = Buffer.alloc(long ? 12 : 8)
  header.writeUInt16LE(group, 0)
  header.writeUInt16LE(element, 2)
  header.write(vr, 4, 'latin1')
  if (long) header.writeUInt32LE(value.length, 8)
  else header.writeUInt16LE(value.length, 6)
  return Buffer.concat([header, value])
}

function part10(...elements: Buffer[]): Buffer {
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), ...elements])
}

const uid = (text: string): Buffer => Buffer.from(text.length % 2 === 0 ? text : `${text}\0`, 'latin1')

describe('parsePart10Meta', () => {
  it('reads a synthetic meta group (long and short VRs, NUL padding) and stops at group 0008', () => {
    const bytes = part10(
      element(2, 0x0001, 'OB', Buffer.from([0, 1])),
      element(2, 0x0002, 'UI', uid('1.2.840.10008.5.1.4.1.1.4')),
      element(2, 0x0003, 'UI', uid('1.2.3')),
      element(2, 0x0010, 'UI', uid('1.2.840.10008.1.2.1')),
      element(8, 0x0016, 'UI', uid('1.2.840.10008.5.1.4.1.1.4')),
    )
    expect(parsePart10Meta(bytes, 'x')).toEqual({
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
      sopInstanceUid: '1.2.3',
      datasetOffset: 132 + 14 + 34 + 14 + 28,
    })
  })

  it('rejects what is not Part 10, has no transfer syntax, or is cut inside its meta group', () => {
    const noMagic = Buffer.alloc(200)
    const noSyntax = part10(element(2, 0x0002, 'UI', uid('1.2')), element(8, 0x0016, 'UI', uid('1.2')))
    const cut = part10(element(2, 0x0010, 'UI', uid('1.2.840.10008.1.2.1'))).subarray(0, 140)
    for (const bytes of [noMagic, noSyntax, cut]) {
      expect(() => parsePart10Meta(bytes, 'bad.dcm')).toThrow(expect.objectContaining({ code: 'DICOM_INVALID' }))
    }
    try {
      parsePart10Meta(noMagic, 'bad.dcm')
    } catch (error) {
      expect(isPacsflowError(error) && error.details).toEqual({ path: 'bad.dcm' })
    }
  })

  const dataDir = testDataDir()
  it.skipIf(dataDir === undefined)('agrees with the real Siemens file (meta group length 212)', () => {
    const bytes = readFileSync(join(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In/e1_01.dcm'))
    const meta = parsePart10Meta(bytes, 'e1_01.dcm')
    expect(meta).toMatchObject({ transferSyntaxUid: '1.2.840.10008.1.2.1', sopClassUid: '1.2.840.10008.5.1.4.1.1.4' })
    // (0002,0000) says 212 bytes follow its own 12.
    expect(meta.datasetOffset).toBe(132 + 12 + 212)
    expect(bytes.readUInt16LE(meta.datasetOffset)).toBe(0x0008)
  })
})

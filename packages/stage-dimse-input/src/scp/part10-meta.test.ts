import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readDicomHeader } from '@pacsflow/imaging'
import { testDataDir } from '@pacsflow/testkit'
import { datasetOffset, metaFields, removeDir, tempDir } from '../test-support/dicom-files.js'
import { encodeFileMeta, implementation } from './part10-meta.js'

const dataDir = testDataDir()
const scratch = tempDir('meta')
afterAll(() => removeDir(scratch))

describe('file meta information', () => {
  const fields = { sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: '1.2.3.45', transferSyntaxUid: '1.2.840.10008.1.2.1', sourceAet: 'SCANNER' }

  it('is the preamble, DICM and group 0002 with its length, version 00\\01, the request UIDs, our identity and the sender (PS3.10 7.1)', () => {
    const meta = encodeFileMeta(fields)
    expect(meta.subarray(0, 128).every((byte) => byte === 0)).toBe(true)
    expect(meta.toString('latin1', 128, 132)).toBe('DICM')
    expect(datasetOffset(meta)).toBe(meta.length)
    const path = join(scratch, 'meta-only.dcm')
    writeFileSync(path, meta)
    expect(metaFields(path)).toEqual({
      '00020000': expect.any(String),
      '00020001': '0001',
      '00020002': fields.sopClassUid,
      '00020003': fields.sopInstanceUid,
      '00020010': fields.transferSyntaxUid,
      '00020012': implementation.classUid,
      '00020013': implementation.versionName,
      '00020016': 'SCANNER',
    })
    // Every value has an even length (PS3.5 7.1.1): UIDs padded with NUL, text with a space.
    expect(meta.length % 2).toBe(0)
  })

  it('names our implementation with a 2.25 UID and a version name of at most 16 characters', () => {
    expect(implementation.classUid).toMatch(/^2\.25\.[1-9]\d*$/)
    expect(implementation.classUid.length).toBeLessThanOrEqual(64)
    expect(implementation.versionName.length).toBeLessThanOrEqual(16)
  })

  it.skipIf(dataDir === undefined)('makes, with a received data set behind it, a file the imaging index reads', async () => {
    const original = readFileSync(join(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In/e1_01.dcm'))
    const dataset = original.subarray(datasetOffset(original))
    const header = await readDicomHeader(join(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph/In/e1_01.dcm'))
    const path = join(scratch, 'received.dcm')
    writeFileSync(path, Buffer.concat([encodeFileMeta({ ...fields, sopInstanceUid: header.sopInstanceUid }), dataset]))
    expect(await readDicomHeader(path)).toMatchObject({ sopInstanceUid: header.sopInstanceUid, studyInstanceUid: header.studyInstanceUid, transferSyntaxUid: fields.transferSyntaxUid })
  })
})

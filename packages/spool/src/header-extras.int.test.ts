// What the shared real data announces for early completion: checked so the README's claim stays true.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { copyTestSeries, testDataDir } from '@pacsflow/testkit'
import { readHeaderExtras } from './header-extras.js'
import { syntheticDicom } from './test-support/dicom.js'

const dataDir = testDataDir()
const SERIES = [
  'dcm_qa_fmap/Siemens_2_gre_field_magph',
  'dcm_qa_fmap/Siemens_3_gre_field_magph',
  'dcm_qa_xa30i/5001_anat-T1w_acq-tfl',
  'dcm_qa_xa30i/gre_field_mapping_9001_9002_10001',
  'dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping',
  'dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8',
]

describe('readHeaderExtras', () => {
  let scratch: string | undefined
  afterAll(async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
  })

  it('reads the UIDs and ImagesInAcquisition, and returns undefined for what is not DICOM', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pacsflow-extras-'))
    const path = join(scratch, 'x.dcm')
    await writeFile(path, syntheticDicom({ study: '1.2.3', series: '1.2.3.4', sop: '1.2.3.4.5', imagesInAcquisition: 176 }))
    expect(await readHeaderExtras(path)).toEqual({ studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5', imagesInAcquisition: 176 })
    await writeFile(path, 'plain text')
    expect(await readHeaderExtras(path)).toBeUndefined()
  })

  it.skipIf(dataDir === undefined)('finds no ImagesInAcquisition in any shared real series (so they complete by the quiet period)', async () => {
    scratch ??= await mkdtemp(join(tmpdir(), 'pacsflow-extras-'))
    for (const [index, folder] of SERIES.entries()) {
      const [first] = copyTestSeries(folder, join(scratch, `s${index}`), dataDir)
      const extras = await readHeaderExtras(first!)
      expect(extras?.sopInstanceUid, folder).toBeDefined()
      expect(extras?.imagesInAcquisition, folder).toBeUndefined()
    }
  })
})

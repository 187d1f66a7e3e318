// folderInput on the shared real data: exam folders, loose files, nested folders, slowly written files and junk dropped
// while it runs; each study is yielded once with every instance, byte for byte, and the junk is quarantined.
import { createHash } from 'node:crypto'
import { cp, mkdir, readdir, readFile, writeFile, appendFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Delivery } from '@pacsflow/core'
import { indexDicom, type DicomStudy } from '@pacsflow/imaging'
import { copyTestSeries, testDataDir } from '@pacsflow/testkit'
import { folderInput } from './folder-input.js'
import { openSource, useTempDirs, waitFor } from './test-support/helpers.js'

const tempDir = useTempDirs()
const dataDir = testDataDir()
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(dataDir === undefined)('folderInput on real data', () => {
  it('yields each of the 4 studies once, with every instance byte for byte, whatever the layout', async () => {
    const root = await tempDir()
    const staging = join(root, 'staging')
    const drop = join(root, 'drop')
    await mkdir(drop)
    const series = {
      fmapMagnitude: copyTestSeries('dcm_qa_fmap/Siemens_2_gre_field_magph', join(staging, 'fmap-mag'), dataDir),
      fmapPhase: copyTestSeries('dcm_qa_fmap/Siemens_3_gre_field_magph', join(staging, 'fmap-ph'), dataDir),
      t1: copyTestSeries('dcm_qa_xa30i/5001_anat-T1w_acq-tfl', join(staging, 't1'), dataDir),
      gre: copyTestSeries('dcm_qa_xa30i/gre_field_mapping_9001_9002_10001', join(staging, 'gre'), dataDir),
      philips: copyTestSeries('dcm_qa_philips_enh/cl_2001_WIP_fcMRI_Field_Mapping', join(staging, 'philips'), dataDir),
      enhanced: copyTestSeries('dcm_qa_enh/Siemens_XA10_6_REST1_w_SMS_PF7-8', join(staging, 'enhanced'), dataDir),
    }
    const expected = new Map<string, Map<string, string>>()
    for (const instance of (await indexDicom(staging)).instances) {
      const study = expected.get(instance.studyInstanceUid) ?? new Map<string, string>()
      study.set(instance.sopInstanceUid, sha(await readFile(instance.path)))
      expected.set(instance.studyInstanceUid, study)
    }
    expect([...expected.values()].map((study) => study.size).sort((a, b) => a - b)).toEqual([4, 108, 195, 212])

    const source = openSource(folderInput({ dir: drop, spool: join(root, 'spool'), stableMs: 300, pollMs: 500, quietPeriodMs: 2_000 }))
    const deliveries: Delivery<DicomStudy>[] = []
    const reading = (async () => {
      while (deliveries.length < 4) deliveries.push(await source.next(60_000))
    })()

    await cp(join(staging, 'fmap-mag'), join(drop, 'exam1', 'magnitude'), { recursive: true }) // an exam folder
    await cp(join(staging, 'fmap-ph'), join(drop, 'exam1', 'phase'), { recursive: true })
    for (const path of series.philips) await cp(path, join(drop, basename(path))) // loose files
    await cp(join(staging, 't1'), join(drop, 'a', 'b', 'c', 'd'), { recursive: true }) // deep nesting
    await cp(join(staging, 'gre'), join(drop, 'a', 'gre'), { recursive: true })
    await writeFile(join(drop, 'README.txt'), 'scanned at night')
    await writeFile(join(drop, 'a', '.DS_Store'), new Uint8Array(32))
    await writeFile(join(drop, 'DICOMDIR'), new Uint8Array(200))
    const cut = await readFile(series.t1[0]!)
    await writeFile(join(drop, 'cut.dcm'), cut.subarray(0, cut.length >> 1))
    // Enhanced multi-frame files written slowly, in pieces, as over a slow share.
    await mkdir(join(drop, 'slow'))
    for (const path of series.enhanced) {
      const bytes = await readFile(path)
      const piece = Math.ceil(bytes.length / 6)
      for (let at = 0; at < bytes.length; at += piece) {
        await appendFile(join(drop, 'slow', basename(path)), bytes.subarray(at, at + piece))
        await sleep(60)
      }
    }
    await reading

    expect(deliveries.map((d) => d.value.studyInstanceUid).sort()).toEqual([...expected.keys()].sort())
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(4)
    for (const delivery of deliveries) {
      expect(delivery.id).toBe(`${delivery.value.studyInstanceUid}.g1`)
      const want = expected.get(delivery.value.studyInstanceUid)!
      const got = new Map<string, string>()
      for (const instance of delivery.value.series.flatMap((s) => s.instances)) got.set(instance.sopInstanceUid, sha(await readFile(instance.path)))
      expect(got).toEqual(want)
      await delivery.ack()
    }
    expect(await source.nothingWithin(2_500)).toBe(true)

    const quarantine = join(root, 'spool', 'quarantine')
    const reasons = await Promise.all(
      (await readdir(quarantine)).filter((n) => n.endsWith('.reason.json')).map(async (n) => JSON.parse(await readFile(join(quarantine, n), 'utf8')) as { originalName: string; code: string }),
    )
    expect(reasons.map((r) => `${r.originalName}:${r.code}`).sort()).toEqual(['.DS_Store:DICOM_INVALID', 'README.txt:DICOM_INVALID', 'cut.dcm:DICOM_TRUNCATED'])
    await waitFor(async () => (await readdir(drop)).length === 0, 10_000)
    expect((await readdir(join(root, 'spool', 'done'))).sort()).toEqual([...expected.keys()].map((uid) => `${uid}.g1`).sort())
    await source.close()
  }, 120_000)
})

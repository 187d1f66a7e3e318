// A PACS (Orthanc on loopback) accepts the derived series over DICOM and files it in the reference's study.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { niftiLayout } from '@pacsflow/imaging'
import { haveTools, startOrthanc, testDataDir } from '@pacsflow/testkit'
import { niftiToDicom } from './nifti-to-dicom.js'
import { loadSeries, syntheticNifti, unpack } from './test-support/fixtures.js'

const dataDir = testDataDir()
const ready = dataDir !== undefined && haveTools('Orthanc', 'storescu')
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-dicomise-orthanc-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

interface OrthancSeries {
  readonly ID: string
  readonly ParentStudy: string
  readonly Instances: readonly string[]
  readonly MainDicomTags: { readonly SeriesInstanceUID: string; readonly Modality: string; readonly SeriesDescription?: string }
}

describe.skipIf(!ready)('Orthanc', () => {
  it("stores the series sent with storescu and reports it in the reference's study", async () => {
    const reference = await loadSeries(unpack(dataDir!, 'dcm_qa_xa30i/5001_anat-T1w_acq-tfl', scratch), 5001)
    const layout = niftiLayout(reference.volumes[0]!, reference)
    const nifti = join(scratch, 'qsm.nii.gz')
    await syntheticNifti(nifti, layout.dims, layout.affine, ([i, j, k]) => ((i + j + k) % 17) * 0.01 - 0.08)
    const result = await niftiToDicom({ nifti, reference, outDir: join(scratch, 'qsm'), uidSeed: 'orthanc' }, { profile: 'brainlab' })

    const orthanc = await startOrthanc()
    try {
      const send = async (files: readonly string[]) =>
        promisify(execFile)('storescu', ['-aec', orthanc.aet, orthanc.host, String(orthanc.dicomPort), ...files], {
          env: { ...process.env, TCP_NODELAY: '1' },
        })
      await send(reference.instances.slice(0, 3).map((instance) => instance.path))
      await send(result.files)
      const [studyId] = await orthanc.rest<string[]>('/tools/find', { Level: 'Study', Query: { StudyInstanceUID: reference.studyInstanceUid } })
      expect(studyId).toBeDefined()
      const series = await orthanc.rest<OrthancSeries[]>(`/studies/${studyId}/series`)
      const ours = series.find((s) => s.MainDicomTags.SeriesInstanceUID === result.series.seriesInstanceUid)
      expect(ours).toMatchObject({ ParentStudy: studyId, MainDicomTags: { Modality: 'MR' } })
      expect(ours!.Instances).toHaveLength(result.files.length)
      expect(series.map((s) => s.MainDicomTags.SeriesInstanceUID)).toContain(reference.seriesInstanceUid)
      // Sending again is idempotent: the same SOP Instance UIDs replace, never add.
      await send(result.files.slice(0, 5))
      expect(await orthanc.rest<string[]>(`/series/${ours!.ID}/instances`)).toHaveLength(result.files.length)
    } finally {
      await orthanc.stop()
    }
  }, 60_000)
})

// The stage in a real runner: typed input, checkpointable output in the job's workDir, the same
// UIDs when a job runs again, progress, and cancellation between slices.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createRunner, isPacsflowError, memoryJobStore, pipeline, type StageProgressEvent } from '@pacsflow/core'
import { niftiLayout, type DicomSeries } from '@pacsflow/imaging'
import { testDataDir } from '@pacsflow/testkit'
import { dicomise, type DicomiseInput } from './stage.js'
import { loadSeries, syntheticNifti, unpack } from './test-support/fixtures.js'

const dataDir = testDataDir()
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-dicomise-stage-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

async function fixture(): Promise<DicomiseInput> {
  const reference = await loadSeries(unpack(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph', scratch), 2)
  const layout = niftiLayout(reference.volumes[0]!, reference)
  const nifti = join(scratch, 'qsm.nii.gz')
  await syntheticNifti(nifti, layout.dims, layout.affine, ([i, j, k]) => (i - j) * 0.01 + k * 0.001)
  return { nifti, reference }
}

const uidsOf = (series: DicomSeries): string[] => [series.seriesInstanceUid, ...series.instances.map((i) => i.sopInstanceUid).sort()]

describe.skipIf(dataDir === undefined)('dicomise stage', () => {
  const input = (async () => fixture())()

  it('writes the series into the job workDir and returns it as a DicomSeries; a rerun of the job writes the same UIDs', async () => {
    const runs = await Promise.all(
      ['job-1', 'job-1', 'job-2'].map(async (jobId, n) => {
        const store = memoryJobStore({ workRoot: join(scratch, `store-${n}`) })
        const runner = createRunner({ pipeline: pipeline(dicomise({ seriesNumber: 77 })), store })
        return { output: await runner.run(await input, { jobId }), workDir: store.workDir(jobId) }
      }),
    )
    const [first, again, other] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]]
    expect(first.output.outputDir.startsWith(first.workDir)).toBe(true)
    expect(readdirSync(first.output.outputDir).filter((name) => name.endsWith('.dcm'))).toHaveLength(36)
    expect(first.output).toMatchObject({ seriesNumber: 77, modality: 'MR', encoding: { slope: 0.001, profile: 'pacs' } })
    expect(first.output.volumes[0]).toMatchObject({ rows: 64, columns: 64, slices: 36 })
    expect(JSON.parse(JSON.stringify(first.output))).toEqual(first.output)
    expect(uidsOf(again.output)).toEqual(uidsOf(first.output))
    expect(uidsOf(other.output)[0]).not.toBe(first.output.seriesInstanceUid)
  })

  it('takes a richer input through `input`, and reports progress up to 1', async () => {
    const value = { qsm: await input, label: 'chi' }
    const stage = dicomise({ name: 'dicomise-chi', input: (v: typeof value) => v.qsm, profile: 'stealthstation' })
    const runner = createRunner({ pipeline: pipeline(stage), store: memoryJobStore({ workRoot: join(scratch, 'store-rich') }), progressIntervalMs: 0 })
    const progress: number[] = []
    runner.on('stage:progress', (event: StageProgressEvent) => progress.push(event.fraction))
    const output = await runner.run(value)
    expect(output.encoding).toMatchObject({ pixel: 'unsigned', profile: 'stealthstation' })
    expect(progress.at(-1)).toBe(1)
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true)
  })

  it('stops between slices when the job is cancelled, leaving the job to resume', async () => {
    const controller = new AbortController()
    const store = memoryJobStore({ workRoot: join(scratch, 'store-abort') })
    const runner = createRunner({ pipeline: pipeline(dicomise()), store, progressIntervalMs: 0 })
    runner.on('stage:progress', (event: StageProgressEvent) => {
      if (event.fraction > 0.3) controller.abort()
    })
    const failure = await runner.run(await input, { jobId: 'cancelled', signal: controller.signal }).catch((error: unknown) => error)
    expect(isPacsflowError(failure, 'ABORTED')).toBe(true)
    expect((await store.get('cancelled'))?.status).toBe('pending')
    const dir = join(store.workDir('cancelled'), '00-dicomise', 'series')
    const names = existsSync(dir) ? readdirSync(dir) : []
    expect(names.filter((name) => name.endsWith('.dcm')).length).toBeLessThan(36)
    // No write was left running: no temporary file remains beside the finished ones.
    expect(names.filter((name) => !name.endsWith('.dcm'))).toEqual([])
  })

  it('fails a job whose input is not a NIfTI and a reference with DICOMISE_INPUT', async () => {
    const runner = createRunner({ pipeline: pipeline(dicomise()), store: memoryJobStore({ workRoot: join(scratch, 'store-bad') }), retry: { maxAttempts: 1 } })
    const failure = await runner.run({ nifti: 42 } as unknown as DicomiseInput).catch((error: unknown) => error)
    expect(isPacsflowError(failure, 'STAGE_FAILED') && failure.stageCode).toBe('DICOMISE_INPUT')
  })
})

// Registration for real with elastix: a T1 moved by a known rigid transform is found within 0.5 mm and 0.5 degrees.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@pacsflow/core'
import { apply, groupStudies, indexDicom, multiply, readNifti, scaledData, volumeToNifti, writeNifti, type Mat4 } from '@pacsflow/imaging'
import { copyTestSeries, haveTools, testDataDir } from '@pacsflow/testkit'
import type { Job } from './job.js'
import { resolveOptions } from './options.js'
import { registerToGre } from './register.js'
import { eulerMatrix, rotationDegrees } from './transforms.js'
import { removeDir, tempDir } from './test-support/fixtures.js'

const dataDir = testDataDir()
const ready = haveTools('elastix') && dataDir !== undefined

let root: string
beforeAll(() => {
  root = tempDir('elastix')
})
afterAll(() => removeDir(root))

function job(workDir: string): Job {
  const options = resolveOptions({ registration: 'elastix', threads: 2 })
  return {
    workDir,
    log: silentLogger,
    signal: new AbortController().signal,
    jobId: 'elastix-test',
    killGraceMs: 1000,
    options,
    tools: { qsmxtCli: 9, qsmxtCustomMasks: true, hdBetCli: 2, registration: 'elastix', versions: [] },
    gpu: 'cpu',
    environment: { signal: new AbortController().signal, log: silentLogger, settings: { apptainerVerb: 'run', apptainerArgs: [], dockerUser: false, dockerArgs: [] }, toolLogLevel: 'off', killGraceMs: 1000 },
    progress: () => {},
  }
}

/** A rotation of (rx, ry, rz) degrees about `center` and a translation, as a RAS point map. */
function rigid(degrees: readonly [number, number, number], translation: readonly [number, number, number], center: readonly [number, number, number]): Mat4 {
  const m = eulerMatrix(...(degrees.map((d) => (d * Math.PI) / 180) as [number, number, number]))
  const row = (r: number) => [m[r]![0]!, m[r]![1]!, m[r]![2]!, translation[r]! + center[r]! - (m[r]![0]! * center[0] + m[r]![1]! * center[1] + m[r]![2]! * center[2])]
  return [row(0), row(1), row(2), [0, 0, 0, 1]] as unknown as Mat4
}

describe.skipIf(!ready)('elastix rigid registration (real elastix)', () => {
  it('recovers a known rigid misalignment of the XA30 T1 within 0.5 mm and 0.5 degrees', async () => {
    copyTestSeries('dcm_qa_xa30i/5001_anat-T1w_acq-tfl', join(root, 'dicom'))
    const { instances } = await indexDicom(join(root, 'dicom'))
    const series = groupStudies(instances)[0]!.series[0]!
    const fixed = join(root, 't1.nii.gz')
    await volumeToNifti(series, series.volumes[0]!, fixed, { sidecar: false })
    const image = await readNifti(fixed)
    // The moving image: the same voxels placed by M in the world, so the same anatomy sits at M p.
    const [nx, ny, nz] = image.header.dims as [number, number, number]
    const centre = apply(image.header.affine, [nx / 2, ny / 2, nz / 2])
    const M = rigid([3, -2, 4], [4, -3, 2], centre)
    const moving = join(root, 't1-moved.nii.gz')
    await writeNifti(moving, { data: Float32Array.from(scaledData(image)), dims: image.header.dims, affine: multiply(M, image.header.affine) })

    const workDir = join(root, 'work')
    const dir = join(workDir, 'register')
    mkdirSync(dir, { recursive: true })
    const { data } = await registerToGre(job(workDir), 'register', dir, fixed, moving)
    expect(data.method).toBe('elastix')
    // Point error over the head's extent (corners of a box 70 mm around the centre), and the angle between the rotations.
    let worst = 0
    for (const dx of [-70, 70]) for (const dy of [-70, 70]) for (const dz of [-70, 70]) {
      const p = [centre[0] + dx, centre[1] + dy, centre[2] + dz] as const
      const [a, b] = [apply(data.greToTarget, p), apply(M, p)]
      worst = Math.max(worst, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]))
    }
    const residual = multiply(data.greToTarget, [
      [M[0][0], M[1][0], M[2][0], 0],
      [M[0][1], M[1][1], M[2][1], 0],
      [M[0][2], M[1][2], M[2][2], 0],
      [0, 0, 0, 1],
    ])
    expect(worst).toBeLessThan(0.5)
    expect(rotationDegrees(residual)).toBeLessThan(0.5)
  }, 120_000)
})

// The scorer: exact values on known perturbations, the filters against closed forms, coded refusals.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { readNifti, scaledData, writeNifti, type Mat4 } from '@pacsflow/imaging'
import { makeExam } from '../exam/make-exam.js'
import { laplacianOfGaussian, squaredDistanceToOutside } from './filters.js'
import { formatScore } from './format.js'
import { correlation, erodeMask, hfen, linearFit, nrmse } from './metrics.js'
import { scoreQsm } from './score-qsm.js'

const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-score-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const exam = makeExam(join(scratch, 'exam'), { preset: 'small', t1: false, echoes: 1, seed: 11 })

async function estimate(name: string, change: (chi: Float32Array) => void, extra: { dims?: number[]; affine?: Mat4 } = {}): Promise<string> {
  const { truth } = await exam
  const image = await readNifti(truth.chi)
  const data = Float32Array.from(scaledData(image))
  change(data)
  const path = join(scratch, `${name}.nii`)
  await writeNifti(path, { data, dims: extra.dims ?? image.header.dims, affine: extra.affine ?? image.header.affine })
  return path
}

describe('scoreQsm', () => {
  it('scores the truth against itself as perfect', async () => {
    const { truth } = await exam
    const score = await scoreQsm(truth.chi, truth.dir)
    expect(score.nrmse).toBe(0)
    expect(score.hfen).toBe(0)
    expect(score.correlation).toBeCloseTo(1, 12)
    expect(score.interior.nrmse).toBe(0)
    expect(score.fit.slope).toBeCloseTo(1, 12)
    expect(score.fit.intercept).toBeCloseTo(0, 12)
    expect(score.rois.map((r) => r.name)).toContain('globus pallidus')
    expect(score.interior.voxels).toBeLessThan(score.maskVoxels * 0.8)
    expect(formatScore(score)).toMatch(/NRMSE\s+0\.0 %/)
  })

  it('half the truth plus an offset: slope 0.5, NRMSE and HFEN 50 %, correlation 1', async () => {
    const { truth } = await exam
    const path = await estimate('half', (chi) => chi.forEach((v, i) => (chi[i] = 0.5 * v + 0.02)))
    const score = await scoreQsm(path, truth.dir)
    expect(score.fit.slope).toBeCloseTo(0.5, 5)
    expect(score.nrmse).toBeCloseTo(50, 3)
    expect(score.hfen).toBeCloseTo(50, 3)
    expect(score.interior.nrmse).toBeCloseTo(50, 3)
    expect(score.correlation).toBeCloseTo(1, 6)
    const gp = score.rois.find((r) => r.name === 'globus pallidus')!
    expect(gp.estimateMean).toBeCloseTo(gp.truthMean / 2, 6)
  })

  it('noise raises the errors and lowers the correlation, but not the ROI slope', async () => {
    const { truth } = await exam
    let state = 12345
    const noise = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1
    const path = await estimate('noisy', (chi) => chi.forEach((v, i) => (chi[i] = v + noise())))
    const score = await scoreQsm(path, truth.dir)
    // Uniform noise of sd 0.029 ppm against a truth of sd about 0.025 ppm in the mask.
    expect(score.nrmse).toBeGreaterThan(80)
    expect(score.hfen).toBeGreaterThan(20)
    expect(score.interior.nrmse).toBeGreaterThan(80)
    expect(score.correlation).toBeLessThan(0.8)
    expect(score.fit.slope).toBeCloseTo(1, 1)
  })

  it('refuses another grid (QSM_SCORE_GRID), several volumes or non-finite values (QSM_SCORE_INPUT), a folder that is not a truth', async () => {
    const { truth } = await exam
    const image = await readNifti(truth.chi)
    const shifted = image.header.affine.map((row, r) => row.map((v, c) => (c === 3 && r === 0 ? v + 1.5 : v))) as unknown as Mat4
    const moved = await estimate('moved', () => {}, { affine: shifted })
    const fails = async (path: string, dir: string, code: 'QSM_SCORE_GRID' | 'QSM_SCORE_INPUT'): Promise<void> => {
      const error = await scoreQsm(path, dir).catch((e: unknown) => e)
      expect(isPacsflowError(error, code), `${path}: ${String(error)}`).toBe(true)
    }
    await fails(moved, truth.dir, 'QSM_SCORE_GRID')
    const [nx, ny, nz] = image.header.dims as [number, number, number]
    const small = join(scratch, 'small.nii')
    await writeNifti(small, { data: new Float32Array(8), dims: [2, 2, 2], affine: image.header.affine })
    await fails(small, truth.dir, 'QSM_SCORE_GRID')
    const twoEchoes = join(scratch, 'two.nii')
    await writeNifti(twoEchoes, { data: new Float32Array(nx * ny * nz * 2), dims: [nx, ny, nz, 2], affine: image.header.affine })
    await fails(twoEchoes, truth.dir, 'QSM_SCORE_INPUT')
    const mask = scaledData(await readNifti(truth.mask))
    const holed = await estimate('nan', (chi) => (chi[mask.indexOf(1)] = Number.NaN))
    await fails(holed, truth.dir, 'QSM_SCORE_INPUT')
    await fails(truth.chi, scratch, 'QSM_SCORE_INPUT')
  })
})

describe('metrics', () => {
  const dims = [24, 20, 16] as const
  const size = dims[0] * dims[1] * dims[2]
  const mask = new Uint8Array(size).fill(1)

  it('nrmse, correlation and linearFit on vectors with known answers', () => {
    expect(nrmse([1, 2, 3, 4], [1, 2, 3, 4], [1, 1, 1, 1])).toBe(0)
    // Demeaned truth [-1.5, -0.5, 0.5, 1.5] (norm sqrt 5), demeaned estimate off by [1, -1, 1, -1] (norm 2).
    expect(nrmse([2, 1, 4, 3], [1, 2, 3, 4], [1, 1, 1, 1])).toBeCloseTo((100 * 2) / Math.sqrt(5), 10)
    // Only the mask counts, and a constant offset does not.
    expect(nrmse([12, 11, 14, 13, 99], [1, 2, 3, 4, -50], [1, 1, 1, 1, 0])).toBeCloseTo((100 * 2) / Math.sqrt(5), 10)
    expect(correlation([1, 2, 3, 9], [2, 4, 6, 0], [1, 1, 1, 0])).toBeCloseTo(1, 12)
    expect(correlation([1, 2, 3], [3, 2, 1], [1, 1, 1])).toBeCloseTo(-1, 12)
    expect(linearFit([0, 1, 2], [1, 3, 5])).toEqual({ slope: 2, intercept: 1 })
  })

  it('the LoG of x^2 + y^2 + z^2 is about 6 away from the edges, and of a linear ramp 0', () => {
    const quadratic = new Float64Array(size)
    const ramp = new Float64Array(size)
    for (let z = 0, i = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++, i++) {
      quadratic[i] = x * x + y * y + z * z
      ramp[i] = 3 * x - 2 * y + z
    }
    const a = laplacianOfGaussian(quadratic, dims)
    const b = laplacianOfGaussian(ramp, dims)
    const centre = 12 + dims[0] * (10 + dims[1] * 8)
    // The truncated, zero-mean 15^3 kernel keeps 6 to within 1 % (the Gaussian beyond 4.7 sigma is cut).
    expect(a[centre]).toBeCloseTo(6, 1)
    expect(b[centre]).toBeCloseTo(0, 10)
    expect(hfen(quadratic, quadratic, mask, dims)).toBe(0)
  })

  it('distances to the outside match brute force, anisotropic voxels included', () => {
    const d = [9, 8, 7] as const
    const spacing = [1, 1.5, 2] as const
    const m = new Uint8Array(d[0] * d[1] * d[2]).map((_, i) => (i % 11 === 0 || i % 7 === 3 ? 0 : 1))
    const fast = squaredDistanceToOutside(m, d, spacing)
    const at = (i: number): number[] => [i % d[0], Math.floor(i / d[0]) % d[1], Math.floor(i / (d[0] * d[1]))]
    for (let i = 0; i < m.length; i++) {
      const p = at(i)
      // Outside: the zeros, and the ring of voxels just beyond each face.
      let best = Math.min(...p.map((v, axis) => Math.min(v + 1, d[axis]! - v) ** 2 * spacing[axis]! ** 2))
      if (m[i] === 0) best = 0
      for (let j = 0; j < m.length; j++) {
        if (m[j] !== 0) continue
        const q = at(j)
        best = Math.min(best, p.reduce((sum, v, axis) => sum + ((v - q[axis]!) * spacing[axis]!) ** 2, 0))
      }
      expect(fast[i]).toBeCloseTo(best, 9)
    }
  })

  it('erodes a ball of radius 10 mm by 6 mm to a ball of about 4 mm', () => {
    const n = 30
    const ball = new Uint8Array(n ** 3).map((_, i) => (Math.hypot((i % n) - 14.5, (Math.floor(i / n) % n) - 14.5, Math.floor(i / n ** 2) - 14.5) <= 10 ? 1 : 0))
    const eroded = erodeMask(ball, [n, n, n], [1, 1, 1], 6)
    const volume = eroded.reduce((s, v) => s + v, 0)
    expect(volume).toBeGreaterThan((4 / 3) * Math.PI * 3 ** 3)
    expect(volume).toBeLessThan((4 / 3) * Math.PI * 5 ** 3)
  })
})

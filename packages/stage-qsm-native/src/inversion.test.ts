import { weightedDivergence, type Shape3 } from '@pacsflow/imaging'
import { describe, expect, it } from 'vitest'
import { gradient, gradientAdjoint } from './gradient.js'
import { rts, tkd } from './inversion.js'
import { lsmr, lsmrDiagonal, type LinearOperator } from './lsmr.js'
import { countMask } from './morphology.js'
import { ellipsoid, forwardField, meanIn, nrmse, seeded } from './test-support/synthetic.js'
import { conjugateGradient, pdf } from './pdf.js'
import { vsharp } from './vsharp.js'

function dense(matrix: number[][]): LinearOperator {
  const rows = matrix.length
  const columns = matrix[0]!.length
  return {
    rows,
    columns,
    apply: (x, out) => {
      for (let r = 0; r < rows; r++) out[r] = matrix[r]!.reduce((sum, a, c) => sum + a * x[c]!, 0)
    },
    adjoint: (y, out) => {
      for (let c = 0; c < columns; c++) out[c] = matrix.reduce((sum, row, r) => sum + row[c]! * y[r]!, 0)
    },
  }
}

describe('lsmr', () => {
  it('solves a 6x4 least-squares problem in 4 iterations (the normal equations hold)', () => {
    const random = seeded(2)
    const a = Array.from({ length: 6 }, () => Array.from({ length: 4 }, () => random() - 0.5))
    const b = Float64Array.from({ length: 6 }, () => random())
    const op = dense(a)
    const x = lsmr(op, b, 4)
    const residual = new Float64Array(6)
    op.apply(x, residual)
    const r = residual.map((v, i) => b[i]! - v)
    const normal = new Float64Array(4)
    op.adjoint(r, normal)
    for (const v of normal) expect(Math.abs(v)).toBeLessThan(1e-10)
    expect(Math.hypot(...x)).toBeGreaterThan(0.1)
  })

  it('stopped early on a diagonal system, it inverts the large entries and damps the small ones', () => {
    const d = Float64Array.from({ length: 200 }, (_, i) => (i < 100 ? 1 + i / 100 : 0.001 * (i - 99)))
    const op: LinearOperator = {
      rows: 200,
      columns: 200,
      apply: (x, out) => out.set(x.map((v, i) => v * d[i]!)),
      adjoint: (y, out) => out.set(y.map((v, i) => v * d[i]!)),
    }
    const x = lsmr(op, new Float64Array(200).fill(1), 4)
    for (let i = 0; i < 100; i += 10) expect(Math.abs(x[i]! * d[i]! - 1)).toBeLessThan(0.1)
    for (let i = 150; i < 200; i += 10) expect(Math.abs(x[i]!)).toBeLessThan(1 / d[i]! / 5)
  })
})

describe('lsmrDiagonal', () => {
  it('gives the iterates of the generic LSMR for diag(d, d) on stacked halves', () => {
    const random = seeded(8)
    const d = Float64Array.from({ length: 50 }, () => random() - 0.3)
    const b = Float64Array.from({ length: 100 }, () => random() - 0.5)
    const op: LinearOperator = {
      rows: 100,
      columns: 100,
      apply: (x, out) => out.set(x.map((v, i) => v * d[i % 50]!)),
      adjoint: (y, out) => out.set(y.map((v, i) => v * d[i % 50]!)),
    }
    for (const iterations of [1, 4, 12]) {
      const want = lsmr(op, b, iterations)
      const got = lsmrDiagonal(d, b, iterations)
      for (let i = 0; i < 100; i++) expect(got[i]).toBeCloseTo(want[i]!, 10)
    }
  })
})

describe('gradient', () => {
  it('its adjoint satisfies <G x, v> = <x, G^T v>', () => {
    const shape: Shape3 = [7, 6, 5]
    const random = seeded(4)
    const x = Float64Array.from({ length: 210 }, random)
    const v = [0, 1, 2].map(() => Float64Array.from({ length: 210 }, random)) as [Float64Array, Float64Array, Float64Array]
    const g = [0, 1, 2].map(() => new Float64Array(210)) as [Float64Array, Float64Array, Float64Array]
    gradient(x, shape, [1, 1.5, 2], g)
    const gtv = new Float64Array(210)
    gradientAdjoint(v, shape, [1, 1.5, 2], gtv)
    let left = 0
    let right = 0
    for (let i = 0; i < 210; i++) {
      left += g[0][i]! * v[0][i]! + g[1][i]! * v[1][i]! + g[2][i]! * v[2][i]!
      right += x[i]! * gtv[i]!
    }
    expect(left).toBeCloseTo(right, 10)
  })

  it('weightedDivergence equals G^T V G x computed in three steps, bit for bit, edges and periodic wrap included', () => {
    for (const shape of [[7, 6, 5], [1, 4, 3], [5, 1, 2]] as Shape3[]) {
      const size = shape[0] * shape[1] * shape[2]
      const random = seeded(11)
      const x = Float64Array.from({ length: size }, random)
      const v = Float64Array.from({ length: size }, random)
      const where = Uint8Array.from({ length: size }, () => (random() < 0.7 ? 1 : 0))
      const voxel = [0.9, 1.5, 2]
      const g = [0, 1, 2].map(() => new Float64Array(size)) as [Float64Array, Float64Array, Float64Array]
      gradient(x, shape, voxel, g)
      for (const axis of g) for (let i = 0; i < size; i++) axis[i] = axis[i]! * v[i]!
      const want = new Float64Array(size)
      gradientAdjoint(g, shape, voxel, want)
      for (let i = 0; i < size; i++) if (where[i] !== 1) want[i] = 0
      const got = new Float64Array(size).fill(Number.NaN)
      weightedDivergence(x, v, shape, voxel, where, got)
      expect(got, shape.join('x')).toEqual(want)
    }
  })
})

// A 48^3 box at 1 mm: a brain-like ellipsoid mask with blobs of known susceptibility, and an air-like
// source outside the mask whose field is harmonic inside (the background).
const shape: Shape3 = [48, 48, 48]
const voxel = [1, 1, 1]
const b0 = [0, 0, 1]
const mask = ellipsoid(shape, [24, 24, 24], [15, 17, 14])
const blobs = [
  { c: [20, 22, 24], r: 4, chi: 0.2 },
  { c: [29, 27, 21], r: 3, chi: -0.1 },
  { c: [24, 16, 28], r: 3.5, chi: 0.1 },
]
const chi = new Float64Array(48 ** 3)
const labels = blobs.map((blob) => ellipsoid(shape, blob.c, [blob.r, blob.r, blob.r]))
blobs.forEach((blob, b) => labels[b]!.forEach((inside, i) => (chi[i] = inside === 1 ? blob.chi : chi[i]!)))
const local = forwardField(chi, shape, voxel, b0)
const air = new Float64Array(48 ** 3)
ellipsoid(shape, [24, 5, 8], [6, 4, 4]).forEach((inside, i) => (air[i] = inside === 1 ? 9 : 0))
const background = forwardField(air, shape, voxel, b0)

describe('vsharp', () => {
  it('removes a background field larger than the local field and keeps the local field', async () => {
    const total = local.map((v, i) => v + background[i]!)
    const result = await vsharp(total, mask, shape, voxel, { radiiMm: [6, 4, 2] })
    const eroded = result.mask
    expect(countMask(eroded)).toBeLessThan(countMask(mask))
    expect(countMask(eroded)).toBeGreaterThan(0.6 * countMask(mask))
    let backgroundSize = 0
    let localSize = 0
    for (let i = 0; i < mask.length; i++) if (eroded[i] === 1) {
      backgroundSize = Math.max(backgroundSize, Math.abs(background[i]!))
      localSize = Math.max(localSize, Math.abs(local[i]!))
    }
    expect(backgroundSize).toBeGreaterThan(localSize)
    // the local field comes back to within ~25 % (the truncated deconvolution loses its broadest part)
    expect(nrmse(result.local, local, eroded)).toBeLessThan(25)
    for (let i = 0; i < mask.length; i++) if (eroded[i] === 0) expect(result.local[i]).toBe(0)
  })

  it('rejects non-positive radii', async () => {
    await expect(vsharp(local, mask, shape, voxel, { radiiMm: [4, 0] })).rejects.toThrow(/radii must be positive/)
  })
})

describe('pdf', () => {
  it('removes the background of outside sources and keeps the local field', async () => {
    const total = local.map((v, i) => v + background[i]!)
    const grid = { shape, voxelSizeMm: voxel, b0DirectionVoxel: b0 }
    const progress: number[] = []
    const result = await pdf(total, mask, grid, { maxIterations: 30, onProgress: (f) => progress.push(f) })
    const fromVsharp = await vsharp(total, mask, shape, voxel, { radiiMm: [6, 4, 2] })
    const errorPdf = nrmse(result.local, local, fromVsharp.mask)
    expect(errorPdf).toBeLessThan(30)
    expect(countMask(result.mask)).toBe(countMask(mask))
    expect(progress.at(-1)).toBe(1)
  })

  it('conjugate gradients solve a small symmetric positive definite system', async () => {
    const a = [[4, 1, 0], [1, 3, 1], [0, 1, 2]]
    const apply = (x: Float64Array, out: Float64Array): void => {
      for (let r = 0; r < 3; r++) out[r] = a[r]!.reduce((sum, v, c) => sum + v * x[c]!, 0)
    }
    const x = await conjugateGradient(apply, Float64Array.from([1, 2, 3]), { maxIterations: 10, tolerance: 1e-12 })
    const check = new Float64Array(3)
    apply(x, check)
    expect(Array.from(check).map((v) => Number(v.toFixed(9)))).toEqual([1, 2, 3])
  })
})

describe('dipole inversion', () => {
  const grid = { shape, voxelSizeMm: voxel, b0DirectionVoxel: b0 }

  it('TKD recovers the blobs with the known underestimation; RTS recovers them better', async () => {
    const fromTkd = tkd(local, mask, grid, 0.15)
    const fromRts = await rts(local, mask, grid, { lsmrIterations: 20 })
    const errorTkd = nrmse(fromTkd, chi, mask)
    const errorRts = nrmse(fromRts, chi, mask)
    expect(errorRts).toBeLessThan(errorTkd)
    expect(errorRts).toBeLessThan(40)
    const background = meanIn(fromRts, mask)
    blobs.forEach((blob, b) => {
      const inner = ellipsoid(shape, blob.c, [blob.r - 1, blob.r - 1, blob.r - 1])
      expect((meanIn(fromRts, inner) - background) / blob.chi).toBeGreaterThan(0.75)
    })
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) expect(fromTkd[i]).toBe(0)
  })

  it('RTS reports each iteration and stops when the signal aborts', async () => {
    const seen: number[] = []
    await rts(local, mask, grid, { maxIterations: 3, tolerance: 0, onIteration: (i) => seen.push(i) })
    expect(seen).toEqual([1, 2, 3])
    const controller = new AbortController()
    await expect(
      rts(local, mask, grid, {
        signal: controller.signal,
        onIteration: (i) => {
          if (i === 1) controller.abort()
        },
      }),
    ).rejects.toThrow(/abort/i)
  })

  it('rejects a TKD threshold outside (0, 2/3]', () => {
    expect(() => tkd(local, mask, grid, 0)).toThrow(/TKD threshold/)
  })
})

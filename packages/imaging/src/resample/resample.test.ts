import { describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import type { Vec3 } from '../dicom/types.js'
import { apply, type Mat4 } from '../geometry/matrix.js'
import { resampleGrid, resampleToGrid } from './resample.js'

const diag = (sx: number, sy: number, sz: number, origin: Vec3 = [0, 0, 0]): Mat4 => [
  [sx, 0, 0, origin[0]],
  [0, sy, 0, origin[1]],
  [0, 0, sz, origin[2]],
  [0, 0, 0, 1],
]

/** A grid rotated by `degrees` about z then x, with 1.5 mm voxels. */
function oblique(degrees: number, origin: Vec3): Mat4 {
  const a = (degrees * Math.PI) / 180
  const [c, s] = [Math.cos(a), Math.sin(a)]
  const rz = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
  const rx = [[1, 0, 0], [0, c, -s], [0, s, c]]
  const r = rx.map((row) => [0, 1, 2].map((j) => row[0]! * rz[0]![j]! + row[1]! * rz[1]![j]! + row[2]! * rz[2]![j]!))
  return [
    [r[0]![0]! * 1.5, r[0]![1]! * 1.5, r[0]![2]! * 1.5, origin[0]],
    [r[1]![0]! * 1.5, r[1]![1]! * 1.5, r[1]![2]! * 1.5, origin[1]],
    [r[2]![0]! * 1.5, r[2]![1]! * 1.5, r[2]![2]! * 1.5, origin[2]],
    [0, 0, 0, 1],
  ]
}

/** Fills a grid with f(world position of each voxel). */
function sampled(dims: readonly [number, number, number], affine: Mat4, f: (p: Vec3) => number): Float32Array {
  const out = new Float32Array(dims[0] * dims[1] * dims[2])
  let n = 0
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) out[n++] = f(apply(affine, [x, y, z]))
  return out
}

const linear = (p: Vec3): number => 0.5 * p[0] - 0.25 * p[1] + 0.125 * p[2] + 3

describe('resampleToGrid', () => {
  it('copies exactly onto the same grid, and onto a flipped one', () => {
    const affine = oblique(17, [-40, 12, 5])
    const data = sampled([6, 5, 4], affine, linear)
    data[37] = Number.NaN // a masked voxel must not spread to its neighbours
    expect(resampleToGrid(data, [6, 5, 4], affine, [6, 5, 4], affine)).toEqual(data)
    // DICOM order (rows last-first) is an exact flip of the NIfTI rows.
    const flipped: Mat4 = affine.map((row) => [row[0], -row[1], row[2], row[3] + row[1] * 4]) as unknown as Mat4
    const out = resampleToGrid(data, [6, 5, 4], affine, [6, 5, 4], flipped)
    for (let z = 0; z < 4; z++) for (let y = 0; y < 5; y++) for (let x = 0; x < 6; x++) {
      expect(Object.is(out[x + 6 * (y + 5 * z)], data[x + 6 * (4 - y + 5 * z)])).toBe(true)
    }
  })

  it('reproduces a linear field exactly on a rotated, finer grid (trilinear is exact for linear data)', () => {
    const sourceAffine = diag(2, 2, 3, [-20, -20, -15])
    const source = sampled([21, 21, 11], sourceAffine, linear)
    const target = oblique(23, [-6, -5, -4])
    const dims = [8, 7, 6] as const
    const out = resampleToGrid(source, [21, 21, 11], sourceAffine, dims, target)
    const expected = sampled(dims, target, linear)
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(expected[i]!, 4)
  })

  it('interpolates half way between voxels and fills outside the source', () => {
    const data = Float32Array.from([0, 10, 20, 30])
    const shifted = diag(1, 1, 1, [0.5, 0, 0])
    expect(Array.from(resampleToGrid(data, [4, 1, 1], diag(1, 1, 1), [4, 1, 1], shifted, { fill: -1 }))).toEqual([5, 15, 25, 30])
    const far = diag(1, 1, 1, [3.6, 0, 0])
    expect(Array.from(resampleToGrid(data, [4, 1, 1], diag(1, 1, 1), [2, 1, 1], far, { fill: -1 }))).toEqual([-1, -1])
  })

  it('keeps label values with nearest', () => {
    const sourceAffine = diag(1, 1, 1)
    const labels = new Float32Array(10 * 10 * 10).map((_, i) => (i % 7 === 0 ? 4 : i % 3 === 0 ? 11 : 0))
    const out = resampleToGrid(labels, [10, 10, 10], sourceAffine, [12, 12, 12], oblique(31, [2, 1, 1]), { interpolation: 'nearest', fill: 0 })
    expect(new Set(out)).toEqual(new Set([0, 4, 11]))
    const trilinear = resampleToGrid(labels, [10, 10, 10], sourceAffine, [12, 12, 12], oblique(31, [2, 1, 1]))
    expect([...new Set(trilinear)].some((v) => v !== 0 && v !== 4 && v !== 11)).toBe(true)
  })

  it('resamples every volume of 4D data and does not spread NaN across zero weights', () => {
    const data = Float32Array.from([1, Number.NaN, 3, 4, 5, 6])
    const out = resampleGrid(data.subarray(0, 3), { dims: [3, 1, 1], affine: diag(1, 1, 1) }, { dims: [1, 1, 1], affine: diag(1, 1, 1) })
    expect(out).toHaveLength(1)
    expect(out[0]).toBe(1)
    const twoVolumes = resampleToGrid(data, [3, 1, 1, 2], diag(1, 1, 1), [1, 1, 1], diag(1, 1, 1, [2, 0, 0]))
    expect(Array.from(twoVolumes)).toEqual([3, 6])
  })

  it('refuses bad dims and singular affines with INVALID_OPTIONS, and stops when aborted', () => {
    const data = new Float32Array(8)
    const code = (f: () => unknown): string | undefined => {
      try {
        f()
      } catch (error) {
        return isPacsflowError(error) ? error.code : 'other'
      }
      return undefined
    }
    expect(code(() => resampleToGrid(data, [2, 2, 3], diag(1, 1, 1), [2, 2, 2], diag(1, 1, 1)))).toBe('INVALID_OPTIONS')
    expect(code(() => resampleToGrid(data, [2, 2, 2], diag(1, 0, 1), [2, 2, 2], diag(1, 1, 1)))).toBe('INVALID_OPTIONS')
    expect(code(() => resampleToGrid(data, [2, 2, 2], diag(1, 1, 1), [2, 0, 2], diag(1, 1, 1)))).toBe('INVALID_OPTIONS')
    const controller = new AbortController()
    controller.abort()
    expect(() => resampleToGrid(data, [2, 2, 2], diag(1, 1, 1), [2, 2, 2], diag(1, 1, 1), { signal: controller.signal })).toThrow(/abort/i)
  })
})

describe('whole-voxel mappings', () => {
  it('copy axes swapped, reversed and shifted exactly, with the fill outside', () => {
    const dims = [4, 3, 2] as const
    const data = Float32Array.from({ length: 24 }, (_, n) => n)
    // Target axis x walks source z backwards, y walks source x, z walks source y; shifted one voxel.
    const target: Mat4 = [[0, 1, 0, 1], [0, 0, 1, 0], [-1, 0, 0, 1], [0, 0, 0, 1]]
    const out = resampleToGrid(data, dims, diag(1, 1, 1), [2, 4, 3], target, { fill: -1 })
    for (let z = 0; z < 3; z++) for (let y = 0; y < 4; y++) for (let x = 0; x < 2; x++) {
      const [sx, sy, sz] = [y + 1, z, 1 - x]
      const inside = sx < 4 && sy < 3 && sz >= 0 && sz < 2
      expect(out[x + 2 * (y + 4 * z)]).toBe(inside ? data[sx + 4 * (sy + 3 * sz)] : -1)
    }
    // Rows kept as rows, shifted two voxels: a block copy with the fill beyond the source's end.
    const shifted = resampleToGrid(data, dims, diag(1, 1, 1), [4, 1, 1], diag(1, 1, 1, [2, 1, 1]), { fill: -1 })
    expect(Array.from(shifted)).toEqual([18, 19, -1, -1])
    const before = resampleToGrid(Array.from(data), dims, diag(1, 1, 1), [4, 1, 1], diag(1, 1, 1, [-3, 0, 0]), { fill: -1 })
    expect(Array.from(before)).toEqual([-1, -1, -1, 0])
  })
})

import { describe, expect, it } from 'vitest'
import type { Vec3 } from '../dicom/types.js'
import { apply, invertAffine, lpsToRas, multiply, nearlyEqual, voxelSizes, type Mat4 } from './matrix.js'
import { canonicalReorientation, isIdentityReorientation, reorientData } from './reorient.js'

/** Affines compared without the sign of zero. */
const plain = (m: Mat4): number[][] => m.map((row) => row.map((v) => v + 0))

describe('matrix helpers', () => {
  it('inverts affines and converts LPS to RAS', () => {
    const m: Mat4 = [
      [0.2, 1.9, 0.1, 10],
      [-2, 0.1, 0.3, -4],
      [0.1, -0.2, 3, 7],
      [0, 0, 0, 1],
    ]
    const product = multiply(m, invertAffine(m))
    expect(nearlyEqual(product, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], 1e-12)).toBe(true)
    expect(apply(lpsToRas(m), [0, 0, 0])).toEqual([-10, 4, 7])
    expect(voxelSizes([[2, 0, 0, 0], [0, 0, -3, 0], [0, 4, 0, 0], [0, 0, 0, 1]])).toEqual([2, 4, 3])
  })
})

describe('canonical reorientation', () => {
  // A sagittal grid as dcm2niix has it before nii_setOrtho: i -> anterior, j -> superior, k -> left (decreasing R).
  const sagittal: Mat4 = [
    [0, 0, -2, 80],
    [2, 0, 0, -100],
    [0, 2, 0, -60],
    [0, 0, 0, 1],
  ]
  const dims = [3, 4, 5] as const

  it('permutes and flips to a positive diagonal, with the origin at the new first voxel', () => {
    const r = canonicalReorientation(sagittal, dims)
    expect(r.axes).toEqual([2, 0, 1])
    expect(r.flips).toEqual([true, false, false])
    expect(r.dims).toEqual([5, 3, 4])
    expect(plain(r.affine)).toEqual([
      [2, 0, 0, 72],
      [0, 2, 0, -100],
      [0, 0, 2, -60],
      [0, 0, 0, 1],
    ])
    expect(isIdentityReorientation(canonicalReorientation(r.affine, r.dims))).toBe(true)
  })

  it('moves every value with its world position', () => {
    const r = canonicalReorientation(sagittal, dims)
    const data = Float64Array.from({ length: 3 * 4 * 5 }, (_, n) => n)
    const out = reorientData(data, new Float64Array(data.length), dims, r)
    const inverse = invertAffine(r.affine)
    for (let k = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        for (let i = 0; i < dims[0]; i++) {
          const world = apply(sagittal, [i, j, k])
          const [x, y, z] = apply(inverse, world).map(Math.round) as unknown as Vec3
          expect(out[x + r.dims[0] * (y + r.dims[1] * z)]).toBe(data[i + dims[0] * (j + dims[1] * k)])
        }
      }
    }
  })

  it('keeps an already canonical grid, and reorients each volume of a 4D series', () => {
    const canonical: Mat4 = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    expect(isIdentityReorientation(canonicalReorientation(canonical, [2, 2, 2]))).toBe(true)
    const flipX: Mat4 = [[-1, 0, 0, 5], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    const r = canonicalReorientation(flipX, [2, 1, 1])
    expect(Array.from(reorientData(Int16Array.of(1, 2, 3, 4), new Int16Array(4), [2, 1, 1], r, 2))).toEqual([2, 1, 4, 3])
    expect(r.affine[0][3]).toBe(4)
  })
})

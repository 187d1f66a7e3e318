import { describe, expect, it } from 'vitest'
import { affineToQuaternion, encodeNifti1, quaternionToAffine } from './index.js'
import type { Mat4 } from './index.js'
import { expectMat4Close, LAS_AFFINE, OBLIQUE_LAS, obliqueAffine } from './test-helpers.js'

/** A deterministic pseudo-random affine: rotation from a random unit quaternion, scales, optional flip. */
function randomAffine(seed: number, flip: boolean): Mat4 {
  let state = seed
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
  const [a, b, c, d] = [next() - 0.5, next() - 0.5, next() - 0.5, next() - 0.5]
  const n = Math.hypot(a, b, c, d)
  const q = { b: (b * Math.sign(a)) / n, c: (c * Math.sign(a)) / n, d: (d * Math.sign(a)) / n }
  return quaternionToAffine({ ...q, qx: next() * 200 - 100, qy: next() * 200 - 100, qz: next() * 200 - 100, dx: 0.5 + next() * 3, dy: 0.5 + next() * 3, dz: 0.5 + next() * 3, qfac: flip ? -1 : 1 })
}

function det3(m: Mat4): number {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

describe('affineToQuaternion / quaternionToAffine', () => {
  it('round-trips rotation + scaling affines of both handedness exactly in float64', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const affine = randomAffine(seed, seed % 2 === 0)
      const q = affineToQuaternion(affine)
      expect(q.qfac).toBe(det3(affine) < 0 ? -1 : 1)
      expectMat4Close(quaternionToAffine(q), affine, 1e-12)
    }
  })

  it('recovers the affine within 1e-5 from the float32 quaternion of a written file', () => {
    for (const affine of [LAS_AFFINE, OBLIQUE_LAS, obliqueAffine([0.9, 0.9, 1.2], [-120, 80.5, 60], 170, -90), randomAffine(7, true)]) {
      const view = new DataView(encodeNifti1({ data: new Uint8Array(1), dims: [1], affine }).buffer)
      const f = (offset: number): number => view.getFloat32(offset, true)
      const qfac = f(76) < 0 ? -1 : 1
      const q = { b: f(256), c: f(260), d: f(264), qx: f(268), qy: f(272), qz: f(276), dx: f(80), dy: f(84), dz: f(88), qfac } as const
      expectMat4Close(quaternionToAffine(q), affine, 1e-5)
    }
  })

  it('handles 180° rotations (a = 0), where the trace formula of nifti1.h divides by zero', () => {
    const flips: Mat4[] = [
      [[-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
      [[1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]],
      [[-2, 0, 0, 5], [0, 3, 0, 6], [0, 0, -4, 7], [0, 0, 0, 1]],
      [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]],
    ]
    for (const affine of flips) {
      const q = affineToQuaternion(affine)
      expectMat4Close(quaternionToAffine(q), affine, 1e-12)
    }
    // Float32 rounding can make b²+c²+d² exceed 1 slightly: a is then 0, not NaN.
    expectMat4Close(quaternionToAffine({ b: 1.0000001, c: 0, d: 0, qx: 0, qy: 0, qz: 0, dx: 1, dy: 1, dz: 1, qfac: 1 }), flips[1]!, 1e-12)
  })

  it('orthogonalises a sheared affine, keeping the column norms as spacings', () => {
    const sheared: Mat4 = [
      [-3, 0.3, 0, 10],
      [0.1, 3, 0.2, 20],
      [0, -0.1, 3.5, 30],
      [0, 0, 0, 1],
    ]
    const q = affineToQuaternion(sheared)
    expect(q.qfac).toBe(-1)
    expect([q.dx, q.dy, q.dz]).toEqual([Math.hypot(-3, 0.1), Math.hypot(0.3, 3, -0.1), Math.hypot(0.2, 3.5)])
    const qform = quaternionToAffine(q)
    // Columns of the qform are orthogonal and close to the sheared ones.
    const column = (m: Mat4, j: number): number[] => [m[0][j]!, m[1][j]!, m[2][j]!]
    const dot = (u: number[], v: number[]) => u.reduce((s, x, i) => s + x * v[i]!, 0)
    expect(Math.abs(dot(column(qform, 0), column(qform, 1)))).toBeLessThan(1e-12)
    expect(Math.abs(dot(column(qform, 1), column(qform, 2)))).toBeLessThan(1e-12)
    expectMat4Close(qform, sheared, 0.2)
    expect(qform.map((row) => row[3])).toEqual([10, 20, 30, 1])
  })

  it('gives a zero column the matching axis and spacing 1, as nifti1_io does', () => {
    const q = affineToQuaternion([[2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])
    expect([q.dx, q.dy, q.dz, q.qfac]).toEqual([2, 1, 2, 1])
    expect([q.b, q.c, q.d]).toEqual([0, 0, 0])
  })
})

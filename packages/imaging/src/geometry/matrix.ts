// Small, exact 3-vector and 4x4 matrix helpers for voxel-to-patient geometry (no dependency).
import type { Vec3 } from '../dicom/types.js'

/** A row-major 4x4 matrix; as an affine, voxel (i, j, k, 1) to patient mm. */
export type Mat4 = readonly [
  readonly [number, number, number, number],
  readonly [number, number, number, number],
  readonly [number, number, number, number],
  readonly [number, number, number, number],
]

export const identity4: Mat4 = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
]

export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s]
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
export const norm = (a: Vec3): number => Math.sqrt(dot(a, a))
export const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
]
export const normalize = (a: Vec3): Vec3 => {
  const length = norm(a)
  return length === 0 ? a : scale(a, 1 / length)
}

/** The affine whose columns are the voxel steps along i, j, k and whose last column is the origin. */
export function affineFromColumns(i: Vec3, j: Vec3, k: Vec3, origin: Vec3): Mat4 {
  return [
    [i[0], j[0], k[0], origin[0]],
    [i[1], j[1], k[1], origin[1]],
    [i[2], j[2], k[2], origin[2]],
    [0, 0, 0, 1],
  ]
}

/** Column `c` (0..3) of the upper 3 rows. */
export function column(m: Mat4, c: 0 | 1 | 2 | 3): Vec3 {
  return [m[0][c], m[1][c], m[2][c]]
}

export function multiply(a: Mat4, b: Mat4): Mat4 {
  const out = [0, 1, 2, 3].map((r) =>
    [0, 1, 2, 3].map((c) => a[r]![0] * b[0][c]! + a[r]![1] * b[1][c]! + a[r]![2] * b[2][c]! + a[r]![3] * b[3][c]!),
  )
  return out as unknown as Mat4
}

/** Applies an affine to a point. */
export function apply(m: Mat4, p: Vec3): Vec3 {
  return [
    m[0][0] * p[0] + m[0][1] * p[1] + m[0][2] * p[2] + m[0][3],
    m[1][0] * p[0] + m[1][1] * p[1] + m[1][2] * p[2] + m[1][3],
    m[2][0] * p[0] + m[2][1] * p[1] + m[2][2] * p[2] + m[2][3],
  ]
}

/** Inverse of an affine (last row 0 0 0 1), by the adjugate of its 3x3 part. */
export function invertAffine(m: Mat4): Mat4 {
  const [a, b, c] = [m[0][0], m[0][1], m[0][2]]
  const [d, e, f] = [m[1][0], m[1][1], m[1][2]]
  const [g, h, i] = [m[2][0], m[2][1], m[2][2]]
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
  if (det === 0 || !Number.isFinite(det)) throw new RangeError('affine is singular')
  const r: [Vec3, Vec3, Vec3] = [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ]
  const t: Vec3 = [m[0][3], m[1][3], m[2][3]]
  return [
    [r[0][0], r[0][1], r[0][2], -dot(r[0], t)],
    [r[1][0], r[1][1], r[1][2], -dot(r[1], t)],
    [r[2][0], r[2][1], r[2][2], -dot(r[2], t)],
    [0, 0, 0, 1],
  ]
}

/** Determinant of the 3x3 part (negative for a left-handed voxel grid). */
export function determinant3(m: Mat4): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  )
}

/** Voxel sizes: the lengths of the first three columns. */
export function voxelSizes(m: Mat4): Vec3 {
  return [norm(column(m, 0)), norm(column(m, 1)), norm(column(m, 2))]
}

/**
 * DICOM patient coordinates are LPS (x to the patient's left, y posterior, z superior);
 * NIfTI's are RAS. The change of basis negates x and y (DICOM PS3.3 C.7.6.2.1.1; nifti1.h).
 */
export function lpsToRas(m: Mat4): Mat4 {
  return [
    [-m[0][0], -m[0][1], -m[0][2], -m[0][3]],
    [-m[1][0], -m[1][1], -m[1][2], -m[1][3]],
    [m[2][0], m[2][1], m[2][2], m[2][3]],
    [0, 0, 0, 1],
  ]
}

/** True when every element differs by at most `tolerance`. */
export function nearlyEqual(a: Mat4, b: Mat4, tolerance: number): boolean {
  return a.every((row, r) => row.every((value, c) => Math.abs(value - b[r]![c]!) <= tolerance))
}

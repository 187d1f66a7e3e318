// The qform quaternion of NIfTI-1/2 (nifti1.h "METHOD 2"): affine <-> quaternion, offsets, pixdim and qfac.
import type { Mat4, NiftiQuaternion } from './types.js'

type Mat3 = [[number, number, number], [number, number, number], [number, number, number]]

/**
 * The qform of nifti1.h method 2:
 *   [x y z]' = R [i j qfac*k]' * [dx dy dz] + [qx qy qz]'
 * with R from the unit quaternion (a, b, c, d), a = sqrt(1 - b^2 - c^2 - d^2):
 *   R = [ a²+b²-c²-d²   2bc-2ad       2bd+2ac     ]
 *       [ 2bc+2ad       a²+c²-b²-d²   2cd-2ab     ]
 *       [ 2bd-2ac       2cd+2ab       a²+d²-c²-b² ]
 * (nifti1.h, "QUATERNION REPRESENTATION OF ROTATION MATRIX").
 */
export function quaternionToAffine(q: NiftiQuaternion): Mat4 {
  let { b, c, d } = q
  const sum = b * b + c * c + d * d
  let a: number
  if (sum < 1) {
    a = Math.sqrt(1 - sum)
  } else {
    // float32 storage can push |(b,c,d)| just past 1 for a 180° rotation: a is then 0, and
    // renormalising keeps R orthonormal instead of slightly scaled.
    const norm = Math.sqrt(sum)
    b /= norm
    c /= norm
    d /= norm
    a = 0
  }
  const zScale = q.dz * (q.qfac < 0 ? -1 : 1)
  return [
    [(a * a + b * b - c * c - d * d) * q.dx, 2 * (b * c - a * d) * q.dy, 2 * (b * d + a * c) * zScale, q.qx],
    [2 * (b * c + a * d) * q.dx, (a * a + c * c - b * b - d * d) * q.dy, 2 * (c * d - a * b) * zScale, q.qy],
    [2 * (b * d - a * c) * q.dx, 2 * (c * d + a * b) * q.dy, (a * a + d * d - c * c - b * b) * zScale, q.qz],
    [0, 0, 0, 1],
  ]
}

/**
 * The quaternion form of an affine, as nifti1.h describes and nifti1_io's
 * nifti_mat44_to_quatern does: spacings are the column norms, the normalised 3x3 is replaced by
 * its nearest orthogonal matrix (polar decomposition) so a sheared affine still gives a proper
 * rotation, and a negative determinant is carried by qfac = -1 (flipping the third column).
 */
export function affineToQuaternion(affine: Mat4): NiftiQuaternion {
  const columns = [0, 1, 2].map((j) => [affine[0][j], affine[1][j], affine[2][j]] as [number, number, number])
  const spacing = columns.map((column, j) => {
    const norm = Math.hypot(...column)
    if (norm > 0) return norm
    // A zero column has no direction; nifti1_io substitutes the matching axis and spacing 1.
    column.splice(0, 3, j === 0 ? 1 : 0, j === 1 ? 1 : 0, j === 2 ? 1 : 0)
    return 1
  }) as [number, number, number]
  const normalised: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ]
  for (let j = 0; j < 3; j++) {
    for (let i = 0; i < 3; i++) normalised[i]![j] = columns[j]![i]! / spacing[j]!
  }
  const rotation = polar(normalised)
  let qfac: 1 | -1 = 1
  if (det3(rotation) < 0) {
    qfac = -1
    for (let i = 0; i < 3; i++) rotation[i]![2] = -rotation[i]![2]
  }
  const { b, c, d } = rotationToQuaternion(rotation)
  return {
    b,
    c,
    d,
    qx: affine[0][3],
    qy: affine[1][3],
    qz: affine[2][3],
    dx: spacing[0],
    dy: spacing[1],
    dz: spacing[2],
    qfac,
  }
}

/**
 * Inverse of the formula above (nifti1.h: a = 0.5 sqrt(1+R11+R22+R33), b = 0.25 (R32-R23)/a,
 * c = 0.25 (R13-R31)/a, d = 0.25 (R21-R12)/a). nifti1.h notes that near a 180° rotation (a ~ 0)
 * other formulas are needed: those divide by the largest of b, c, d instead. a is kept >= 0
 * because only b, c, d are stored.
 */
function rotationToQuaternion(r: Mat3): { b: number; c: number; d: number } {
  const [[r11, r12, r13], [r21, r22, r23], [r31, r32, r33]] = r
  let a: number, b: number, c: number, d: number
  const trace = r11 + r22 + r33
  if (trace > 0) {
    a = 0.5 * Math.sqrt(1 + trace)
    b = (0.25 * (r32 - r23)) / a
    c = (0.25 * (r13 - r31)) / a
    d = (0.25 * (r21 - r12)) / a
  } else if (r11 >= r22 && r11 >= r33) {
    b = 0.5 * Math.sqrt(1 + r11 - r22 - r33)
    a = (0.25 * (r32 - r23)) / b
    c = (0.25 * (r12 + r21)) / b
    d = (0.25 * (r13 + r31)) / b
  } else if (r22 >= r33) {
    c = 0.5 * Math.sqrt(1 - r11 + r22 - r33)
    a = (0.25 * (r13 - r31)) / c
    b = (0.25 * (r12 + r21)) / c
    d = (0.25 * (r23 + r32)) / c
  } else {
    d = 0.5 * Math.sqrt(1 - r11 - r22 + r33)
    a = (0.25 * (r21 - r12)) / d
    b = (0.25 * (r13 + r31)) / d
    c = (0.25 * (r23 + r32)) / d
  }
  return a < 0 ? { b: -b, c: -c, d: -d } : { b, c, d }
}

/**
 * The orthogonal factor of the polar decomposition M = P·S (the orthogonal matrix nearest to
 * M), by Higham's scaled Newton iteration P <- (g·P + P^-T / g) / 2.
 */
function polar(m: Mat3): Mat3 {
  let x = m.map((row) => [...row]) as Mat3
  // A singular matrix has no inverse; a tiny nudge of the diagonal picks an invertible one nearby.
  for (let nudge = 1e-10; Math.abs(det3(x)) < 1e-12 && nudge < 1; nudge *= 10) {
    for (let i = 0; i < 3; i++) x[i]![i] = m[i]![i]! + nudge
  }
  for (let iteration = 0; iteration < 100; iteration++) {
    const inverseT = transpose(inverse3(x))
    const gamma = Math.sqrt(frobenius(inverseT) / frobenius(x))
    const next = x.map((row, i) => row.map((v, j) => 0.5 * (gamma * v + inverseT[i]![j]! / gamma))) as Mat3
    let change = 0
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) change += Math.abs(next[i]![j]! - x[i]![j]!)
    x = next
    if (change < 1e-13) break
  }
  return x
}

function det3(m: Mat3): number {
  const [[a, b, c], [d, e, f], [g, h, i]] = m
  return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
}

function inverse3(m: Mat3): Mat3 {
  const [[a, b, c], [d, e, f], [g, h, i]] = m
  const det = det3(m)
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ]
}

function transpose(m: Mat3): Mat3 {
  return [
    [m[0][0], m[1][0], m[2][0]],
    [m[0][1], m[1][1], m[2][1]],
    [m[0][2], m[1][2], m[2][2]],
  ]
}

function frobenius(m: Mat3): number {
  return Math.hypot(...m[0], ...m[1], ...m[2])
}

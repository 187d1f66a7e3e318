// Acquisition grids: DICOM slice geometry, the NIfTI layout dcm2niix gives it, and the B0 direction in its voxels.
import { affineFromColumns, apply, canonicalReorientation, invertAffine, lpsToRas, multiply, type Mat4 } from '@pacsflow/imaging'

export type Vec3 = readonly [number, number, number]
/** A rotation as its three columns (unit vectors, LPS). */
export type Rotation = readonly [Vec3, Vec3, Vec3]

/**
 * A stack of parallel slices as the scanner writes it: `columns x rows` pixels per slice,
 * `slices` slices numbered along the slice normal. `axes[0]` is the row direction (along a
 * row, column index increasing), `axes[1]` the column direction (row index increasing) and
 * `axes[2]` the slice normal, all LPS; the grid is centred on `centreLps`.
 */
export interface AcquisitionGrid {
  readonly dims: readonly [columns: number, rows: number, slices: number]
  /** mm between columns, between rows, between slices. */
  readonly voxelMm: Vec3
  readonly axes: Rotation
  readonly centreLps: Vec3
}

/** Where the grid's voxels go in NIfTI and the RAS affine of that layout (what dcm2niix writes). */
export interface NiftiGeometry {
  readonly dims: readonly [number, number, number]
  /** Voxel to RAS mm. */
  readonly affine: Mat4
  /** The NIfTI linear index of DICOM pixel (c, r, s) is `base + c*strides[0] + r*strides[1] + s*strides[2]`. */
  readonly base: number
  readonly strides: Vec3
}

export const AXIAL: Rotation = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
]
/** Siemens' sagittal: rows run posterior, columns inferior, the normal points right (row x column). */
export const SAGITTAL: Rotation = [
  [0, 1, 0],
  [0, 0, -1],
  [-1, 0, 0],
]

const radians = (degrees: number): number => (degrees * Math.PI) / 180

/** The rotation about LPS x by `aboutX` degrees, then about y by `aboutY`, then about z by `aboutZ`. */
export function rotationXYZ(aboutX: number, aboutY: number, aboutZ = 0): Rotation {
  const [cx, sx, cy, sy, cz, sz] = [aboutX, aboutX, aboutY, aboutY, aboutZ, aboutZ].map((d, i) => (i % 2 === 0 ? Math.cos(radians(d)) : Math.sin(radians(d))))
  const rx = [[1, 0, 0], [0, cx!, -sx!], [0, sx!, cx!]]
  const ry = [[cy!, 0, sy!], [0, 1, 0], [-sy!, 0, cy!]]
  const rz = [[cz!, -sz!, 0], [sz!, cz!, 0], [0, 0, 1]]
  const m = matmul(rz, matmul(ry, rx))
  return [0, 1, 2].map((c) => [m[0]![c]!, m[1]![c]!, m[2]![c]!] as const) as unknown as Rotation
}

/** Applies rotation `r` to every axis of `base` (r · base). */
export function rotate(r: Rotation, base: Rotation): Rotation {
  return base.map((v) => rotateVector(r, v)) as unknown as Rotation
}

export function rotateVector(r: Rotation, v: Vec3): Vec3 {
  return [
    r[0][0] * v[0] + r[1][0] * v[1] + r[2][0] * v[2],
    r[0][1] * v[0] + r[1][1] * v[1] + r[2][1] * v[2],
    r[0][2] * v[0] + r[1][2] * v[1] + r[2][2] * v[2],
  ]
}

function matmul(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return [0, 1, 2].map((r) => [0, 1, 2].map((c) => a[r]![0]! * b[0]![c]! + a[r]![1]! * b[1]![c]! + a[r]![2]! * b[2]![c]!))
}

/** Voxel (column, row, slice) to LPS mm (the DICOM order, row 0 first). */
export function dicomAffineLps(grid: AcquisitionGrid): Mat4 {
  const steps = grid.axes.map((axis, i) => axis.map((value) => value * grid.voxelMm[i]!) as unknown as Vec3) as [Vec3, Vec3, Vec3]
  const origin = [0, 1, 2].map((w) => grid.centreLps[w]! - steps.reduce((sum, step, i) => sum + (step[w]! * (grid.dims[i]! - 1)) / 2, 0)) as unknown as Vec3
  return affineFromColumns(steps[0], steps[1], steps[2], origin)
}

/** ImagePositionPatient of slice s: the centre of its first transmitted pixel (PS3.3 C.7.6.2.1.1). */
export function slicePosition(grid: AcquisitionGrid, s: number): Vec3 {
  return apply(dicomAffineLps(grid), [0, 0, s])
}

/**
 * The NIfTI layout of a 3D (non-EPI) acquisition as dcm2niix writes it and @pacsflow/imaging's
 * `niftiLayout` computes it: rows written bottom-first (the row axis negated, origin moved to the
 * last row), LPS to RAS, then the nearest canonical permutation and flips (dcm2niix's nii_setOrtho).
 */
export function niftiGeometry(grid: AcquisitionGrid): NiftiGeometry {
  const lps = dicomAffineLps(grid)
  const col = (c: number): Vec3 => [lps[0][c]!, lps[1][c]!, lps[2][c]!]
  const rowStep = col(1)
  const origin = apply(lps, [0, grid.dims[1] - 1, 0])
  const flipped = lpsToRas(affineFromColumns(col(0), [-rowStep[0], -rowStep[1], -rowStep[2]], col(2), origin))
  const reorientation = canonicalReorientation(flipped, grid.dims)
  const affine = reorientation.affine
  const dims = reorientation.dims
  // NIfTI voxel of each DICOM voxel: inverse(NIfTI affine) · (DICOM affine, in RAS): a signed permutation.
  const toNifti = multiply(invertAffine(affine), lpsToRas(lps))
  const index = (p: Vec3): Vec3 => apply(toNifti, p).map((v) => Math.round(v)) as unknown as Vec3
  const linear = (v: Vec3): number => v[0] + dims[0] * (v[1] + dims[1] * v[2])
  const base = linear(index([0, 0, 0]))
  const strides: Vec3 = [linear(index([1, 0, 0])) - base, linear(index([0, 1, 0])) - base, linear(index([0, 0, 1])) - base]
  return { dims, affine, base, strides }
}

/** RAS affine to LPS (the same change of basis as its inverse). */
export function rasToLps(affine: Mat4): Mat4 {
  return lpsToRas(affine)
}

/**
 * The unit B0 direction in the voxel axes of a grid: B0 runs along the scanner's z axis, which
 * for a head-first patient is the patient's superior axis (z in both LPS and RAS), so its
 * component along voxel axis i is the z-component of that axis' unit vector.
 */
export function b0DirectionInVoxels(affine: Mat4): Vec3 {
  const out = [0, 1, 2].map((i) => affine[2][i]! / Math.hypot(affine[0][i]!, affine[1][i]!, affine[2][i]!))
  return out as unknown as Vec3
}

/** The spacing of a grid's voxel axes (column norms of the affine). */
export function voxelSpacing(affine: Mat4): Vec3 {
  return [0, 1, 2].map((i) => Math.hypot(affine[0][i]!, affine[1][i]!, affine[2][i]!)) as unknown as Vec3
}

/** A Mat4 as plain nested arrays, for JSON. */
export function matrixJson(m: Mat4): number[][] {
  return m.map((row) => [...row])
}

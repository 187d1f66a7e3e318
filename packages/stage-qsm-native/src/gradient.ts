// Forward-difference gradient with periodic boundaries and its adjoint (minus the backward-difference divergence), per axis in mm.
import type { Shape3 } from '@pacsflow/imaging'

/** Index of the next voxel along an axis, wrapping at the box edge. */
function ahead(i: number, c: number, n: number, step: number): number {
  return c === n - 1 ? i - (n - 1) * step : i + step
}

/** `out[axis][i] = (x[i + e_axis] - x[i]) / h_axis` (periodic). */
export function gradient(x: Float64Array, shape: Shape3, voxelSizeMm: readonly number[], out: readonly [Float64Array, Float64Array, Float64Array]): void {
  const [nx, ny, nz] = shape
  const [gx, gy, gz] = out
  const [ix, iy, iz] = [1 / (voxelSizeMm[0] as number), 1 / (voxelSizeMm[1] as number), 1 / (voxelSizeMm[2] as number)]
  const plane = nx * ny
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let xi = 0; xi < nx; xi++, i++) {
        const v = x[i] as number
        gx[i] = ((x[ahead(i, xi, nx, 1)] as number) - v) * ix
        gy[i] = ((x[ahead(i, y, ny, nx)] as number) - v) * iy
        gz[i] = ((x[ahead(i, z, nz, plane)] as number) - v) * iz
      }
    }
  }
}

/** The adjoint of {@link gradient}: `out[i] = sum_axis (g_axis[i - e_axis] - g_axis[i]) / h_axis`. */
export function gradientAdjoint(g: readonly [Float64Array, Float64Array, Float64Array], shape: Shape3, voxelSizeMm: readonly number[], out: Float64Array): void {
  const [nx, ny, nz] = shape
  const [gx, gy, gz] = g
  const [ix, iy, iz] = [1 / (voxelSizeMm[0] as number), 1 / (voxelSizeMm[1] as number), 1 / (voxelSizeMm[2] as number)]
  const plane = nx * ny
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        const bx = x === 0 ? i + nx - 1 : i - 1
        const by = y === 0 ? i + (ny - 1) * nx : i - nx
        const bz = z === 0 ? i + (nz - 1) * plane : i - plane
        out[i] =
          ((gx[bx] as number) - (gx[i] as number)) * ix +
          ((gy[by] as number) - (gy[i] as number)) * iy +
          ((gz[bz] as number) - (gz[i] as number)) * iz
      }
    }
  }
}

/**
 * `out[i] = (G^T V G x)[i]` at the voxels where `where[i] === 1`, zero elsewhere: the TV term's
 * operator of a lagged-diffusivity (IRLS) step, V = diag(v) on every axis. One pass, no gradient
 * arrays: each voxel takes the two differences on each axis that touch it,
 *   `sum_axis (((x[i] - x[i - e]) / h) v[i - e] - ((x[i + e] - x[i]) / h) v[i]) / h`,
 * each product in the order {@link gradient}, the multiplication by v and {@link gradientAdjoint}
 * use, so the result is bit-identical to those three in turn (periodic boundaries included).
 */
export function weightedDivergence(x: Float64Array, v: Float64Array, shape: Shape3, voxelSizeMm: readonly number[], where: Uint8Array, out: Float64Array): void {
  const [nx, ny, nz] = shape
  const [ix, iy, iz] = [1 / (voxelSizeMm[0] as number), 1 / (voxelSizeMm[1] as number), 1 / (voxelSizeMm[2] as number)]
  const plane = nx * ny
  for (let z = 0, i = 0; z < nz; z++) {
    const zEdge = z === 0 || z === nz - 1
    for (let y = 0; y < ny; y++) {
      const edge = zEdge || y === 0 || y === ny - 1
      for (let xi = 0; xi < nx; xi++, i++) {
        if (where[i] !== 1) {
          out[i] = 0
          continue
        }
        const c = x[i] as number
        const vc = v[i] as number
        if (edge || xi === 0 || xi === nx - 1) {
          const bx = xi === 0 ? i + nx - 1 : i - 1
          const by = y === 0 ? i + (ny - 1) * nx : i - nx
          const bz = z === 0 ? i + (nz - 1) * plane : i - plane
          out[i] =
            (((c - (x[bx] as number)) * ix) * (v[bx] as number) - (((x[ahead(i, xi, nx, 1)] as number) - c) * ix) * vc) * ix +
            (((c - (x[by] as number)) * iy) * (v[by] as number) - (((x[ahead(i, y, ny, nx)] as number) - c) * iy) * vc) * iy +
            (((c - (x[bz] as number)) * iz) * (v[bz] as number) - (((x[ahead(i, z, nz, plane)] as number) - c) * iz) * vc) * iz
          continue
        }
        out[i] =
          (((c - (x[i - 1] as number)) * ix) * (v[i - 1] as number) - (((x[i + 1] as number) - c) * ix) * vc) * ix +
          (((c - (x[i - nx] as number)) * iy) * (v[i - nx] as number) - (((x[i + nx] as number) - c) * iy) * vc) * iy +
          (((c - (x[i - plane] as number)) * iz) * (v[i - plane] as number) - (((x[i + plane] as number) - c) * iz) * vc) * iz
      }
    }
  }
}

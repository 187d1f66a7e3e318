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

// The operator of a lagged-diffusivity (IRLS) total-variation step, G^T V G, in one pass over a volume: forward differences with periodic boundaries, per axis in mm.
import type { Shape3 } from './fft3d.js'

/**
 * `out[i] = (G^T V G x)[i]` on planes `[firstPlane, lastPlane)` at the voxels where `mask[i] === 1`,
 * zero elsewhere, with G the forward-difference gradient (periodic, `(x[i + e] - x[i]) / h` per axis)
 * and V = diag(v) on every axis. Each voxel takes the two differences on each axis that touch it,
 *   `sum_axis (((x[i] - x[i - e]) / h) v[i - e] - ((x[i + e] - x[i]) / h) v[i]) / h`,
 * each product in the order of computing G x, multiplying by v, then applying G^T = minus the
 * backward-difference divergence, so the result equals those three steps bit for bit, without the
 * three gradient arrays (Vogel & Oman, "Iterative methods for total variation denoising", SIAM J Sci
 * Comput 17:227, 1996, for the lagged-diffusivity operator).
 */
export function weightedDivergenceRange(x: Float64Array, v: Float64Array, shape: Shape3, voxelSizeMm: readonly number[], mask: Uint8Array, out: Float64Array, firstPlane: number, lastPlane: number): void {
  const [nx, ny, nz] = shape
  const [ix, iy, iz] = [1 / (voxelSizeMm[0] as number), 1 / (voxelSizeMm[1] as number), 1 / (voxelSizeMm[2] as number)]
  const plane = nx * ny
  for (let z = firstPlane, i = firstPlane * plane; z < lastPlane; z++) {
    const zEdge = z === 0 || z === nz - 1
    for (let y = 0; y < ny; y++) {
      const edge = zEdge || y === 0 || y === ny - 1
      for (let xi = 0; xi < nx; xi++, i++) {
        if (mask[i] !== 1) {
          out[i] = 0
          continue
        }
        const c = x[i] as number
        const vc = v[i] as number
        if (edge || xi === 0 || xi === nx - 1) {
          // At the box edge: neighbours wrap around (periodic).
          const bx = xi === 0 ? i + nx - 1 : i - 1
          const by = y === 0 ? i + (ny - 1) * nx : i - nx
          const bz = z === 0 ? i + (nz - 1) * plane : i - plane
          const fx = xi === nx - 1 ? i - (nx - 1) : i + 1
          const fy = y === ny - 1 ? i - (ny - 1) * nx : i + nx
          const fz = z === nz - 1 ? i - (nz - 1) * plane : i + plane
          out[i] =
            ((c - (x[bx] as number)) * ix * (v[bx] as number) - ((x[fx] as number) - c) * ix * vc) * ix +
            ((c - (x[by] as number)) * iy * (v[by] as number) - ((x[fy] as number) - c) * iy * vc) * iy +
            ((c - (x[bz] as number)) * iz * (v[bz] as number) - ((x[fz] as number) - c) * iz * vc) * iz
          continue
        }
        out[i] =
          ((c - (x[i - 1] as number)) * ix * (v[i - 1] as number) - ((x[i + 1] as number) - c) * ix * vc) * ix +
          ((c - (x[i - nx] as number)) * iy * (v[i - nx] as number) - ((x[i + nx] as number) - c) * iy * vc) * iy +
          ((c - (x[i - plane] as number)) * iz * (v[i - plane] as number) - ((x[i + plane] as number) - c) * iz * vc) * iz
      }
    }
  }
}

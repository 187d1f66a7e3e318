// k-space kernels on the half spectrum of a real volume (the layout rfft3d gives): dipole, discrete Laplacian, spherical mean value.
import { cropVolume, dipoleKernel, halfShape, rfft3d, type Shape3 } from '@pacsflow/imaging'

/** The dipole kernel (see `dipoleKernel` in @pacsflow/imaging) on the half spectrum of `shape`. */
export function dipoleKernelHalf(shape: Shape3, voxelSizeMm: readonly number[], b0DirectionVoxel: readonly number[]): Float64Array {
  return cropVolume(dipoleKernel(shape, voxelSizeMm, b0DirectionVoxel), shape, halfShape(shape))
}

/**
 * The eigenvalues of minus the 7-point discrete Laplacian with periodic boundaries,
 * `sum_i (2 - 2 cos(2 pi k_i / n_i)) / h_i^2` (>= 0, zero only at k = 0), on the half spectrum:
 * the FFT diagonalises the stencil, and it equals `G^T G` for the forward-difference gradient G.
 */
export function negativeLaplacianHalf(shape: Shape3, voxelSizeMm: readonly number[]): Float64Array {
  const half = halfShape(shape)
  const terms = [0, 1, 2].map((axis) => {
    const n = shape[axis] as number
    const h2 = (voxelSizeMm[axis] as number) ** 2
    return Float64Array.from({ length: half[axis] as number }, (_, k) => (2 - 2 * Math.cos((2 * Math.PI * k) / n)) / h2)
  }) as [Float64Array, Float64Array, Float64Array]
  const [hx, hy, hz] = half
  const out = new Float64Array(hx * hy * hz)
  for (let z = 0, i = 0; z < hz; z++) {
    for (let y = 0; y < hy; y++) {
      const yz = (terms[1][y] as number) + (terms[2][z] as number)
      for (let x = 0; x < hx; x++, i++) out[i] = (terms[0][x] as number) + yz
    }
  }
  return out
}

/**
 * The spectrum (real: the ball is symmetric) of the spherical mean value kernel of `radiusMm`:
 * the voxels within the radius of the origin (periodic offsets, anisotropic voxels), each 1/count.
 * Convolving with it averages a field over a ball (Li & Leigh 2001; Schweser et al. 2011).
 */
export function sphereKernelHalf(shape: Shape3, voxelSizeMm: readonly number[], radiusMm: number): Float64Array {
  const [nx, ny, nz] = shape
  const ball = new Float64Array(nx * ny * nz)
  const offset = (i: number, n: number): number => (2 * i < n ? i : i - n)
  let count = 0
  const r2 = radiusMm * radiusMm
  for (let z = 0; z < nz; z++) {
    const dz = offset(z, nz) * (voxelSizeMm[2] as number)
    for (let y = 0; y < ny; y++) {
      const dy = offset(y, ny) * (voxelSizeMm[1] as number)
      for (let x = 0; x < nx; x++) {
        const dx = offset(x, nx) * (voxelSizeMm[0] as number)
        if (dx * dx + dy * dy + dz * dz <= r2) {
          ball[x + nx * (y + ny * z)] = 1
          count++
        }
      }
    }
  }
  for (let i = 0; i < ball.length; i++) ball[i] = (ball[i] as number) / count
  return rfft3d(ball, shape).re
}

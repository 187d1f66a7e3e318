// Laplacian phase unwrapping: the Laplacian of the true phase from the wrapped one, then a Poisson solve by FFT.
import { PacsflowError } from '@pacsflow/core'
import { fftArray, irfft3d, rfft3d, type Shape3 } from '@pacsflow/imaging'
import { negativeLaplacianHalf } from './kernels.js'

/** How the Laplacian of the true phase is estimated from the wrapped phase. */
export type LaplacianForm = 'sin' | 'wrapped'

export interface UnwrapOptions {
  /**
   * `'sin'` (default): Schofield & Zhu's `cos(phi) Lap sin(phi) - sin(phi) Lap cos(phi)`; with the
   * discrete 7-point Laplacian this is `sum_neighbours sin(phi_j - phi_i) / h^2`.
   * `'wrapped'`: `sum_neighbours W(phi_j - phi_i) / h^2` with W the wrap to (-pi, pi], exact while
   * neighbours differ by less than pi (the unweighted least-squares unwrapping of Ghiglia & Romero,
   * JOSA A 11:107, 1994).
   */
  readonly form?: LaplacianForm
}

const TWO_PI = 2 * Math.PI

/**
 * The Laplacian of the unwrapped phase, estimated from the wrapped phase `phase` (radians) with
 * the 7-point stencil and periodic boundaries: for neighbours j of voxel i along each axis,
 * `sum_j g(phi_j - phi_i) / h^2`, g = sin or the wrap (see {@link UnwrapOptions}).
 * This is Schofield & Zhu's identity (Opt Lett 28:1194, 2003) evaluated with the discrete
 * Laplacian, which the FFT diagonalises exactly (so it is their k-space form with the discrete kernel).
 */
export function wrappedLaplacian(phase: ArrayLike<number>, shape: Shape3, voxelSizeMm: readonly number[], form: LaplacianForm = 'sin'): Float64Array {
  const [nx, ny, nz] = shape
  const out = fftArray(nx * ny * nz)
  const plane = nx * ny
  const [wx, wy, wz] = [0, 1, 2].map((axis) => ((shape[axis] as number) === 1 ? 0 : 1 / (voxelSizeMm[axis] as number) ** 2)) as [number, number, number]
  const g = form === 'wrapped' ? (d: number): number => d - TWO_PI * Math.round(d / TWO_PI) : Math.sin
  // One sweep: each voxel and its neighbour ahead along x, y and z (wrapping at the box's end,
  // periodic as the FFT sees it) add the same term to one and subtract it from the other.
  for (let z = 0, i = 0; z < nz; z++) {
    const dz = z === nz - 1 ? -(nz - 1) * plane : plane
    for (let y = 0; y < ny; y++) {
      const dy = y === ny - 1 ? -(ny - 1) * nx : nx
      for (let x = 0; x < nx; x++, i++) {
        const p = phase[i] as number
        const jx = x === nx - 1 ? i - (nx - 1) : i + 1
        const ax = wx * g((phase[jx] as number) - p)
        const ay = wy * g((phase[i + dy] as number) - p)
        const az = wz * g((phase[i + dz] as number) - p)
        out[i] = (out[i] as number) + ax + ay + az
        out[jx] = (out[jx] as number) - ax
        out[i + dy] = (out[i + dy] as number) - ay
        out[i + dz] = (out[i + dz] as number) - az
      }
    }
  }
  return out
}

/**
 * Laplacian unwrapping: `phi = Lap^-1 (Lap phi)` with the discrete Laplacian's inverse in k-space
 * (zero at k = 0). The result is the true phase up to a harmonic function (and its unknown mean),
 * which background-field removal (V-SHARP, PDF) takes away with the background field. Wraps
 * inside the box are undone; Laplacian unwrapping slightly smooths very steep phase (e.g. at
 * large veins at late echoes) where neighbours differ by close to pi. The box is periodic: pad
 * the data (e.g. the mask's bounding box plus a margin) before calling.
 */
export function laplacianUnwrap(phase: ArrayLike<number>, shape: Shape3, voxelSizeMm: readonly number[], options: UnwrapOptions = {}): Float64Array {
  if (phase.length !== shape[0] * shape[1] * shape[2]) {
    throw new PacsflowError('INVALID_OPTIONS', `laplacianUnwrap: ${phase.length} voxels for shape ${shape.join('x')}`)
  }
  const source = wrappedLaplacian(phase, shape, voxelSizeMm, options.form ?? 'sin')
  const spectrum = rfft3d(source, shape)
  const kernel = negativeLaplacianHalf(shape, voxelSizeMm)
  for (let i = 0; i < kernel.length; i++) {
    const l = kernel[i] as number
    // Lap = -kernel; k = 0 (the unknown mean) is set to zero
    const scale = l === 0 ? 0 : -1 / l
    spectrum.re[i]! *= scale
    spectrum.im[i]! *= scale
  }
  return irfft3d(spectrum, shape) as Float64Array
}

// The QSM forward model: field = IFFT(D · FFT(chi)) on a zero-padded grid, two real sources in one complex FFT.
import { cropVolume, dipoleKernel, fft3d, ifft3d, nextFastSize, padVolume, type Shape3 } from '@pacsflow/imaging'

export interface DipoleFieldRequest {
  readonly dims: Shape3
  readonly voxelMm: readonly [number, number, number]
  /** The B0 direction in the grid's voxel axes (see `b0DirectionInVoxels`). */
  readonly b0Voxel: readonly [number, number, number]
  /** Each axis is padded to at least `padFactor` times its size, then to the next 2/3/5-smooth size (default 2). */
  readonly padFactor?: number
  readonly signal?: AbortSignal
}

/**
 * The fields (ppm) of two real susceptibility distributions (ppm), `a` and `b`, on the same grid:
 * `IFFT(D · FFT(chi))` with the dipole kernel `D = 1/3 - (k·b0)^2/|k|^2`, `D(0) = 0` (Salomir et
 * al. 2003; Marques & Bowtell 2005). Both go through one complex FFT, `a` as the real and `b` as
 * the imaginary part: D is real and even, so the two results come back apart in the real and the
 * imaginary part. Zero padding (2x by default) keeps the periodic convolution from wrapping the
 * field of one side of the object onto the other.
 */
export function dipoleFields(a: ArrayLike<number>, b: ArrayLike<number> | undefined, request: DipoleFieldRequest): { a: Float32Array; b: Float32Array } {
  const factor = request.padFactor ?? 2
  const padded = request.dims.map((n) => nextFastSize(Math.ceil(n * factor))) as unknown as Shape3
  // The padding follows the data: a circular convolution does not care where in the box the data sit.
  const re = padVolume(a, request.dims, padded)
  const im = b === undefined ? new Float64Array(re.length) : padVolume(b, request.dims, padded)
  request.signal?.throwIfAborted()
  fft3d(re, im, padded)
  request.signal?.throwIfAborted()
  const kernel = hermitianKernel(padded, request)
  for (let i = 0; i < kernel.length; i++) {
    re[i]! *= kernel[i]!
    im[i]! *= kernel[i]!
  }
  request.signal?.throwIfAborted()
  ifft3d(re, im, padded)
  return {
    a: cropVolume(re, padded, request.dims, [0, 0, 0], new Float32Array(request.dims[0] * request.dims[1] * request.dims[2])),
    b: cropVolume(im, padded, request.dims, [0, 0, 0], new Float32Array(request.dims[0] * request.dims[1] * request.dims[2])),
  }
}

/**
 * The dipole kernel made exactly Hermitian: at the Nyquist index of an even axis the frequency
 * -1/2 has no +1/2 partner, so for an oblique B0 `D(k) != D(-k)` there. Averaging each value with
 * its mirror's is what taking the real part of the inverse transform does for one real source
 * (e.g. numpy's `ifftn(...).real`), and it keeps the two packed sources from leaking into each other.
 */
function hermitianKernel(shape: Shape3, request: DipoleFieldRequest): Float64Array {
  const kernel = dipoleKernel(shape, request.voxelMm, request.b0Voxel)
  const [nx, ny, nz] = shape
  const mirror = (i: number, n: number): number => (n - i) % n
  for (let z = 0; z < nz; z++) {
    const mz = mirror(z, nz)
    for (let y = 0; y < ny; y++) {
      const my = mirror(y, ny)
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z)
        const j = mirror(x, nx) + nx * (my + ny * mz)
        if (j <= i) continue
        const mean = (kernel[i]! + kernel[j]!) / 2
        kernel[i] = mean
        kernel[j] = mean
      }
    }
  }
  return kernel
}

/**
 * The field (ppm) outside a uniformly magnetised sphere of susceptibility `chi` (ppm) and radius
 * `radius`, at offset `r` from its centre, for a unit B0 direction `b`: chi·R^3/(3 r^3)·(3 cos^2θ - 1);
 * zero inside (the Lorentz-sphere convention of the kernel). Jackson, Classical Electrodynamics,
 * 3rd ed., 5.10; Schenck 1996.
 */
export function sphereField(chi: number, radius: number, r: readonly [number, number, number], b: readonly [number, number, number]): number {
  const distance = Math.hypot(r[0], r[1], r[2])
  if (distance <= radius) return 0
  const cos = (r[0] * b[0] + r[1] * b[1] + r[2] * b[2]) / (distance * Math.hypot(b[0], b[1], b[2]))
  return ((chi * radius ** 3) / (3 * distance ** 3)) * (3 * cos * cos - 1)
}

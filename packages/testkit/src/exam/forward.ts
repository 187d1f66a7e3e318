// The QSM forward model: field = IFFT(D · FFT(chi)) on a zero-padded grid, two real sources in one complex FFT.
import { cropVolume, dipoleKernel, fft3d, ifft3d, nextFastSize, padVolume, type Shape3 } from '@pacsflow/imaging'

export interface DipoleFieldRequest {
  readonly dims: Shape3
  readonly voxelMm: readonly [number, number, number]
  /** The B0 direction in the grid's voxel axes (see `b0DirectionInVoxels`). */
  readonly b0Voxel: readonly [number, number, number]
  /** Each axis is padded to at least `padFactor` times its size, then to the next 2/3/5-smooth size (default 2). */
  readonly padFactor?: number
  /** The kernel for `a` (default `'continuous'`, the D; see `DipoleKernelKind`). */
  readonly kernelA?: DipoleKernelKind
  /** The kernel for `b` (default `'continuous'`). */
  readonly kernelB?: DipoleKernelKind
  readonly signal?: AbortSignal
}

/**
 * `'continuous'`: D = 1/3 - (k·b)^2/|k|^2 at the FFT frequencies. `'finite-difference'`: the same
 * ratio with every k_i k_j replaced by the symbol of a finite difference (second differences on
 * the diagonal, products of central differences off it), after the discrete dipole kernel of
 * Milovic et al. (MRM 2018, 80:814), written here for any B0 direction. They agree at low k; the
 * continuous kernel of an oblique B0 is discontinuous across the Nyquist faces of the periodic
 * k-space box (the cross terms k_i k_j change sign there), so its spatial response rings at the
 * Nyquist frequency with a ~1/r envelope around every edge; the finite-difference kernel is a
 * continuous trigonometric ratio, its field obeys a local stencil and is exactly discrete-harmonic
 * where the source is uniform. Used for the background: around the 9.4 ppm air/tissue edge the
 * continuous kernel's rings made the oblique exam's background field in the brain 1.7 times as
 * rough as the local field (SMV residual; 0.05 axial); with this kernel 0.002, axial and oblique.
 */
export type DipoleKernelKind = 'continuous' | 'finite-difference'

/**
 * The fields (ppm) of two real susceptibility distributions (ppm), `a` and `b`, on the same grid:
 * `IFFT(D · FFT(chi))` with the dipole kernel `D = 1/3 - (k·b0)^2/|k|^2`, `D(0) = 0` (Salomir et
 * al. 2003; Marques & Bowtell 2005), or per source the finite-difference kernel (`kernelA`,
 * `kernelB`). Both go through one complex FFT, `a` as the real and `b` as the imaginary part: with
 * one kernel, real and even, the two results come back apart in the real and the imaginary part;
 * with two, the spectra are split into their Hermitian parts first (`applyTwoKernels`). Zero padding (2x by default) keeps the periodic convolution from wrapping the
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
  const kernelA = makeKernel(request.kernelA ?? 'continuous', padded, request)
  const kernelB = (request.kernelB ?? 'continuous') === (request.kernelA ?? 'continuous') ? kernelA : makeKernel(request.kernelB ?? 'continuous', padded, request)
  if (kernelB === kernelA) {
    for (let i = 0; i < kernelA.length; i++) {
      re[i]! *= kernelA[i]!
      im[i]! *= kernelA[i]!
    }
  } else {
    applyTwoKernels(re, im, padded, kernelA, kernelB)
  }
  request.signal?.throwIfAborted()
  ifft3d(re, im, padded)
  return {
    a: cropVolume(re, padded, request.dims, [0, 0, 0], new Float32Array(request.dims[0] * request.dims[1] * request.dims[2])),
    b: cropVolume(im, padded, request.dims, [0, 0, 0], new Float32Array(request.dims[0] * request.dims[1] * request.dims[2])),
  }
}

function makeKernel(kind: DipoleKernelKind, shape: Shape3, request: DipoleFieldRequest): Float64Array {
  return kind === 'continuous' ? hermitianKernel(shape, request) : finiteDifferenceKernel(shape, request)
}

/**
 * Z = FFT(a + i·b) holds A = FFT(a) and B = FFT(b), both Hermitian: A(k) = (Z(k) + conj Z(-k))/2 and
 * i·B(k) = (Z(k) - conj Z(-k))/2. Replaces Z by Da·A + i·Db·B, pair by pair (k with -k), in place.
 */
function applyTwoKernels(re: Float64Array, im: Float64Array, shape: Shape3, da: Float64Array, db: Float64Array): void {
  forEachMirrorPair(shape, (i, j) => {
    const [zr, zi, wr, wi] = [re[i]!, im[i]!, re[j]!, im[j]!]
    // At k: A = (z + conj w)/2, iB = (z - conj w)/2; at -k the same with z and w swapped.
    re[i] = (da[i]! * (zr + wr) + db[i]! * (zr - wr)) / 2
    im[i] = (da[i]! * (zi - wi) + db[i]! * (zi + wi)) / 2
    re[j] = (da[j]! * (wr + zr) + db[j]! * (wr - zr)) / 2
    im[j] = (da[j]! * (wi - zi) + db[j]! * (wi + zi)) / 2
  })
}

/** Calls `visit(i, j)` once for each index i of a volume in FFT order and j that of -k, with j >= i (k = -k included). */
function forEachMirrorPair(shape: Shape3, visit: (i: number, j: number) => void): void {
  const [nx, ny, nz] = shape
  const mirror = (i: number, n: number): number => (n - i) % n
  for (let z = 0; z < nz; z++) {
    const mz = mirror(z, nz)
    for (let y = 0; y < ny; y++) {
      const my = mirror(y, ny)
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z)
        const j = mirror(x, nx) + nx * (my + ny * mz)
        if (j >= i) visit(i, j)
      }
    }
  }
}

/** Per axis: the second-difference symbol 4 sin^2(πf)/h^2 and the central-difference symbol sin(2πf)/h. */
function differenceSymbols(n: number, h: number): { second: Float64Array; central: Float64Array } {
  const second = new Float64Array(n)
  const central = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const f = (2 * i < n ? i : i - n) / n
    second[i] = (4 * Math.sin(Math.PI * f) ** 2) / (h * h)
    central[i] = Math.sin(2 * Math.PI * f) / h
  }
  return { second, central }
}

/**
 * The finite-difference dipole kernel (see `DipoleKernelKind`): 1/3 - b^T M b / trace M with
 * M_ii the second-difference and M_ij the product of central-difference symbols; D(0) = 0. Even in
 * k, so Hermitian as it stands (at a Nyquist index the central difference is 0).
 */
function finiteDifferenceKernel(shape: Shape3, request: DipoleFieldRequest): Float64Array {
  const [nx, ny, nz] = shape
  const norm = Math.hypot(...request.b0Voxel)
  const [bx, by, bz] = request.b0Voxel.map((v) => v / norm) as [number, number, number]
  const [sx, sy, sz] = [differenceSymbols(nx, request.voxelMm[0]), differenceSymbols(ny, request.voxelMm[1]), differenceSymbols(nz, request.voxelMm[2])]
  const out = new Float64Array(nx * ny * nz)
  for (let z = 0; z < nz; z++) {
    const [qz, cz] = [sz.second[z]!, sz.central[z]!]
    for (let y = 0; y < ny; y++) {
      const [qy, cy] = [sy.second[y]!, sy.central[y]!]
      for (let x = 0; x < nx; x++) {
        const [qx, cx] = [sx.second[x]!, sx.central[x]!]
        const trace = qx + qy + qz
        if (trace === 0) continue
        const bmb = bx * bx * qx + by * by * qy + bz * bz * qz + 2 * (bx * by * cx * cy + bx * bz * cx * cz + by * bz * cy * cz)
        out[x + nx * (y + ny * z)] = 1 / 3 - bmb / trace
      }
    }
  }
  return out
}

/**
 * The dipole kernel made exactly Hermitian: at the Nyquist index of an even axis the frequency
 * -1/2 has no +1/2 partner, so for an oblique B0 `D(k) != D(-k)` there. Averaging each value with
 * its mirror's is what taking the real part of the inverse transform does for one real source
 * (e.g. numpy's `ifftn(...).real`), and it keeps the two packed sources from leaking into each other.
 */
function hermitianKernel(shape: Shape3, request: DipoleFieldRequest): Float64Array {
  const kernel = dipoleKernel(shape, request.voxelMm, request.b0Voxel)
  forEachMirrorPair(shape, (i, j) => {
    const mean = (kernel[i]! + kernel[j]!) / 2
    kernel[i] = mean
    kernel[j] = mean
  })
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

// Background field removal by projection onto dipole fields (PDF): fit the field of sources outside the mask, keep the rest.
import { fftArray, irfft3d, rfft3d } from '@pacsflow/imaging'
import type { DipoleGrid } from './inversion.js'
import { dipoleKernelHalf } from './kernels.js'
import type { Mask } from './morphology.js'
import { checkpoint } from './pause.js'
import type { BackgroundRemoval } from './vsharp.js'

export interface PdfOptions {
  /** Conjugate-gradient iterations at most (default 50). */
  readonly maxIterations?: number
  /** Stop when the residual norm falls below this fraction of the initial one (default 1e-3). */
  readonly tolerance?: number
  /** Per-voxel data weights inside the mask (e.g. normalised magnitude); default 1. */
  readonly weights?: ArrayLike<number>
  readonly signal?: AbortSignal
  readonly onProgress?: (fraction: number) => void
}

/**
 * PDF (Liu et al., "A novel background field removal method for MRI using projection onto dipole
 * fields", NMR Biomed 24:1129, 2011): the background field is the field of some susceptibility
 * outside the mask, `b = P_M D (1 - M) chi_b`; chi_b minimises `||W M (f - D (1 - M) chi_b)||^2`,
 * solved by conjugate gradients on the normal equations. Dipole fields of outside sources are
 * nearly orthogonal to those of inside sources within the mask, so what remains is the local field.
 * The box should be large (padding around the mask): the outside sources live in it.
 */
export async function pdf(field: ArrayLike<number>, mask: Mask, grid: DipoleGrid, options: PdfOptions = {}): Promise<BackgroundRemoval> {
  const { shape } = grid
  const size = shape[0] * shape[1] * shape[2]
  const d = dipoleKernelHalf(shape, grid.voxelSizeMm, grid.b0DirectionVoxel)
  const w2 = new Float64Array(size)
  for (let i = 0; i < size; i++) w2[i] = mask[i] === 1 ? ((options.weights?.[i] as number | undefined) ?? 1) ** 2 : 0
  const convolve = (x: Float64Array, out: Float64Array): void => {
    const spectrum = rfft3d(x, shape)
    for (let k = 0; k < d.length; k++) {
      spectrum.re[k]! *= d[k] as number
      spectrum.im[k]! *= d[k] as number
    }
    irfft3d(spectrum, shape, out)
  }
  // A x = (1 - M) D W^2 D (1 - M) x (D is real and even, so it is its own adjoint).
  // fftArray: memory the FFT worker threads can share (see startFftThreads).
  const work = fftArray(size)
  const applyNormal = (x: Float64Array, out: Float64Array): void => {
    convolve(x, work)
    for (let i = 0; i < size; i++) work[i] = (work[i] as number) * (w2[i] as number)
    convolve(work, out)
    for (let i = 0; i < size; i++) if (mask[i] === 1) out[i] = 0
  }
  const rhs = fftArray(size)
  for (let i = 0; i < size; i++) rhs[i] = (w2[i] as number) * (field[i] as number)
  convolve(rhs, rhs)
  for (let i = 0; i < size; i++) if (mask[i] === 1) rhs[i] = 0
  const chi = await conjugateGradient(applyNormal, rhs, options)
  const background = fftArray(size)
  convolve(chi, background)
  const local = new Float64Array(size)
  for (let i = 0; i < size; i++) local[i] = mask[i] === 1 ? (field[i] as number) - (background[i] as number) : 0
  options.onProgress?.(1)
  return { local, mask: mask.slice() }
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number)
  return sum
}

/** Conjugate gradients for a symmetric positive semi-definite operator, from x = 0 (Hestenes & Stiefel 1952). */
export async function conjugateGradient(apply: (x: Float64Array, out: Float64Array) => void, b: Float64Array, options: PdfOptions): Promise<Float64Array> {
  const maxIterations = options.maxIterations ?? 50
  const tolerance = options.tolerance ?? 1e-3
  const x = new Float64Array(b.length)
  const r = b.slice()
  const p = fftArray(b.length)
  p.set(b)
  const ap = fftArray(b.length)
  let rr = dot(r, r)
  const initial = Math.sqrt(rr)
  if (initial === 0) return x
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    await checkpoint(options.signal)
    apply(p, ap)
    const pap = dot(p, ap)
    if (!(pap > 0)) break
    const alpha = rr / pap
    for (let i = 0; i < x.length; i++) {
      x[i] = (x[i] as number) + alpha * (p[i] as number)
      r[i] = (r[i] as number) - alpha * (ap[i] as number)
    }
    const next = dot(r, r)
    options.onProgress?.((iteration + 1) / maxIterations)
    if (Math.sqrt(next) <= tolerance * initial) break
    const beta = next / rr
    rr = next
    for (let i = 0; i < p.length; i++) p[i] = (r[i] as number) + beta * (p[i] as number)
  }
  return x
}

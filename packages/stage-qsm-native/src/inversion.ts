// Dipole inversion: thresholded k-space division (TKD) and the rapid two-step method (RTS: LSMR, then TV by ADMM).
import { PacsflowError } from '@pacsflow/core'
import { fftArray, irfft3d, rfft3d, type HalfSpectrum, type Shape3 } from '@pacsflow/imaging'
import { gradient, gradientAdjoint } from './gradient.js'
import { dipoleKernelHalf, negativeLaplacianHalf } from './kernels.js'
import { lsmrDiagonal } from './lsmr.js'
import type { Mask } from './morphology.js'
import { checkpoint } from './pause.js'

/** The grid and B0 direction a dipole inversion works on. */
export interface DipoleGrid {
  readonly shape: Shape3
  readonly voxelSizeMm: readonly number[]
  /** B0 in the grid's voxel axes. */
  readonly b0DirectionVoxel: readonly number[]
}

function applyMask(x: Float64Array, mask: Mask): Float64Array {
  for (let i = 0; i < x.length; i++) if (mask[i] === 0) x[i] = 0
  return x
}

/**
 * Thresholded k-space division: `chi = IFFT(FFT(f) / D)` with `1/D` replaced by `sign(D)/t` where
 * `|D| < t` (Shmueli et al., "Magnetic susceptibility mapping of brain tissue in vivo using MRI
 * phase data", MRM 62:1510, 2009; Wharton, Schaefer & Bowtell, MRM 63:1292, 2010). Fast and
 * unbiased outside the cone, it underestimates and streaks where D is near zero. Units follow f
 * (ppm in, ppm out); zero outside the mask.
 */
export function tkd(localField: ArrayLike<number>, mask: Mask, grid: DipoleGrid, threshold = 0.15): Float64Array {
  if (!(threshold > 0 && threshold <= 2 / 3)) throw new PacsflowError('INVALID_OPTIONS', `the TKD threshold must be in (0, 2/3], got ${threshold}`)
  const input = applyMask(Float64Array.from(localField), mask)
  const spectrum = rfft3d(input, grid.shape)
  const d = dipoleKernelHalf(grid.shape, grid.voxelSizeMm, grid.b0DirectionVoxel)
  for (let k = 0; k < d.length; k++) {
    const dk = d[k] as number
    const inverse = Math.abs(dk) >= threshold ? 1 / dk : Math.sign(dk) / threshold
    spectrum.re[k]! *= inverse
    spectrum.im[k]! *= inverse
  }
  return applyMask(irfft3d(spectrum, grid.shape, input) as Float64Array, mask)
}

export interface RtsOptions {
  /** Threshold of the well-conditioned region |D| > delta (default 0.15). */
  readonly delta?: number
  /** Weight of the data term in step 2 (default 1e5: in effect a constraint). */
  readonly mu?: number
  /** Initial ADMM penalty (default 10). */
  readonly rho?: number
  /** Stop when ||x - x_prev|| < tol ||x|| (default 1e-2). */
  readonly tolerance?: number
  /** ADMM iterations at most (default 20). */
  readonly maxIterations?: number
  /** LSMR iterations of step 1 (default 4). */
  readonly lsmrIterations?: number
  /** Increase rho when the primal residual falls by less than this factor (default 0.7)... */
  readonly tau?: number
  /** ...by this factor (default 5). */
  readonly gamma?: number
  readonly signal?: AbortSignal
  /** Called after each ADMM iteration. */
  readonly onIteration?: (iteration: number, maxIterations: number, relativeChange: number) => void
}

/** QSM.jl's defaults for RTS, which QSMxT uses unchanged (kamesy/QSM.jl, `rts`). */
export const RTS_DEFAULTS = { delta: 0.15, mu: 1e5, rho: 10, tolerance: 1e-2, maxIterations: 20, lsmrIterations: 4, tau: 0.7, gamma: 5 } as const

/**
 * Rapid two-step dipole inversion (Kames, Wiggermann & Rauscher, "Rapid two-step dipole
 * inversion for susceptibility mapping with sparsity priors", NeuroImage 167:276, 2018).
 * Step 1 solves `D F x = F f` by a few LSMR iterations (D is diagonal in k-space, so this runs
 * there with no FFT) and masks the result: the well-conditioned k-space is then right. Step 2
 * fills the ill-conditioned cone |D| <= delta by total variation, keeping the well-conditioned
 * part: `min_x mu/2 ||M F (x - x1)||^2 + ||grad x||_1` with M = [|D| > delta], by ADMM with the
 * split y = grad x (anisotropic TV, scaled dual, adaptive penalty after Boyd et al. 2011, 3.4.1);
 * the x-update is a diagonal solve in k-space, `(mu M + rho G^T G) x = mu M F x1 + rho G^T (y - u)`.
 */
export async function rts(localField: ArrayLike<number>, mask: Mask, grid: DipoleGrid, options: RtsOptions = {}): Promise<Float64Array> {
  const o = { ...RTS_DEFAULTS, ...definedOnly(options) }
  const { shape, voxelSizeMm } = grid
  const size = shape[0] * shape[1] * shape[2]
  const d = dipoleKernelHalf(shape, voxelSizeMm, grid.b0DirectionVoxel)
  const half = d.length
  // Step 1: LSMR on the diagonal k-space system, real and imaginary parts stacked.
  const b = rfft3d(applyMask(Float64Array.from(localField), mask), shape)
  const stacked = new Float64Array(2 * half)
  stacked.set(b.re)
  stacked.set(b.im, half)
  // The operator is the whole of D, as in QSM.jl: stopped early, LSMR also puts a damped estimate
  // into the cone, which step 2 keeps outside the mask's support. (Restricting it to |D| > delta,
  // as the paper describes step 1, measured worse on the testkit's exam: the cone then starts empty.)
  const solved = lsmrDiagonal(d, stacked, o.lsmrIterations)
  const x = applyMask(irfft3d({ re: solved.subarray(0, half), im: solved.subarray(half) }, shape) as Float64Array, mask)
  await checkpoint(options.signal)
  return tvFill(x, d, grid, o, size, options)
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>
}

type ResolvedRts = typeof RTS_DEFAULTS extends infer D ? { -readonly [K in keyof D]: number } : never

/** Step 2 of RTS: ADMM for TV in the ill-conditioned cone, starting from x (step 1's result). */
async function tvFill(x: Float64Array, d: Float64Array, grid: DipoleGrid, o: ResolvedRts, size: number, options: RtsOptions): Promise<Float64Array> {
  const { shape, voxelSizeMm } = grid
  const half = d.length
  const laplacian = negativeLaplacianHalf(shape, voxelSizeMm)
  const weight = new Float64Array(half)
  for (let k = 0; k < half; k++) weight[k] = Math.abs(d[k] as number) > o.delta ? o.mu : 0
  const x1 = rfft3d(x, shape)
  // fixed = mu M X1 / a and gain = rho / a, a = mu M + rho L (both zero where a = 0, i.e. k = 0)
  const fixed: HalfSpectrum = { re: new Float64Array(half), im: new Float64Array(half) }
  const gain = new Float64Array(half)
  let rho = o.rho
  for (let k = 0; k < half; k++) {
    const a = (weight[k] as number) + rho * (laplacian[k] as number)
    if (a === 0) continue
    fixed.re[k] = ((weight[k] as number) * (x1.re[k] as number)) / a
    fixed.im[k] = ((weight[k] as number) * (x1.im[k] as number)) / a
    gain[k] = rho / a
  }
  const p: [Float64Array, Float64Array, Float64Array] = [new Float64Array(size), new Float64Array(size), new Float64Array(size)]
  const v: [Float64Array, Float64Array, Float64Array] = [new Float64Array(size), new Float64Array(size), new Float64Array(size)]
  const previous = new Float64Array(size)
  const work = fftArray(size)
  const spectrum: HalfSpectrum = x1
  let residual = Number.POSITIVE_INFINITY
  // Each iteration: y/u-updates from the current x (starting at step 1's x, whose gradient is
  // the natural first y), then the x-update; stop when x changes by less than the tolerance.
  for (let iteration = 1; iteration <= o.maxIterations; iteration++) {
    await checkpoint(options.signal)
    const before = residual
    residual = shrinkStep(x, p, v, grid, 1 / rho, work)
    if (iteration > 1 && residual > o.tau * before) {
      rho = growPenalty(rho, o.gamma, weight, laplacian, fixed, gain, p, v)
    }
    previous.set(x)
    // x-update: x = F^-1 (gain F(G^T v) + fixed)
    gradientAdjoint(v, shape, voxelSizeMm, work)
    rfft3d(work, shape, spectrum)
    for (let k = 0; k < half; k++) {
      spectrum.re[k] = (gain[k] as number) * (spectrum.re[k] as number) + (fixed.re[k] as number)
      spectrum.im[k] = (gain[k] as number) * (spectrum.im[k] as number) + (fixed.im[k] as number)
    }
    irfft3d(spectrum, shape, x)
    const relative = relativeChange(x, previous)
    options.onIteration?.(iteration, o.maxIterations, relative)
    if (relative < o.tolerance) break
  }
  return x
}

function relativeChange(x: Float64Array, previous: Float64Array): number {
  let change = 0
  let norm = 0
  for (let i = 0; i < x.length; i++) {
    const a = x[i] as number
    const delta = a - (previous[i] as number)
    change += delta * delta
    norm += a * a
  }
  return norm > 0 ? Math.sqrt(change / norm) : 0
}

/**
 * Multiplies the ADMM penalty by gamma when the primal residual stalls (Boyd et al., "Distributed
 * optimization and statistical learning via ADMM", Found Trends Mach Learn 3:1, 2011, 3.4.1):
 * the k-space solve's terms follow, the scaled dual u = lambda / rho shrinks by gamma, v = y - u with it.
 */
function growPenalty(
  rho: number,
  gamma: number,
  weight: Float64Array,
  laplacian: Float64Array,
  fixed: HalfSpectrum,
  gain: Float64Array,
  p: readonly [Float64Array, Float64Array, Float64Array],
  v: readonly [Float64Array, Float64Array, Float64Array],
): number {
  const grown = rho * gamma
  for (let k = 0; k < gain.length; k++) {
    if (gain[k] === 0) continue
    const aOld = rho / (gain[k] as number)
    const aNew = (weight[k] as number) + grown * (laplacian[k] as number)
    fixed.re[k] = ((fixed.re[k] as number) * aOld) / aNew
    fixed.im[k] = ((fixed.im[k] as number) * aOld) / aNew
    gain[k] = grown / aNew
  }
  for (const axis of [0, 1, 2] as const) {
    const pa = p[axis]
    const va = v[axis]
    for (let i = 0; i < pa.length; i++) {
      const u = pa[i] as number
      va[i] = (va[i] as number) + u * (1 - 1 / gamma)
      pa[i] = u / gamma
    }
  }
  return grown
}

/**
 * The y- and u-updates of ADMM for anisotropic TV: with g = grad x, y = shrink(g + u, 1/rho),
 * u <- u + g - y, v <- y - u (what the next x-update needs). Returns the primal residual
 * sum_i |g_i - y_i| (the voxelwise 2-norm over axes, summed). `gradientBuffer` is scratch.
 */
function shrinkStep(x: Float64Array, p: readonly [Float64Array, Float64Array, Float64Array], v: readonly [Float64Array, Float64Array, Float64Array], grid: DipoleGrid, kappa: number, scratch: Float64Array): number {
  const size = x.length
  const residual2 = scratch
  residual2.fill(0)
  const g: [Float64Array, Float64Array, Float64Array] = [v[0], v[1], v[2]]
  // v's arrays receive grad x first (they are rewritten below anyway).
  gradient(x, grid.shape, grid.voxelSizeMm, g)
  for (const axis of [0, 1, 2] as const) {
    const pa = p[axis]
    const va = v[axis]
    for (let i = 0; i < size; i++) {
      const gi = va[i] as number
      const t = (pa[i] as number) + gi
      const y = t > kappa ? t - kappa : t < -kappa ? t + kappa : 0
      pa[i] = t - y
      va[i] = y - (t - y)
      const r = gi - y
      residual2[i] = (residual2[i] as number) + r * r
    }
  }
  let residual = 0
  for (let i = 0; i < size; i++) residual += Math.sqrt(residual2[i] as number)
  return residual
}

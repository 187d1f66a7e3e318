// One-step QSM: the background is removed inside the model (spherical mean value high-pass on field and model), with a TV-regularised dipole inversion.
import { PacsflowError } from '@pacsflow/core'
import { accumulateFiltered, axpy2, cropVolume, fftArray, filterSpectrum, halfShape, irfft3d, maskedDot, multiplyInPlace, padVolume, rfft3d, sharedCopy, weightedDivergence, xpby, type HalfSpectrum, type Shape3 } from '@pacsflow/imaging'
import { maskToBox, paddedBox, toBox } from './box.js'
import { percentile } from './brain-mask.js'
import { gradient } from './gradient.js'
import type { DipoleGrid } from './inversion.js'
import { dipoleKernelHalf, negativeLaplacianHalf, sphereKernelHalf } from './kernels.js'
import { squaredDistance, type Mask } from './morphology.js'
import { checkpoint } from './pause.js'

export interface SingleStepOptions {
  /** Ball radii in mm, any order; each voxel uses the largest whose ball lies in the mask (default [6, 3]). */
  readonly radiiMm?: readonly number[]
  /** Weight of the TV term against the data term (field in ppm, weights normalised to median 1; default 1e-4). */
  readonly lambda?: number
  /** IRLS reweightings of the TV term (default 5). */
  readonly reweightings?: number
  /** Preconditioned CG iterations per reweighting (default 10). */
  readonly iterations?: number
  /** TV smoothing, (ppm/mm)^2: |grad chi| is taken as sqrt(|grad chi|^2 + epsilon) (default 1e-6). */
  readonly epsilon?: number
  /** Per-voxel data weights, e.g. {@link fieldWeights}; normalised to median 1 in the mask and capped at 3. Default 1. */
  readonly weights?: ArrayLike<number>
  readonly signal?: AbortSignal
  /** Called after each CG iteration with the fraction done. */
  readonly onProgress?: (fraction: number) => void
}

/** Measured on the testkit's default exams (see the README of this package and the bench notes). */
export const SINGLE_STEP_DEFAULTS = { radiiMm: [6, 3] as readonly number[], lambda: 1e-4, reweightings: 5, iterations: 10, epsilon: 1e-6 } as const

/** The smoothing of the first reweighting, from chi = 0: a moderate TV weight everywhere instead of 1/sqrt(epsilon). */
const START_EPSILON = 1e-3

/** Voxels between the mask's bounding box and the edge of the box the iterations run in. */
const TIGHT_MARGIN = 2

/** Data weights are capped at this multiple of their median (a few very bright voxels must not dominate). */
const WEIGHT_CAP = 3

export interface SingleStepResult {
  /** Susceptibility in the units of the field (ppm in, ppm out), zero outside the mask, not referenced. */
  readonly chi: Float64Array
  /** The tissue field the model explains, D chi (on the caller's box), zero outside the mask. */
  readonly local: Float64Array
  readonly mask: Mask
}

/**
 * One-step QSM with the background field removed inside the model. A background field is harmonic
 * in the mask, so `(delta - S_r)` (S_r the mean over a ball of radius r) annihilates it at every
 * voxel whose ball lies in the mask (the mean value property: Li & Leigh, J Magn Reson 148:442, 2001;
 * Schweser et al., NeuroImage 54:2789, 2011). Applying the same filter to the model instead of
 * deconvolving it from the data (single-step QSM: Chatnuntawech et al., "Single-step quantitative
 * susceptibility mapping with variational penalties", NMR Biomed 30:e3570, 2017; after TGV-QSM,
 * Langkammer et al., NeuroImage 111:622, 2015) gives
 *   `min_chi 1/2 sum_r ||W M_r (delta - S_r)(f - D chi)||^2 + lambda sum sqrt(|grad chi|^2 + eps)`
 * with chi supported in the mask and M_r the voxels served by radius r (the largest whose ball
 * fits, as V-SHARP: Wu et al., MRM 67:137, 2012). The part of the tissue field that is harmonic in
 * the mask (the broad contrast between large structures), which PDF or V-SHARP strip with the
 * background, stays in the model. Isotropic TV by IRLS (lagged diffusivity, Vogel & Oman, SIAM J Sci
 * Comput 17:227, 1996); each reweighted system by CG preconditioned with its k-space diagonal part.
 * Cost: per CG iteration 2 + 2R FFTs of the box (R radii) plus 2 for the preconditioner.
 * The iterations run in a box 2 voxels larger than the mask's bounding box, whatever the caller's box.
 */
export async function singleStepQsm(field: ArrayLike<number>, mask: Mask, grid: DipoleGrid, options: SingleStepOptions = {}): Promise<SingleStepResult> {
  const o = resolve(options)
  const { shape } = grid
  const size = shape[0] * shape[1] * shape[2]
  if (field.length !== size || mask.length !== size) throw invalid(`field ${field.length} and mask ${mask.length} voxels for a ${shape.join('x')} box`)
  if (options.weights !== undefined && options.weights.length !== size) throw invalid(`${options.weights.length} weights for ${size} voxels`)
  // chi lives in the mask and the filter sees only balls inside it, so wrapped-around dipole
  // fields reach the data only as harmonic fields, which the filter removes: a tight box serves.
  const tight = paddedBox(mask, shape, [TIGHT_MARGIN, TIGHT_MARGIN, TIGHT_MARGIN])
  // Shared (when the FFT threads run): the masked passes split across the threads.
  const tightMask = sharedCopy(maskToBox(mask, shape, tight))
  const weights = options.weights === undefined ? undefined : toBox(options.weights, shape, tight)
  const model = buildModel(toBox(field, shape, tight), tightMask, { ...grid, shape: tight.shape }, o.radiiMm, weights)
  const x = fftArray(model.size)
  const total = o.reweightings * o.iterations
  let done = 0
  for (let k = 0; k < o.reweightings; k++) {
    await checkpoint(options.signal)
    const system = reweight(model, x, o.lambda, k === 0 ? START_EPSILON : o.epsilon)
    await preconditionedCg(model, system, x, o.iterations, options.signal, () => options.onProgress?.(++done / total))
  }
  const chi = padVolume(cropVolume(x, tight.shape, tight.inner.shape, tight.at), tight.inner.shape, shape, tight.inner.offset)
  options.onProgress?.(1)
  return { chi, local: fieldOf(chi, mask, grid), mask: mask.slice() }
}

/** D chi in the mask, on the caller's (padded) box: the tight box's wrapped-around fields stay out of it. */
function fieldOf(chi: Float64Array, mask: Mask, grid: DipoleGrid): Float64Array {
  const d = dipoleKernelHalf(grid.shape, grid.voxelSizeMm, grid.b0DirectionVoxel)
  const spectrum = rfft3d(chi, grid.shape)
  for (let k = 0; k < d.length; k++) {
    spectrum.re[k]! *= d[k] as number
    spectrum.im[k]! *= d[k] as number
  }
  const out = irfft3d(spectrum, grid.shape, fftArray(chi.length)) as Float64Array
  for (let i = 0; i < out.length; i++) if (mask[i] !== 1) out[i] = 0
  return out
}

interface Resolved {
  readonly radiiMm: readonly number[]
  readonly lambda: number
  readonly reweightings: number
  readonly iterations: number
  readonly epsilon: number
}

function invalid(message: string): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `singleStepQsm: ${message}`)
}

function resolve(options: SingleStepOptions): Resolved {
  const radiiMm = [...new Set(options.radiiMm ?? SINGLE_STEP_DEFAULTS.radiiMm)].sort((a, b) => b - a)
  if (radiiMm.length === 0 || !radiiMm.every((r) => Number.isFinite(r) && r > 0)) throw invalid(`radii must be positive numbers, got [${(options.radiiMm ?? []).join(', ')}]`)
  const positive = (value: number | undefined, name: string, fallback: number, integer = false): number => {
    const v = value ?? fallback
    if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) throw invalid(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`)
    return v
  }
  return {
    radiiMm,
    lambda: positive(options.lambda, 'lambda', SINGLE_STEP_DEFAULTS.lambda),
    reweightings: positive(options.reweightings, 'reweightings', SINGLE_STEP_DEFAULTS.reweightings, true),
    iterations: positive(options.iterations, 'iterations', SINGLE_STEP_DEFAULTS.iterations, true),
    epsilon: positive(options.epsilon, 'epsilon', SINGLE_STEP_DEFAULTS.epsilon),
  }
}

/** Everything the iterations reuse: kernels, the per-radius data weights, the right-hand side, work buffers. */
interface Model {
  readonly shape: Shape3
  readonly voxelSizeMm: readonly number[]
  readonly size: number
  readonly mask: Mask
  /** (1 - S_r) D per radius, on the half spectrum. */
  readonly hd: readonly Float64Array[]
  /** W^2 on the voxels radius r serves, zero elsewhere. */
  readonly w2: readonly Float64Array[]
  /** mean W^2 in the mask times the mean over radii of ((1 - S_r) D)^2: the data term's k-space diagonal. */
  readonly dataDiagonal: Float64Array
  readonly negativeLaplacian: Float64Array
  /** The normal equations' right-hand side, sum_r D (1 - S_r) W^2 M_r (1 - S_r) f, masked. */
  readonly b: Float64Array
  readonly work: Float64Array
  readonly spectrum: HalfSpectrum
  readonly scratch: HalfSpectrum
  readonly sum: HalfSpectrum
  readonly g: [Float64Array, Float64Array, Float64Array]
}

function halfSpectrum(length: number): HalfSpectrum {
  return { re: fftArray(length), im: fftArray(length) }
}

function buildModel(field: ArrayLike<number>, mask: Mask, grid: DipoleGrid, radiiMm: readonly number[], weights: ArrayLike<number> | undefined): Model {
  const { shape, voxelSizeMm } = grid
  const size = shape[0] * shape[1] * shape[2]
  const smallest = Math.min(...voxelSizeMm)
  if (radiiMm[radiiMm.length - 1]! < smallest) throw invalid(`the smallest radius (${radiiMm[radiiMm.length - 1]} mm) must reach the nearest voxels (${smallest} mm)`)
  const half = halfShape(shape)
  const halfLength = half[0] * half[1] * half[2]
  const w = dataWeights(mask, weights)
  const outside = new Uint8Array(size)
  for (let i = 0; i < size; i++) outside[i] = mask[i] === 1 ? 0 : 1
  const distance2 = squaredDistance(outside, shape, voxelSizeMm)
  const d = dipoleKernelHalf(shape, voxelSizeMm, grid.b0DirectionVoxel)
  const work = fftArray(size)
  for (let i = 0; i < size; i++) work[i] = mask[i] === 1 ? (field[i] as number) : 0
  const fieldSpectrum = rfft3d(work, shape)
  const scratch = halfSpectrum(halfLength)
  const sum = halfSpectrum(halfLength)
  const hd: Float64Array[] = []
  const w2: Float64Array[] = []
  const taken = new Uint8Array(size)
  for (const radius of radiiMm) {
    // Shared arrays (when the FFT threads run), like the kernels below: the products split across threads.
    const weight = fftArray(size)
    let served = 0
    for (let i = 0; i < size; i++) {
      if (mask[i] !== 1 || taken[i] === 1 || (distance2[i] as number) <= radius * radius) continue
      taken[i] = 1
      weight[i] = (w[i] as number) ** 2
      served++
    }
    if (served === 0) continue
    const s = sphereKernelHalf(shape, voxelSizeMm, radius)
    const h = fftArray(halfLength)
    for (let k = 0; k < halfLength; k++) h[k] = (1 - (s[k] as number)) * (d[k] as number)
    // b += D (1 - S) W^2 M_r (1 - S) f
    for (let k = 0; k < halfLength; k++) {
      scratch.re[k] = (1 - (s[k] as number)) * (fieldSpectrum.re[k] as number)
      scratch.im[k] = (1 - (s[k] as number)) * (fieldSpectrum.im[k] as number)
    }
    irfft3d(scratch, shape, work)
    multiplyInPlace(work, weight)
    rfft3d(work, shape, scratch)
    accumulateFiltered(sum, scratch, h, hd.length === 0)
    hd.push(h)
    w2.push(weight)
  }
  if (hd.length === 0) throw new PacsflowError('QSM_INPUT', `the mask is too thin for the smallest ball (${radiiMm[radiiMm.length - 1]} mm): no voxel has its ball inside it`)
  const b = fftArray(size)
  irfft3d(sum, shape, b)
  for (let i = 0; i < size; i++) if (mask[i] !== 1) b[i] = 0
  return {
    shape, voxelSizeMm, size, mask, hd, w2, b, work, scratch, sum,
    dataDiagonal: dataDiagonal(hd, w, mask),
    negativeLaplacian: negativeLaplacianHalf(shape, voxelSizeMm),
    spectrum: fieldSpectrum,
    g: [fftArray(size), fftArray(size), fftArray(size)],
  }
}

/** The weights in the mask divided by their median there, capped at WEIGHT_CAP; 1 without weights. */
function dataWeights(mask: Mask, weights: ArrayLike<number> | undefined): Float64Array {
  const out = new Float64Array(mask.length)
  if (weights === undefined) {
    for (let i = 0; i < mask.length; i++) out[i] = mask[i] === 1 ? 1 : 0
    return out
  }
  const median = medianIn(weights, mask)
  if (!(median > 0)) throw new PacsflowError('QSM_INPUT', 'singleStepQsm: the data weights are zero in most of the mask')
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] === 1 ? Math.min(WEIGHT_CAP, Math.max(0, (weights[i] as number) / median)) : 0
  return out
}

function medianIn(values: ArrayLike<number>, mask: Mask): number {
  let count = 0
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) count++
  const inside = new Float64Array(count)
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] === 1) inside[j++] = values[i] as number
  return percentile(inside, 0.5)
}

function dataDiagonal(hd: readonly Float64Array[], w: Float64Array, mask: Mask): Float64Array {
  let sum = 0
  let count = 0
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 1) continue
    sum += (w[i] as number) ** 2
    count++
  }
  const meanW2 = sum / count
  const out = new Float64Array(hd[0]!.length)
  for (const h of hd) for (let k = 0; k < out.length; k++) out[k] = (out[k] as number) + (h[k] as number) ** 2
  for (let k = 0; k < out.length; k++) out[k] = ((out[k] as number) * meanW2) / hd.length
  return out
}

/** out = M F^-1 (kernel F x), x zero outside the mask; returns the dot product of x and out (taken in the same pass). */
function convolveMasked(model: Model, x: Float64Array, kernel: Float64Array, out: Float64Array): number {
  const { shape, spectrum, mask } = model
  rfft3d(x, shape, spectrum)
  filterSpectrum(spectrum, kernel)
  irfft3d(spectrum, shape, out)
  return maskedDot(out, x, mask)
}

/** The reweighted system: TV weights v = 1 / sqrt(|grad x|^2 + eps) and the k-space preconditioner. */
interface System {
  readonly lambda: number
  readonly v: Float64Array
  readonly preconditioner: Float64Array
}

function reweight(model: Model, x: Float64Array, lambda: number, epsilon: number): System {
  const { g, size, mask } = model
  gradient(x, model.shape, model.voxelSizeMm, g)
  const v = fftArray(size)
  for (let i = 0; i < size; i++) v[i] = 1 / Math.sqrt((g[0][i] as number) ** 2 + (g[1][i] as number) ** 2 + (g[2][i] as number) ** 2 + epsilon)
  // The TV term's k-space diagonal: lambda times the typical weight times minus the Laplacian.
  const typical = medianIn(v, mask)
  const data = model.dataDiagonal
  let largest = 0
  for (let k = 0; k < data.length; k++) largest = Math.max(largest, data[k] as number)
  const preconditioner = fftArray(data.length)
  for (let k = 0; k < data.length; k++) {
    preconditioner[k] = 1 / ((data[k] as number) + lambda * typical * (model.negativeLaplacian[k] as number) + 1e-9 * largest)
  }
  // k = 0: neither term sees a constant (D(0) = 0, the high-pass and the Laplacian vanish there), so
  // the diagonal's inverse is huge and CG would spend whole iterations on the mean of chi in the mask,
  // which only the mask edge constrains; it gets the value of its nearest frequency instead.
  preconditioner[0] = preconditioner[1] as number
  return { lambda, v, preconditioner }
}

/** out = A x: the data term's normal operator plus lambda M G^T V G, for x zero outside the mask; returns the dot product of x and A x. */
function applySystem(model: Model, system: System, x: Float64Array, out: Float64Array): number {
  const { shape, spectrum, scratch, sum, work, hd, w2, mask } = model
  rfft3d(x, shape, spectrum)
  for (const [r, h] of hd.entries()) {
    filterSpectrum(spectrum, h, scratch)
    irfft3d(scratch, shape, work)
    multiplyInPlace(work, w2[r]!)
    rfft3d(work, shape, scratch)
    accumulateFiltered(sum, scratch, h, r === 0)
  }
  irfft3d(sum, shape, out)
  weightedDivergence(x, system.v, shape, model.voxelSizeMm, mask, work)
  return maskedDot(out, x, mask, { work, lambda: system.lambda })
}

/** Preconditioned CG (Hestenes & Stiefel 1952) on A x = b from the current x, `iterations` steps. */
async function preconditionedCg(model: Model, system: System, x: Float64Array, iterations: number, signal: AbortSignal | undefined, onIteration: () => void): Promise<void> {
  const { size, b } = model
  const r = fftArray(size)
  const z = fftArray(size)
  const ap = fftArray(size)
  applySystem(model, system, x, ap)
  for (let i = 0; i < size; i++) r[i] = (b[i] as number) - (ap[i] as number)
  let rz = convolveMasked(model, r, system.preconditioner, z)
  const p = fftArray(size)
  p.set(z)
  for (let it = 0; it < iterations && rz > 0; it++) {
    await checkpoint(signal)
    const pap = applySystem(model, system, p, ap)
    if (!(pap > 0)) break
    const alpha = rz / pap
    axpy2(x, p, r, ap, alpha)
    const next = convolveMasked(model, r, system.preconditioner, z)
    const beta = next / rz
    rz = next
    xpby(p, z, beta)
    onIteration()
  }
}

/**
 * Per-voxel weights for the fitted field: the inverse of its noise standard deviation up to the
 * noise level, `sqrt(sum_n m_n^2 (TE_n - TEbar)^2)` with TEbar the m^2-weighted mean echo time
 * (the slope's variance in the weighted fit of `fitField` with the offset fitted), or
 * `sqrt(sum m_n^2 TE_n^2)` for a fit through the origin (`offset: 'none'`). TE in seconds.
 */
export function fieldWeights(magnitudes: readonly ArrayLike<number>[], echoTimesMs: readonly number[], offset: 'fit' | 'none' = 'fit'): Float64Array {
  if (magnitudes.length === 0 || magnitudes.length !== echoTimesMs.length) {
    throw new PacsflowError('QSM_INPUT', `fieldWeights needs one echo time per magnitude, got ${magnitudes.length} magnitudes and ${echoTimesMs.length} echo times`)
  }
  const size = magnitudes[0]!.length
  const te = echoTimesMs.map((ms) => ms / 1000)
  const out = new Float64Array(size)
  for (let i = 0; i < size; i++) {
    let sw = 0
    let st = 0
    let stt = 0
    for (const [n, magnitude] of magnitudes.entries()) {
      const w = (magnitude[i] as number) ** 2
      const t = te[n] as number
      sw += w
      st += w * t
      stt += w * t * t
    }
    const spread = offset === 'fit' ? (sw > 0 ? stt - (st * st) / sw : 0) : stt
    out[i] = Math.sqrt(Math.max(0, spread))
  }
  return out
}

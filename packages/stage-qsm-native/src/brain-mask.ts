// The brain mask from the GRE magnitude: an Otsu (or robust-max fraction) threshold of the echo-combined magnitude, then morphology.
import { PacsflowError } from '@pacsflow/core'
import type { Shape3 } from '@pacsflow/imaging'
import { countMask, dilate, erode, fillHoles, largestComponent, type Mask } from './morphology.js'

const BINS = 256

/**
 * Otsu's threshold (Otsu, "A threshold selection method from gray-level histograms", IEEE Trans
 * SMC 9:62, 1979): the histogram split that maximises the between-class variance (the middle
 * of the gap when several splits tie). The histogram
 * spans [0, the 99.9th percentile] in 256 bins so a few bright voxels do not squeeze it.
 */
export function otsuThreshold(values: ArrayLike<number>): number {
  const top = percentile(values, 0.999)
  if (!(top > 0)) return 0
  const histogram = new Float64Array(BINS)
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (!(v >= 0)) continue
    histogram[Math.min(BINS - 1, Math.floor((v / top) * BINS))]! += 1
  }
  let total = 0
  let sum = 0
  for (let b = 0; b < BINS; b++) {
    total += histogram[b] as number
    sum += b * (histogram[b] as number)
  }
  let weightLow = 0
  let sumLow = 0
  let best = 0
  let bestLast = 0
  let bestVariance = -1
  for (let b = 0; b < BINS - 1; b++) {
    weightLow += histogram[b] as number
    sumLow += b * (histogram[b] as number)
    const weightHigh = total - weightLow
    if (weightLow === 0 || weightHigh === 0) continue
    const meanLow = sumLow / weightLow
    const meanHigh = (sum - sumLow) / weightHigh
    const variance = weightLow * weightHigh * (meanLow - meanHigh) ** 2
    if (variance > bestVariance * (1 + 1e-12)) {
      bestVariance = variance
      best = b
      bestLast = b
    } else if (variance >= bestVariance * (1 - 1e-12)) bestLast = b
  }
  // Empty bins between the classes give equal variances: take the middle of that plateau.
  return ((0.5 * (best + bestLast) + 1) / BINS) * top
}

/** The q-quantile (0..1) of the values, by a 4096-bin histogram between their min and max (approximate, linear time). */
export function percentile(values: ArrayLike<number>, q: number): number {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (v < min) min = v
    if (v > max) max = v
  }
  if (!(max > min)) return max
  const bins = 4096
  const histogram = new Float64Array(bins)
  const scale = bins / (max - min)
  for (let i = 0; i < values.length; i++) histogram[Math.min(bins - 1, Math.floor(((values[i] as number) - min) * scale))]! += 1
  const wanted = q * values.length
  let seen = 0
  for (let b = 0; b < bins; b++) {
    seen += histogram[b] as number
    if (seen >= wanted) return min + (b + 1) / scale
  }
  return max
}

/** The root-sum-of-squares of the echoes' magnitudes (the combination that maximises SNR for equal noise). */
export function combineMagnitudes(magnitudes: readonly ArrayLike<number>[]): Float32Array {
  const size = magnitudes[0]?.length ?? 0
  const out = new Float32Array(size)
  for (const magnitude of magnitudes) {
    for (let i = 0; i < size; i++) out[i]! += (magnitude[i] as number) ** 2
  }
  for (let i = 0; i < size; i++) out[i] = Math.sqrt(out[i] as number)
  return out
}

export interface BrainMaskOptions {
  /** `'otsu'` (default), or a fraction of the 99th-percentile magnitude (e.g. 0.2). */
  readonly threshold?: 'otsu' | number
  /**
   * Radius (mm) of the opening that cuts thin bridges (scalp to brain through partial-volume
   * voxels) before the largest component is kept (default 1.5 voxel-diagonal-ish: 2 x the largest voxel side).
   */
  readonly openingMm?: number
  /** Fill enclosed holes (dark veins, calcifications, low-signal nuclei); default true. */
  readonly fillHoles?: boolean
  /**
   * Erode the final mask by this radius, mm (default: one voxel, the largest side). The mask's
   * outermost layer holds partial-volume voxels of the skull (and of air, near sinuses) whose
   * susceptibility differs by ppm from tissue; left in, they are sources inside the mask that no
   * background-removal method can tell from tissue.
   */
  readonly erodeMm?: number
}

/**
 * A brain mask from the GRE magnitude(s): threshold of the root-sum-of-squares magnitude, an
 * opening (erode, keep the largest 6-connected component, dilate back, intersect with the
 * threshold) that separates the brain from the scalp, then hole filling and an optional erosion.
 * Throws QSM_INPUT when nothing is left.
 */
export function brainMask(magnitudes: readonly ArrayLike<number>[], shape: Shape3, voxelSizeMm: readonly number[], options: BrainMaskOptions = {}): Mask {
  const combined = combineMagnitudes(magnitudes)
  const threshold = options.threshold === undefined || options.threshold === 'otsu' ? otsuThreshold(combined) : options.threshold * percentile(combined, 0.99)
  const raw = new Uint8Array(combined.length)
  for (let i = 0; i < combined.length; i++) raw[i] = (combined[i] as number) > threshold ? 1 : 0
  const opening = options.openingMm ?? 2 * Math.max(...voxelSizeMm)
  let mask = largestComponent(erode(raw, shape, voxelSizeMm, opening), shape)
  mask = dilate(mask, shape, voxelSizeMm, opening)
  for (let i = 0; i < mask.length; i++) mask[i] = (mask[i] as number) & (raw[i] as number)
  mask = largestComponent(mask, shape)
  if (options.fillHoles ?? true) mask = fillHoles(mask, shape)
  const erosion = options.erodeMm ?? Math.max(...voxelSizeMm)
  if (erosion > 0) mask = erode(mask, shape, voxelSizeMm, erosion)
  if (countMask(mask) === 0) {
    throw new PacsflowError('QSM_INPUT', `the magnitude gives an empty brain mask (threshold ${threshold.toPrecision(4)})`, { details: { threshold } })
  }
  return mask
}

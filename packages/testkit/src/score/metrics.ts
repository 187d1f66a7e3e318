// The QSM accuracy metrics on volumes in memory: NRMSE, HFEN, correlation, ROI means and their linear fit.
import { laplacianOfGaussian, squaredDistanceToOutside, type Dims } from './filters.js'

/** One labelled structure's mean, estimate against truth (both demeaned in the mask). */
export interface RoiScore {
  readonly label: number
  readonly name: string
  readonly voxels: number
  readonly truthMean: number
  readonly estimateMean: number
}

export interface QsmScore {
  /** 100·||x - t|| / ||t|| in the mask, both demeaned in the mask (percent). */
  readonly nrmse: number
  /** The same on Laplacian-of-Gaussian (sigma 1.5 voxels) filtered images, masked and demeaned first (percent). */
  readonly hfen: number
  /** Pearson's r in the mask. */
  readonly correlation: number
  /** NRMSE inside the mask eroded by `erosionMm`, demeaned there. */
  readonly interior: { readonly nrmse: number; readonly voxels: number; readonly erosionMm: number }
  readonly maskVoxels: number
  /** Each label inside the mask with at least `minRoiVoxels` voxels. */
  readonly rois: readonly RoiScore[]
  /** Least-squares line estimateMean = slope·truthMean + intercept over the ROIs. */
  readonly fit: { readonly slope: number; readonly intercept: number; readonly rois: number }
}

export interface ScoreVolumes {
  readonly estimate: ArrayLike<number>
  readonly truth: ArrayLike<number>
  readonly mask: ArrayLike<number>
  readonly labels?: ArrayLike<number>
  /** Label value to name (labels missing here are skipped). */
  readonly labelNames?: ReadonlyMap<number, string>
  readonly dims: Dims
  /** mm per voxel along each axis (for the erosion). */
  readonly voxelMm: readonly [number, number, number]
  /** Default 6. */
  readonly erosionMm?: number
  /** Default 10. */
  readonly minRoiVoxels?: number
}

/** The mean of `values` over the voxels where `mask` is non-zero. */
function maskedMean(values: ArrayLike<number>, mask: ArrayLike<number>): number {
  let sum = 0
  let count = 0
  for (let i = 0; i < values.length; i++) {
    if (mask[i] === 0) continue
    sum += values[i]!
    count++
  }
  return count === 0 ? 0 : sum / count
}

/** Both volumes demeaned in the mask and zero outside it, as float64. */
function demeaned(values: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  const mean = maskedMean(values, mask)
  const out = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = mask[i] === 0 ? 0 : values[i]! - mean
  return out
}

/** 100·||x - t|| / ||t|| over the mask after demeaning both there. */
export function nrmse(estimate: ArrayLike<number>, truth: ArrayLike<number>, mask: ArrayLike<number>): number {
  const x = demeaned(estimate, mask)
  const t = demeaned(truth, mask)
  return 100 * relativeError(x, t)
}

function relativeError(x: Float64Array, t: Float64Array): number {
  let error = 0
  let norm = 0
  for (let i = 0; i < x.length; i++) {
    error += (x[i]! - t[i]!) ** 2
    norm += t[i]! ** 2
  }
  return norm === 0 ? (error === 0 ? 0 : Infinity) : Math.sqrt(error / norm)
}

/**
 * High-frequency error norm (Ravishankar & Bresler, IEEE TMI 2011; the 2016 QSM challenge, Langkammer
 * et al., MRM 2018): the relative error of LoG-filtered images (15^3 taps, sigma 1.5 voxels), each
 * masked and demeaned in the mask first, over the whole volume; percent.
 */
export function hfen(estimate: ArrayLike<number>, truth: ArrayLike<number>, mask: ArrayLike<number>, dims: Dims): number {
  const x = laplacianOfGaussian(demeaned(estimate, mask), dims)
  const t = laplacianOfGaussian(demeaned(truth, mask), dims)
  return 100 * relativeError(x, t)
}

/** Pearson's correlation coefficient over the mask. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>, mask: ArrayLike<number>): number {
  const ma = maskedMean(a, mask)
  const mb = maskedMean(b, mask)
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < a.length; i++) {
    if (mask[i] === 0) continue
    const [da, db] = [a[i]! - ma, b[i]! - mb]
    ab += da * db
    aa += da * da
    bb += db * db
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb)
}

/** The mask without every voxel within `mm` of a voxel outside it (erosion by a ball of that radius). */
export function erodeMask(mask: ArrayLike<number>, dims: Dims, voxelMm: readonly [number, number, number], mm: number): Uint8Array {
  const binary = Uint8Array.from(mask, (v) => (v === 0 ? 0 : 1))
  const distance2 = squaredDistanceToOutside(binary, dims, voxelMm)
  return binary.map((v, i) => (v === 1 && distance2[i]! > mm * mm ? 1 : 0))
}

/** Least squares y = slope·x + intercept. */
export function linearFit(x: readonly number[], y: readonly number[]): { slope: number; intercept: number } {
  const n = x.length
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN }
  const mx = x.reduce((s, v) => s + v, 0) / n
  const my = y.reduce((s, v) => s + v, 0) / n
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my)
    sxx += (x[i]! - mx) ** 2
  }
  const slope = sxx === 0 ? Number.NaN : sxy / sxx
  return { slope, intercept: my - slope * mx }
}

/** Per-label means of the demeaned estimate and truth, over label voxels inside the mask. */
export function roiMeans(volumes: ScoreVolumes): RoiScore[] {
  const { labels, labelNames, mask } = volumes
  if (labels === undefined || labelNames === undefined) return []
  const x = demeaned(volumes.estimate, mask)
  const t = demeaned(volumes.truth, mask)
  const sums = new Map<number, { n: number; x: number; t: number }>()
  for (let i = 0; i < x.length; i++) {
    if (mask[i] === 0) continue
    const label = labels[i]!
    const entry = sums.get(label) ?? { n: 0, x: 0, t: 0 }
    entry.n++
    entry.x += x[i]!
    entry.t += t[i]!
    sums.set(label, entry)
  }
  return [...sums.entries()]
    .filter(([label, s]) => labelNames.has(label) && s.n >= (volumes.minRoiVoxels ?? 10))
    .sort(([a], [b]) => a - b)
    .map(([label, s]) => ({ label, name: labelNames.get(label)!, voxels: s.n, truthMean: s.t / s.n, estimateMean: s.x / s.n }))
}

function countNonZero(values: ArrayLike<number>): number {
  let count = 0
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) count++
  return count
}

/** Every metric for one estimate. */
export function scoreVolumes(volumes: ScoreVolumes): QsmScore {
  const { estimate, truth, mask, dims } = volumes
  const erosionMm = volumes.erosionMm ?? 6
  const interiorMask = erodeMask(mask, dims, volumes.voxelMm, erosionMm)
  const rois = roiMeans(volumes)
  const fit = linearFit(rois.map((r) => r.truthMean), rois.map((r) => r.estimateMean))
  return {
    nrmse: nrmse(estimate, truth, mask),
    hfen: hfen(estimate, truth, mask, dims),
    correlation: correlation(estimate, truth, mask),
    interior: { nrmse: nrmse(estimate, truth, interiorMask), voxels: countNonZero(interiorMask), erosionMm },
    maskVoxels: countNonZero(mask),
    rois,
    fit: { ...fit, rois: rois.length },
  }
}

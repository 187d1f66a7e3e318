// Real values to stored 16-bit integers: stored = round((value - intercept) / slope), the inverse
// of the Modality LUT's rescale (PS3.3 C.11.1.1.2), with a slope chosen so nothing is clamped.
import { PacsflowError } from '@pacsflow/core'
import type { ResolvedOptions } from './options.js'
import type { Window } from './quantities.js'

/** How values are stored: RescaleSlope, RescaleIntercept and the integer range of the pixel type. */
export interface Rescale {
  readonly slope: number
  readonly intercept: number
  readonly pixel: 'signed' | 'unsigned'
  readonly minStored: number
  readonly maxStored: number
}

/** What one pass over the values found (after clamping, non-finite values replaced by the fill). */
export interface ValueStats {
  readonly min: number
  readonly max: number
  /** Voxels with no data (outside the input's field of view, or NaN/infinite in it), written as the fill. */
  readonly empty: number
  /** Voxels changed by `encoding.clamp`. */
  readonly clamped: number
}

/** {@link ValueStats} with each slice's range (quantisation is monotonic, so they give each slice's stored range). */
export interface VolumeStats extends ValueStats {
  readonly sliceMin: Float64Array
  readonly sliceMax: Float64Array
}

/** Voxel values in memory: float32, or float64 for NIfTI data float32 cannot hold. */
export type Values = Float32Array | Float64Array

const STORED = { signed: [-32768, 32767], unsigned: [0, 65535] } as const

/**
 * Replaces non-finite values by `fill` and clamps when asked, in place; returns the range of the
 * whole volume and of each `sliceSize`-long slice. NaN marks "no data" (the resampler's fill
 * outside the input, and masked voxels).
 */
export function prepareValues(data: Values, options: Pick<ResolvedOptions, 'fill' | 'clamp'>, sliceSize = data.length): VolumeStats {
  const slices = Math.ceil(data.length / sliceSize)
  const sliceMin = new Float64Array(slices)
  const sliceMax = new Float64Array(slices)
  let [empty, clamped] = [0, 0]
  for (let k = 0; k < slices; k++) {
    const [start, end] = [k * sliceSize, Math.min(data.length, (k + 1) * sliceSize)]
    // The common case first: a finite slice and no clamping needs one read-only pass.
    let range = options.clamp === undefined ? finiteRange(data, start, end) : undefined
    if (range === undefined) {
      const fixed = fixSlice(data, start, end, options)
      empty += fixed.empty
      clamped += fixed.clamped
      range = fixed
    }
    sliceMin[k] = range.min
    sliceMax[k] = range.max
  }
  return { min: Math.min(...sliceMin), max: Math.max(...sliceMax), empty, clamped, sliceMin, sliceMax }
}

/** The range of `data[start, end)`, or undefined when a value is NaN or infinite. */
function finiteRange(data: Values, start: number, end: number): { min: number; max: number } | undefined {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  let check = 0
  for (let i = start; i < end; i++) {
    const value = data[i]!
    if (value < min) min = value
    if (value > max) max = value
    // value * 0 is NaN for NaN and the infinities, 0 otherwise: one sum tells.
    check += value * 0
  }
  return check === 0 ? { min, max } : undefined
}

/** Replaces non-finite values by the fill and clamps, in `data[start, end)`; its range and counts. */
function fixSlice(data: Values, start: number, end: number, options: Pick<ResolvedOptions, 'fill' | 'clamp'>) {
  const [low, high] = options.clamp ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
  let [min, max, empty, clamped] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 0]
  for (let i = start; i < end; i++) {
    let value = data[i]!
    if (value - value !== 0) {
      empty++
      value = data[i] = options.fill
    }
    if (value < low || value > high) {
      clamped++
      value = data[i] = value < low ? low : high
    }
    if (value < min) min = value
    if (value > max) max = value
  }
  return { min, max, empty, clamped }
}

/** The 1-2-5 steps (…, 0.001, 0.002, 0.005, 0.01, …) from the first at or above `at`. */
function* niceSteps(at: number): Generator<number> {
  let exponent = Math.floor(Math.log10(at))
  for (;;) {
    for (const mantissa of [1, 2, 5]) {
      // Built from its decimal text, so 0.001 is the double nearest 0.001 (not 1e-3 * 1.0000000000000002).
      const step = Number(`${mantissa}e${exponent}`)
      if (step >= at * (1 - 1e-9)) yield step
    }
    exponent++
  }
}

/**
 * The stored integer of a value: round((value - intercept) / slope), computed as the quantiser
 * does (a multiply by 1/slope), so a range checked here is the range written.
 */
export function storedValue(value: number, rescale: Pick<Rescale, 'slope' | 'intercept'>): number {
  const inverse = 1 / rescale.slope
  return Math.floor(value * inverse + (0.5 - rescale.intercept * inverse))
}

const stored = storedValue

/** An intercept that stores [min, max] with `slope`: 0 if it fits, then mid-range (unsigned), then min at the bottom. */
function fittingIntercept(slope: number, stats: ValueStats, range: readonly [number, number], fixed: number | undefined): number | undefined {
  const [lo, hi] = range
  const candidates =
    fixed !== undefined ? [fixed] : [0, slope * -Math.ceil((lo + hi) / 2), slope * (Math.floor(stats.min / slope) - lo)]
  return candidates.find((intercept) => stored(stats.min, { slope, intercept }) >= lo && stored(stats.max, { slope, intercept }) <= hi)
}

/**
 * Chooses RescaleSlope and RescaleIntercept. A fixed slope (option) must fit the data; otherwise
 * the quantity's step is used when the range fits with it, else the next coarser 1-2-5 step that
 * fits. Label maps keep slope 1 and never coarsen. Intercept 0 is preferred (stored values then
 * read as the quantity), then a mid-range offset for unsigned storage, then the minimum at the bottom.
 */
export function chooseRescale(stats: ValueStats, options: Pick<ResolvedOptions, 'pixel' | 'slope' | 'intercept' | 'quantity'>): Rescale {
  const range = STORED[options.pixel]
  const [lo, hi] = range
  const base = { pixel: options.pixel, minStored: lo, maxStored: hi }
  const span = stats.max - stats.min
  const fixedSlope = options.slope ?? (options.quantity.labels === true ? (options.quantity.step ?? 1) : undefined)
  if (fixedSlope !== undefined) {
    const intercept = fittingIntercept(fixedSlope, stats, range, options.intercept)
    if (intercept === undefined) throw rangeError(stats, fixedSlope, options.intercept, range)
    return { ...base, slope: fixedSlope, intercept }
  }
  const finest = span > 0 ? span / (hi - lo) : (options.quantity.step ?? 1)
  for (const slope of niceSteps(Math.max(finest, options.quantity.step ?? 0))) {
    const intercept = fittingIntercept(slope, stats, range, options.intercept)
    if (intercept !== undefined) return { ...base, slope, intercept }
    if (slope > 1e300) break
  }
  throw rangeError(stats, undefined, options.intercept, range)
}

function rangeError(stats: ValueStats, slope: number | undefined, intercept: number | undefined, range: readonly [number, number]): PacsflowError {
  return new PacsflowError(
    'DICOMISE_RANGE',
    `values from ${stats.min} to ${stats.max} cannot be stored in [${range[0]}, ${range[1]}]` +
      `${slope === undefined ? '' : ` with slope ${slope}`}${intercept === undefined ? '' : ` and intercept ${intercept}`} without clamping; ` +
      'drop the fixed slope/intercept, or set encoding.clamp',
    { details: { min: stats.min, max: stats.max, slope, intercept, range } },
  )
}

/** Slices of `rows` x `columns` values; `flipRows` when they come bottom row first (NIfTI order). */
export interface SliceLayout {
  readonly rows: number
  readonly columns: number
  readonly flipRows: boolean
}

/**
 * Quantises slice `k` of `values` into `out` (rows x columns integers, top row first). Done per
 * slice while earlier files are being written, so the arithmetic overlaps the file system's work.
 */
export function quantiseSlice(values: Values, k: number, layout: SliceLayout, rescale: Rescale, out: Int16Array | Uint16Array): void {
  const { rows, columns, flipRows } = layout
  const inverse = 1 / rescale.slope
  // floor(x) as (x + BIAS | 0) - BIAS: truncation equals floor once x + BIAS is positive, and
  // the bias keeps it so for every in-range stored value (>= -32768). ~10% faster than Math.floor.
  const BIAS = 65536
  const offset = 0.5 - rescale.intercept * inverse + BIAS
  const lo = rescale.minStored + BIAS
  const hi = rescale.maxStored + BIAS
  for (let r = 0; r < rows; r++) {
    const from = (k * rows + (flipRows ? rows - 1 - r : r)) * columns
    const to = r * columns
    for (let c = 0; c < columns; c++) {
      // Same formula as storedValue; the range was checked, the bounds only guard rounding.
      const q = (values[from + c]! * inverse + offset) | 0
      out[to + c] = (q < lo ? lo : q > hi ? hi : q) - BIAS
    }
  }
}

/**
 * Voxels the default window's histogram reads at most: an even sample of a million voxels puts
 * the percentiles within a bin or two of the full count (far finer than a display window needs)
 * at a tenth of the cost for a 256x256x176 volume.
 */
const WINDOW_SAMPLES = 1 << 20

/** The smallest prime >= n: a sampling stride that does not walk in step with power-of-two rows. */
function primeAtLeast(n: number): number {
  for (let p = Math.max(2, Math.ceil(n)); ; p++) {
    let prime = true
    for (let d = 2; d * d <= p && prime; d++) prime = p % d !== 0
    if (prime) return p
  }
}

/**
 * The default window: the 0.5th to 99.5th percentile of the voxels with data (a 4096-bin
 * histogram of every voxel, or of every p-th for a prime p in volumes over {@link WINDOW_SAMPLES}).
 */
export function percentileWindow(data: Values, stats: ValueStats, quantum: number): Window {
  const span = stats.max - stats.min
  if (!(span > 0)) return { center: stats.min, width: Math.max(quantum, Math.abs(stats.min)) || 1 }
  const bins = new Int32Array(4096)
  const scale = (bins.length - 1) / span
  const stride = data.length > WINDOW_SAMPLES ? primeAtLeast(data.length / WINDOW_SAMPLES) : 1
  const min = stats.min
  let samples = 0
  // The values are >= min, so truncation is floor.
  for (let i = 0; i < data.length; i += stride, samples++) bins[((data[i]! - min) * scale) | 0]!++
  const at = (fraction: number): number => {
    const target = fraction * samples
    let seen = 0
    for (let b = 0; b < bins.length; b++) {
      seen += bins[b]!
      if (seen >= target) return min + b / scale
    }
    return stats.max
  }
  const [low, high] = [at(0.005), at(0.995) + 1 / scale]
  return { center: (low + high) / 2, width: Math.max(high - low, quantum) }
}

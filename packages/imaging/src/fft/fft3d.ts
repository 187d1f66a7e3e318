// Complex FFTs of 3D volumes (x fastest) on split real/imaginary typed arrays, in place, axis by axis.
import { PacsflowError } from '@pacsflow/core'
import { linePlan, type LinePlan } from './line-plan.js'
import { sharePass } from './threads.js'
import { wasmLinePlan, wasmPlanePlan, wasmRealRowPlan, type WasmRealRowPlan } from './wasm/index.js'

/** A real or imaginary part: float64 for accuracy, float32 to halve memory (intermediates are rounded to it). */
export type FftArray = Float64Array | Float32Array

/** Volume dims `[nx, ny, nz]`, x fastest: voxel (x, y, z) at `x + nx * (y + ny * z)`. */
export type Shape3 = readonly [number, number, number]

/** Lines transformed together: their elements interleave in the scratch so loops run over BATCH values. */
const BATCH = 16

export interface FftOptions {
  /** The inverse transform, normalised by 1/N so that `ifft(fft(x)) = x` (numpy's convention). */
  readonly inverse?: boolean
}

/**
 * The discrete Fourier transform of a complex volume, in place:
 * `X[k] = sum_x x[r] exp(-2 pi i k.r / n)` (forward) or `(1/N) sum_k X[k] exp(+2 pi i k.r / n)`
 * (inverse), with frequencies in FFT order (index k < n/2 is frequency k/n, the rest (k - n)/n,
 * see {@link fftFrequency}). Any sizes work; 2/3/5-smooth sizes ({@link nextFastSize}) are fastest.
 */
export function fft3d(re: FftArray, im: FftArray, shape: Shape3, options: FftOptions = {}): void {
  checkVolume(re, im, shape)
  for (let axis = 0; axis < 3; axis++) runAxis(re, im, shape, axis as 0 | 1 | 2, options.inverse === true)
}

/** Transforms every line of one axis, split across the FFT worker threads when they run and the arrays are shared. */
export function runAxis(re: FftArray, im: FftArray, shape: Shape3, axis: 0 | 1 | 2, inverse: boolean): void {
  if (shape[axis] === 1) return
  const { blocks } = axisLayout(shape, axis)
  const split = sharePass(
    blocks,
    re.length,
    [re, im],
    { op: 'axis', re, im, shape, axis, inverse },
    (first, last) => transformAxis(re, im, shape, axis, inverse, first, last),
  )
  if (!split) transformAxis(re, im, shape, axis, inverse)
}

/** The inverse of {@link fft3d}, normalised by 1/N. */
export function ifft3d(re: FftArray, im: FftArray, shape: Shape3): void {
  fft3d(re, im, shape, { inverse: true })
}

/** The DFT of one complex line in place (a volume of shape `[n, 1, 1]`). */
export function fft1d(re: FftArray, im: FftArray, options: FftOptions = {}): void {
  fft3d(re, im, [re.length, 1, 1], options)
}

/** Throws INVALID_OPTIONS unless the shape is three positive integers and both parts hold exactly that many values. */
export function checkVolume(re: FftArray, im: FftArray, shape: Shape3): void {
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new PacsflowError('INVALID_OPTIONS', `an FFT shape must be three positive integers, got [${shape.join(', ')}]`)
  }
  const size = shape[0] * shape[1] * shape[2]
  if (re.length !== size || im.length !== size) {
    throw new PacsflowError('INVALID_OPTIONS', `FFT of shape ${shape.join('x')} needs ${size} values per part, got ${re.length} real and ${im.length} imaginary`)
  }
}

interface AxisLayout {
  readonly n: number
  /** Product of the dims below the axis: the distance between a line's elements. */
  readonly inner: number
  /** Product of the dims above the axis. */
  readonly outer: number
  /** Batches of lines along this axis (the unit a worker takes a range of). */
  readonly blocks: number
}

/** How the lines of one axis are batched. */
export function axisLayout(shape: Shape3, axis: 0 | 1 | 2): AxisLayout {
  const n = shape[axis]
  const inner = axis === 0 ? 1 : axis === 1 ? shape[0] : shape[0] * shape[1]
  const outer = (shape[0] * shape[1] * shape[2]) / (n * inner)
  const blocks = inner === 1 ? Math.ceil(outer / BATCH) : outer * Math.ceil(inner / BATCH)
  return { n, inner, outer, blocks }
}

interface Scratch {
  readonly xr: Float64Array
  readonly xi: Float64Array
  readonly yr: Float64Array
  readonly yi: Float64Array
}
const scratches = new Map<string, Scratch>()

/**
 * `PACSFLOW_FFT_WASM=0` in the environment keeps every FFT on the TypeScript plans: a switch for a
 * runtime whose WebAssembly misbehaves, and how `bench/fft.ts` times both. Read once per thread.
 */
const WASM_ALLOWED = process.env.PACSFLOW_FFT_WASM !== '0'

/**
 * The plan for lines of length n and the scratch to gather them into: the WebAssembly SIMD plan
 * and its own memory where the runtime has SIMD and n is 2/3/5-smooth (3x faster butterflies,
 * bit-identical results), else the TypeScript plan.
 */
export function planAndScratch(n: number): { plan: LinePlan; scratch: Scratch } {
  const wasm = WASM_ALLOWED ? wasmLinePlan(n) : undefined
  return wasm === undefined ? { plan: linePlan(n), scratch: scratchFor(n) } : { plan: wasm, scratch: wasm.scratch() }
}

function scratchFor(n: number, capacity = BATCH): Scratch {
  const key = `${n}x${capacity}`
  let scratch = scratches.get(key)
  if (scratch === undefined) {
    const size = n * capacity
    scratch = { xr: new Float64Array(size), xi: new Float64Array(size), yr: new Float64Array(size), yi: new Float64Array(size) }
    scratches.set(key, scratch)
  }
  return scratch
}

/**
 * The WebAssembly real-row transforms for rows of even length n (2x faster than the TypeScript
 * loops of real-fft.ts, bit-identical), or undefined where those loops serve: as {@link planAndScratch}.
 */
export function wasmRealRows(n: number): WasmRealRowPlan | undefined {
  return WASM_ALLOWED ? wasmRealRowPlan(n) : undefined
}

/**
 * A plan for lines of length n and a scratch that holds `capacity` of them at once (e.g. all the
 * lines along y of one plane), apart from the scratch of {@link planAndScratch}(n): both can be in
 * use together. WebAssembly where {@link planAndScratch} would take it and the plane fits, else TypeScript.
 */
export function planeScratch(n: number, capacity: number): { plan: LinePlan; scratch: Scratch } {
  const wasm = WASM_ALLOWED ? wasmPlanePlan(n, capacity) : undefined
  return wasm === undefined ? { plan: linePlan(n), scratch: scratchFor(n, capacity) } : { plan: wasm, scratch: wasm.scratch() }
}

/**
 * Transforms the lines of one axis in blocks `[firstBlock, lastBlock)` (all by default) in place;
 * the unit that worker threads split. The inverse is the forward plan on conjugated data, scaled 1/n.
 */
export function transformAxis(re: FftArray, im: FftArray, shape: Shape3, axis: 0 | 1 | 2, inverse: boolean, firstBlock = 0, lastBlock?: number): void {
  const layout = axisLayout(shape, axis)
  const { n, inner, outer } = layout
  if (n === 1) return
  const { plan, scratch } = planAndScratch(n)
  const { xr, xi, yr, yi } = scratch
  const sign = inverse ? -1 : 1
  const scale = inverse ? 1 / n : 1
  const end = Math.min(lastBlock ?? layout.blocks, layout.blocks)
  const perOuter = Math.ceil(inner / BATCH)
  for (let block = firstBlock; block < end; block++) {
    let start: number
    let batch: number
    let lineStep: number
    if (inner === 1) {
      // Along x: the batch is BATCH consecutive rows, each contiguous.
      start = block * BATCH * n
      batch = Math.min(BATCH, outer - block * BATCH)
      lineStep = n
    } else {
      // Along y or z: the batch is BATCH neighbouring lines, contiguous across the batch.
      const o = Math.floor(block / perOuter)
      const first = (block % perOuter) * BATCH
      start = o * n * inner + first
      batch = Math.min(BATCH, inner - first)
      lineStep = 1
    }
    gather(re, im, xr, xi, start, lineStep, inner, n, batch, sign)
    const where = plan.transform(xr, xi, yr, yi, batch)
    if (where === 0) scatter(re, im, xr, xi, start, lineStep, inner, n, batch, scale, sign * scale)
    else scatter(re, im, yr, yi, start, lineStep, inner, n, batch, scale, sign * scale)
  }
}

function gather(re: FftArray, im: FftArray, xr: Float64Array, xi: Float64Array, start: number, lineStep: number, stride: number, n: number, batch: number, sign: number): void {
  if (lineStep === 1) {
    for (let j = 0; j < n; j++) {
      const from = start + j * stride
      const to = j * batch
      for (let b = 0; b < batch; b++) {
        xr[to + b] = re[from + b] as number
        xi[to + b] = sign * (im[from + b] as number)
      }
    }
    return
  }
  for (let b = 0; b < batch; b++) {
    const from = start + b * lineStep
    for (let j = 0; j < n; j++) {
      xr[j * batch + b] = re[from + j] as number
      xi[j * batch + b] = sign * (im[from + j] as number)
    }
  }
}

function scatter(re: FftArray, im: FftArray, xr: Float64Array, xi: Float64Array, start: number, lineStep: number, stride: number, n: number, batch: number, scaleRe: number, scaleIm: number): void {
  if (lineStep === 1) {
    for (let j = 0; j < n; j++) {
      const to = start + j * stride
      const from = j * batch
      for (let b = 0; b < batch; b++) {
        re[to + b] = scaleRe * (xr[from + b] as number)
        im[to + b] = scaleIm * (xi[from + b] as number)
      }
    }
    return
  }
  for (let b = 0; b < batch; b++) {
    const to = start + b * lineStep
    for (let j = 0; j < n; j++) {
      re[to + j] = scaleRe * (xr[j * batch + b] as number)
      im[to + j] = scaleIm * (xi[j * batch + b] as number)
    }
  }
}

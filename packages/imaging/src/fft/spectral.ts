// Element-wise work around the FFTs (a spectrum times a real kernel, sums of filtered spectra, a volume times weights, the vector updates and masked dot products of an iterative solver, the weighted TV operator), split across the FFT threads like the transforms.
import { PacsflowError } from '@pacsflow/core'
import type { Shape3 } from './fft3d.js'
import type { HalfSpectrum } from './real-fft.js'
import { sharePass, type SharedArray } from './threads.js'
import { weightedDivergenceRange } from './tv.js'

/** Values per unit a thread claims: long enough that a claim costs nothing beside the loop. */
const BLOCK = 16384

/** An element-wise pass as a worker runs it (see {@link elementwiseRange}). */
export type ElementwiseJob =
  | { readonly kind: 'filter'; readonly re: Float64Array; readonly im: Float64Array; readonly kernel: Float64Array; readonly outRe: Float64Array; readonly outIm: Float64Array }
  | { readonly kind: 'accumulate'; readonly re: Float64Array; readonly im: Float64Array; readonly kernel: Float64Array; readonly outRe: Float64Array; readonly outIm: Float64Array; readonly first: boolean }
  | { readonly kind: 'multiply'; readonly a: Float64Array; readonly b: Float64Array }
  | { readonly kind: 'axpy2'; readonly x: Float64Array; readonly p: Float64Array; readonly r: Float64Array; readonly ap: Float64Array; readonly alpha: number }
  | { readonly kind: 'xpby'; readonly p: Float64Array; readonly z: Float64Array; readonly beta: number }
  | { readonly kind: 'mask-dot'; readonly out: Float64Array; readonly x: Float64Array; readonly mask: Uint8Array; readonly partials: Float64Array }
  | { readonly kind: 'mask-add-dot'; readonly out: Float64Array; readonly work: Float64Array; readonly lambda: number; readonly x: Float64Array; readonly mask: Uint8Array; readonly partials: Float64Array }
  | { readonly kind: 'divergence'; readonly x: Float64Array; readonly v: Float64Array; readonly shape: Shape3; readonly voxelSizeMm: readonly number[]; readonly mask: Uint8Array; readonly out: Float64Array }

function lengthOf(job: ElementwiseJob): number {
  switch (job.kind) {
    case 'filter':
    case 'accumulate':
      return job.kernel.length
    case 'multiply':
      return job.a.length
    case 'axpy2':
      return job.x.length
    case 'xpby':
      return job.p.length
    case 'mask-dot':
    case 'mask-add-dot':
    case 'divergence':
      return job.out.length
  }
}

/** Runs `job` on the values of blocks `[firstBlock, lastBlock)` (the unit an FFT worker thread takes). */
export function elementwiseRange(job: ElementwiseJob, firstBlock: number, lastBlock: number): void {
  // One small function per kind: each loop then sees one array type and one shape (a shared
  // function over all kinds ran at about half the speed).
  const start = firstBlock * BLOCK
  const end = Math.min(lengthOf(job), lastBlock * BLOCK)
  switch (job.kind) {
    case 'filter':
      return filterRange(job.re, job.im, job.kernel, job.outRe, job.outIm, start, end)
    case 'accumulate':
      return job.first ? filterRange(job.re, job.im, job.kernel, job.outRe, job.outIm, start, end) : accumulateRange(job.re, job.im, job.kernel, job.outRe, job.outIm, start, end)
    case 'multiply':
      return multiplyRange(job.a, job.b, start, end)
    case 'axpy2':
      return axpy2Range(job.x, job.p, job.r, job.ap, job.alpha, start, end)
    case 'xpby':
      return xpbyRange(job.p, job.z, job.beta, start, end)
    case 'mask-dot':
      for (let block = firstBlock; block < lastBlock; block++) job.partials[block] = maskDotRange(job.out, job.x, job.mask, block * BLOCK, Math.min(end, (block + 1) * BLOCK))
      return
    case 'mask-add-dot':
      for (let block = firstBlock; block < lastBlock; block++) {
        job.partials[block] = maskAddDotRange(job.out, job.work, job.lambda, job.x, job.mask, block * BLOCK, Math.min(end, (block + 1) * BLOCK))
      }
      return
    case 'divergence':
      return weightedDivergenceRange(job.x, job.v, job.shape, job.voxelSizeMm, job.mask, job.out, firstBlock, lastBlock)
  }
}

function filterRange(re: Float64Array, im: Float64Array, kernel: Float64Array, outRe: Float64Array, outIm: Float64Array, start: number, end: number): void {
  for (let k = start; k < end; k++) {
    const h = kernel[k] as number
    outRe[k] = h * (re[k] as number)
    outIm[k] = h * (im[k] as number)
  }
}

function accumulateRange(re: Float64Array, im: Float64Array, kernel: Float64Array, outRe: Float64Array, outIm: Float64Array, start: number, end: number): void {
  for (let k = start; k < end; k++) {
    const h = kernel[k] as number
    outRe[k] = (outRe[k] as number) + h * (re[k] as number)
    outIm[k] = (outIm[k] as number) + h * (im[k] as number)
  }
}

function multiplyRange(a: Float64Array, b: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i++) a[i] = (a[i] as number) * (b[i] as number)
}

function axpy2Range(x: Float64Array, p: Float64Array, r: Float64Array, ap: Float64Array, alpha: number, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    x[i] = (x[i] as number) + alpha * (p[i] as number)
    r[i] = (r[i] as number) - alpha * (ap[i] as number)
  }
}

function xpbyRange(p: Float64Array, z: Float64Array, beta: number, start: number, end: number): void {
  for (let i = start; i < end; i++) p[i] = (z[i] as number) + beta * (p[i] as number)
}

/** One block of a masked dot product: zero outside the mask, the sum of x out inside. */
function maskDotRange(out: Float64Array, x: Float64Array, mask: Uint8Array, start: number, end: number): number {
  let dot = 0
  for (let i = start; i < end; i++) {
    if (mask[i] !== 1) out[i] = 0
    else dot += (x[i] as number) * (out[i] as number)
  }
  return dot
}

function maskAddDotRange(out: Float64Array, work: Float64Array, lambda: number, x: Float64Array, mask: Uint8Array, start: number, end: number): number {
  let dot = 0
  for (let i = start; i < end; i++) {
    if (mask[i] !== 1) {
      out[i] = 0
      continue
    }
    const value = (out[i] as number) + lambda * (work[i] as number)
    out[i] = value
    dot += (x[i] as number) * value
  }
  return dot
}

function run(job: ElementwiseJob, arrays: readonly SharedArray[], units = Math.ceil(lengthOf(job) / BLOCK)): void {
  const length = lengthOf(job)
  for (const array of arrays) {
    if (array.length !== length) throw new PacsflowError('INVALID_OPTIONS', `element-wise ${job.kind}: arrays of ${arrays.map((a) => a.length).join(', ')} values, expected ${length} each`)
  }
  if (!sharePass(units, length, arrays, { op: 'elementwise', job }, (first, last) => elementwiseRange(job, first, last))) elementwiseRange(job, 0, units)
}

/** Partial sums of a dot product, one per block: shared with the threads that fill them. */
function partialsFor(length: number, arrays: readonly SharedArray[]): Float64Array {
  const blocks = Math.ceil(length / BLOCK)
  return arrays.every((a) => a.buffer instanceof SharedArrayBuffer) ? new Float64Array(new SharedArrayBuffer(Math.max(1, blocks) * 8)) : new Float64Array(blocks)
}

function sum(partials: Float64Array): number {
  let total = 0
  for (let i = 0; i < partials.length; i++) total += partials[i] as number
  return total
}

/**
 * `out = kernel * spectrum` on a half spectrum and a real kernel of the same length (a convolution
 * with a symmetric real kernel, e.g. the dipole or a spherical mean), in place by default.
 */
export function filterSpectrum(spectrum: HalfSpectrum, kernel: Float64Array, out: HalfSpectrum = spectrum): void {
  run({ kind: 'filter', re: spectrum.re, im: spectrum.im, kernel, outRe: out.re, outIm: out.im }, [spectrum.re, spectrum.im, kernel, out.re, out.im])
}

/** `sum += kernel * term` on half spectra (`sum = kernel * term` when `first`): a sum of filtered spectra. */
export function accumulateFiltered(sum: HalfSpectrum, term: HalfSpectrum, kernel: Float64Array, first = false): void {
  run({ kind: 'accumulate', re: term.re, im: term.im, kernel, outRe: sum.re, outIm: sum.im, first }, [term.re, term.im, kernel, sum.re, sum.im])
}

/** `a[i] *= b[i]`: a volume times per-voxel weights. */
export function multiplyInPlace(a: Float64Array, b: Float64Array): void {
  run({ kind: 'multiply', a, b }, [a, b])
}

/** `x += alpha p` and `r -= alpha ap` in one pass: the update of a conjugate-gradient step. */
export function axpy2(x: Float64Array, p: Float64Array, r: Float64Array, ap: Float64Array, alpha: number): void {
  run({ kind: 'axpy2', x, p, r, ap, alpha }, [x, p, r, ap])
}

/** `p = z + beta p`: the new search direction of a conjugate-gradient step. */
export function xpby(p: Float64Array, z: Float64Array, beta: number): void {
  run({ kind: 'xpby', p, z, beta }, [p, z])
}

/**
 * `out` set to zero where `mask` is not 1, and, where it is, to `out + lambda work` (with `work`)
 * or left as it is (without); returns the dot product of `x` and the new `out` over the mask,
 * summed per block of 16,384 values then over the blocks in order (the same for any thread split).
 */
export function maskedDot(out: Float64Array, x: Float64Array, mask: Uint8Array, add?: { readonly work: Float64Array; readonly lambda: number }): number {
  const arrays: SharedArray[] = add === undefined ? [out, x, mask] : [out, x, mask, add.work]
  const partials = partialsFor(out.length, arrays)
  const job: ElementwiseJob = add === undefined ? { kind: 'mask-dot', out, x, mask, partials } : { kind: 'mask-add-dot', out, work: add.work, lambda: add.lambda, x, mask, partials }
  run(job, arrays)
  return sum(partials)
}

/**
 * `out = G^T V G x` where `mask` is 1, zero elsewhere (see {@link weightedDivergenceRange}), split
 * across the FFT threads by planes.
 */
export function weightedDivergence(x: Float64Array, v: Float64Array, shape: Shape3, voxelSizeMm: readonly number[], mask: Uint8Array, out: Float64Array): void {
  if (shape[0] * shape[1] * shape[2] !== out.length) throw new PacsflowError('INVALID_OPTIONS', `weightedDivergence: ${out.length} values for a ${shape.join('x')} volume`)
  run({ kind: 'divergence', x, v, shape, voxelSizeMm, mask, out }, [x, v, mask, out], shape[2])
}

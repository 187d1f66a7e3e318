// Element-wise products around the FFTs (a spectrum times a real kernel, sums of filtered spectra, a volume times weights), split across the FFT threads like the transforms.
import { PacsflowError } from '@pacsflow/core'
import type { HalfSpectrum } from './real-fft.js'
import { sharePass } from './threads.js'

/** Values per unit a thread claims: long enough that a claim costs nothing beside the loop. */
const BLOCK = 16384

/** An element-wise pass as a worker runs it (see {@link elementwiseRange}). */
export type ElementwiseJob =
  | { readonly kind: 'filter'; readonly re: Float64Array; readonly im: Float64Array; readonly kernel: Float64Array; readonly outRe: Float64Array; readonly outIm: Float64Array }
  | { readonly kind: 'accumulate'; readonly re: Float64Array; readonly im: Float64Array; readonly kernel: Float64Array; readonly outRe: Float64Array; readonly outIm: Float64Array; readonly first: boolean }
  | { readonly kind: 'multiply'; readonly a: Float64Array; readonly b: Float64Array }

function lengthOf(job: ElementwiseJob): number {
  return job.kind === 'multiply' ? job.a.length : job.kernel.length
}

/** Runs `job` on the values of blocks `[firstBlock, lastBlock)` (the unit an FFT worker thread takes). */
export function elementwiseRange(job: ElementwiseJob, firstBlock: number, lastBlock: number): void {
  const start = firstBlock * BLOCK
  const end = Math.min(lengthOf(job), lastBlock * BLOCK)
  switch (job.kind) {
    case 'filter': {
      const { re, im, kernel, outRe, outIm } = job
      for (let k = start; k < end; k++) {
        const h = kernel[k] as number
        outRe[k] = h * (re[k] as number)
        outIm[k] = h * (im[k] as number)
      }
      return
    }
    case 'accumulate': {
      const { re, im, kernel, outRe, outIm, first } = job
      if (first) {
        for (let k = start; k < end; k++) {
          const h = kernel[k] as number
          outRe[k] = h * (re[k] as number)
          outIm[k] = h * (im[k] as number)
        }
        return
      }
      for (let k = start; k < end; k++) {
        const h = kernel[k] as number
        outRe[k] = (outRe[k] as number) + h * (re[k] as number)
        outIm[k] = (outIm[k] as number) + h * (im[k] as number)
      }
      return
    }
    case 'multiply': {
      const { a, b } = job
      for (let i = start; i < end; i++) a[i] = (a[i] as number) * (b[i] as number)
      return
    }
  }
}

function run(job: ElementwiseJob, arrays: readonly Float64Array[]): void {
  const length = lengthOf(job)
  for (const array of arrays) {
    if (array.length !== length) throw new PacsflowError('INVALID_OPTIONS', `element-wise ${job.kind}: arrays of ${arrays.map((a) => a.length).join(', ')} values, expected ${length} each`)
  }
  const blocks = Math.ceil(length / BLOCK)
  if (!sharePass(blocks, length, arrays, { op: 'elementwise', job }, (first, last) => elementwiseRange(job, first, last))) elementwiseRange(job, 0, blocks)
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

import { afterAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { accumulateFiltered, filterSpectrum, multiplyInPlace } from './spectral.js'
import { fftArray, fftThreadStats, startFftThreads, stopFftThreads } from './threads.js'

function random(length: number, seed: number, shared = false): Float64Array {
  const out = shared ? fftArray(length) : new Float64Array(length)
  let state = seed
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state / 2 ** 32 - 0.5
  }
  return out
}

/** Over the smallest split pass (65536 values) and not a multiple of the 16384-value block. */
const LENGTH = 100_003

function expected(length: number, shared: boolean) {
  const [re, im, kernel, sumRe, sumIm] = [1, 2, 3, 4, 5].map((seed) => random(length, seed, shared)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array]
  return { re, im, kernel, sumRe, sumIm }
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]))
}

describe('element-wise products', () => {
  afterAll(async () => {
    await stopFftThreads()
  })

  it('filter, accumulate and multiply compute the products, on one thread and split across two, with the same bits', async () => {
    const reference = () => {
      const { re, im, kernel, sumRe, sumIm } = expected(LENGTH, false)
      const out = { re: new Float64Array(LENGTH), im: new Float64Array(LENGTH) }
      for (let k = 0; k < LENGTH; k++) {
        out.re[k] = kernel[k]! * re[k]!
        out.im[k] = kernel[k]! * im[k]!
        sumRe[k] = sumRe[k]! + kernel[k]! * re[k]!
        sumIm[k] = sumIm[k]! + kernel[k]! * im[k]!
      }
      const product = re.map((v, i) => v * kernel[i]!)
      return { out, sumRe, sumIm, product }
    }
    const want = reference()
    const check = (shared: boolean) => {
      const { re, im, kernel, sumRe, sumIm } = expected(LENGTH, shared)
      const out = { re: shared ? fftArray(LENGTH) : new Float64Array(LENGTH), im: shared ? fftArray(LENGTH) : new Float64Array(LENGTH) }
      filterSpectrum({ re, im }, kernel, out)
      expect(sameBits(out.re, want.out.re) && sameBits(out.im, want.out.im)).toBe(true)
      accumulateFiltered({ re: sumRe, im: sumIm }, { re, im }, kernel)
      expect(sameBits(sumRe, want.sumRe) && sameBits(sumIm, want.sumIm)).toBe(true)
      // `first` starts the sum: the sum is the filtered term.
      accumulateFiltered({ re: sumRe, im: sumIm }, { re, im }, kernel, true)
      expect(sameBits(sumRe, want.out.re) && sameBits(sumIm, want.out.im)).toBe(true)
      // In place.
      filterSpectrum({ re, im }, kernel)
      expect(sameBits(re, want.out.re)).toBe(true)
      const volume = random(LENGTH, 1, shared)
      multiplyInPlace(volume, kernel)
      expect(sameBits(volume, want.product)).toBe(true)
    }
    check(false)
    expect(await startFftThreads(2)).toBe(2)
    const before = fftThreadStats().splitPasses
    check(true)
    expect(fftThreadStats().splitPasses - before).toBe(5)
  })

  it('refuses arrays of different lengths with INVALID_OPTIONS', () => {
    const short = new Float64Array(9)
    const long = new Float64Array(10)
    for (const call of [() => filterSpectrum({ re: long, im: long }, short), () => multiplyInPlace(long, short), () => accumulateFiltered({ re: long, im: short }, { re: long, im: long }, long)]) {
      let error: unknown
      try {
        call()
      } catch (caught) {
        error = caught
      }
      expect(isPacsflowError(error, 'INVALID_OPTIONS')).toBe(true)
    }
  })
})

import { afterAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import type { Shape3 } from './fft3d.js'
import { accumulateFiltered, axpy2, filterSpectrum, maskedDot, multiplyInPlace, weightedDivergence, xpby } from './spectral.js'
import { fftArray, fftThreadStats, sharedCopy, startFftThreads, stopFftThreads } from './threads.js'

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

  it('the solver updates, masked dot products and G^T V G: the expected values, the same bits on one thread and on two', async () => {
    const shape: Shape3 = [40, 41, 45]
    const size = shape[0] * shape[1] * shape[2]
    const run = () => {
      const [x, p, r, ap, z, out, work, v] = [11, 12, 13, 14, 15, 16, 17, 18].map((seed) => random(size, seed, true)) as Float64Array[]
      const mask = sharedCopy(Uint8Array.from(random(size, 19), (value) => (value > -0.2 ? 1 : 0)))
      axpy2(x!, p!, r!, ap!, 0.37)
      xpby(p!, z!, -1.3)
      const plain = sharedCopy(out!)
      const dot = maskedDot(plain, x!, mask)
      const dotAdd = maskedDot(out!, x!, mask, { work: work!, lambda: 1e-3 })
      const divergence = fftArray(size)
      weightedDivergence(x!, v!, shape, [0.9, 1.5, 2], mask, divergence)
      return { x: x!, p: p!, r: r!, plain, out: out!, dot, dotAdd, divergence, mask, work: work!, v: v! }
    }
    await stopFftThreads()
    const one = run()
    // The values: spot checks against the definitions.
    const [x0, p0, r0, ap0, z0, out0, work0] = [11, 12, 13, 14, 15, 16, 17].map((seed) => random(size, seed))
    for (const i of [0, 1, 777, size - 1]) {
      expect(one.x[i]).toBe(x0![i]! + 0.37 * p0![i]!)
      expect(one.r[i]).toBe(r0![i]! - 0.37 * ap0![i]!)
      expect(one.p[i]).toBe(z0![i]! + -1.3 * p0![i]!)
      expect(one.plain[i]).toBe(one.mask[i] === 1 ? out0![i]! : 0)
      expect(one.out[i]).toBe(one.mask[i] === 1 ? out0![i]! + 1e-3 * work0![i]! : 0)
    }
    let dot = 0
    let dotAdd = 0
    for (let i = 0; i < size; i++) {
      dot += one.x[i]! * one.plain[i]!
      dotAdd += one.x[i]! * one.out[i]!
    }
    expect(one.dot).toBeCloseTo(dot, 9)
    expect(one.dotAdd).toBeCloseTo(dotAdd, 9)
    expect(await startFftThreads(2)).toBe(2)
    const before = fftThreadStats().splitPasses
    const two = run()
    expect(fftThreadStats().splitPasses - before).toBe(5)
    for (const key of ['x', 'p', 'r', 'plain', 'out', 'divergence'] as const) expect(sameBits(two[key], one[key]), key).toBe(true)
    expect(Object.is(two.dot, one.dot) && Object.is(two.dotAdd, one.dotAdd)).toBe(true)
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

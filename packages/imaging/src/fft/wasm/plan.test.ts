// The WebAssembly FFT plan: bit-identical to the JS Stockham plan, correct against the DFT's definition, and strict about the arrays it is given.
import { describe, expect, it } from 'vitest'
import { factorize, linePlan } from '../line-plan.js'
import { signedLeb128, unsignedLeb128 } from './assembler.js'
import { kernelModuleBytes } from './butterflies.js'
import { MAX_BATCH, WasmStockhamPlan, wasmLinePlan, wasmPlanSupported, wasmSimdAvailable } from './plan.js'
import { webAssemblyApi } from './runtime.js'
import { codeOf } from '../../test-support/codes.js'

// A seeded generator so a failure reproduces.
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32 - 0.5
  }
}

const SMOOTH_UP_TO_64 = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => factorize(n).every((r) => r <= 5))
const LENGTHS = [...SMOOTH_UP_TO_64, 72, 90, 96, 100, 108, 120, 128, 45, 54, 60, 75, 81, 125]
// 16, 8 and 2 as fft3d.ts uses them; 5 and 1 leave an odd sb for the scalar tail.
const BATCHES = [16, 8, 2, 5, 1]

interface Result {
  readonly where: 0 | 1
  readonly re: Float64Array
  readonly im: Float64Array
}

/** The JS plan's transform of (re, im), on copies. */
function jsTransform(n: number, re: Float64Array, im: Float64Array, batch: number): Result {
  const parts = [re.slice(), im.slice(), new Float64Array(re.length), new Float64Array(re.length)] as const
  const where = linePlan(n).transform(parts[0], parts[1], parts[2], parts[3], batch)
  return { where, re: parts[where * 2] as Float64Array, im: parts[where * 2 + 1] as Float64Array }
}

/** The WASM plan's transform of (re, im), in place on its scratch views. */
function wasmTransform(plan: WasmStockhamPlan, re: Float64Array, im: Float64Array, batch: number): Result {
  const { xr, xi, yr, yi } = plan.scratch()
  xr.set(re)
  xi.set(im)
  const where = plan.transform(xr, xi, yr, yi, batch)
  const size = re.length
  return { where, re: (where === 0 ? xr : yr).slice(0, size), im: (where === 0 ? xi : yi).slice(0, size) }
}

/** The first element that differs in its bits (Object.is: +0 and -0 differ), or -1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

/** Largest |X - DFT(x)| over the largest |DFT(x)|, by the definition X_k = sum_j x_j exp(-2 pi i jk/n), per line. */
function relativeErrorToDft(n: number, batch: number, re: Float64Array, im: Float64Array, out: Result): number {
  const cos = Float64Array.from({ length: n }, (_, k) => Math.cos((-2 * Math.PI * k) / n))
  const sin = Float64Array.from({ length: n }, (_, k) => Math.sin((-2 * Math.PI * k) / n))
  let error = 0
  let scale = 0
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < n; k++) {
      let sr = 0
      let si = 0
      for (let j = 0; j < n; j++) {
        const w = (j * k) % n
        const xr = re[j * batch + b] as number
        const xi = im[j * batch + b] as number
        sr += xr * (cos[w] as number) - xi * (sin[w] as number)
        si += xr * (sin[w] as number) + xi * (cos[w] as number)
      }
      error = Math.max(error, Math.abs((out.re[k * batch + b] as number) - sr), Math.abs((out.im[k * batch + b] as number) - si))
      scale = Math.max(scale, Math.abs(sr), Math.abs(si))
    }
  }
  return error / scale
}

function randomLines(n: number, batch: number, seed: number): [Float64Array, Float64Array] {
  const next = random(seed)
  const re = Float64Array.from({ length: n * batch }, next)
  const im = Float64Array.from({ length: n * batch }, next)
  return [re, im]
}

describe('LEB128', () => {
  it('encodes unsigned edge values (spec: u32)', () => {
    expect(unsignedLeb128(0)).toEqual([0x00])
    expect(unsignedLeb128(127)).toEqual([0x7f])
    expect(unsignedLeb128(128)).toEqual([0x80, 0x01])
    expect(unsignedLeb128(240)).toEqual([0xf0, 0x01])
    expect(unsignedLeb128(16383)).toEqual([0xff, 0x7f])
    expect(unsignedLeb128(16384)).toEqual([0x80, 0x80, 0x01])
    expect(unsignedLeb128(624485)).toEqual([0xe5, 0x8e, 0x26])
    expect(unsignedLeb128(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f])
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) expect(() => unsignedLeb128(bad)).toThrow(RangeError)
  })

  it('encodes signed edge values (spec: s32)', () => {
    expect(signedLeb128(0)).toEqual([0x00])
    expect(signedLeb128(63)).toEqual([0x3f])
    expect(signedLeb128(64)).toEqual([0xc0, 0x00])
    expect(signedLeb128(-1)).toEqual([0x7f])
    expect(signedLeb128(-16)).toEqual([0x70])
    expect(signedLeb128(-64)).toEqual([0x40])
    expect(signedLeb128(-65)).toEqual([0xbf, 0x7f])
    expect(signedLeb128(-123456)).toEqual([0xc0, 0xbb, 0x78])
    expect(signedLeb128(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07])
    expect(signedLeb128(-(2 ** 31))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78])
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 0.5]) expect(() => signedLeb128(bad)).toThrow(RangeError)
  })

  it('round-trips random values through a decoder', () => {
    const next = random(7)
    for (let i = 0; i < 2000; i++) {
      const u = Math.floor((next() + 0.5) * 2 ** 32)
      let value = 0
      let shift = 1
      for (const byte of unsignedLeb128(u)) {
        value += (byte & 0x7f) * shift
        shift *= 128
      }
      expect(value).toBe(u)
      const s = u - 2 ** 31
      const bytes = signedLeb128(s)
      let signed = 0
      shift = 1
      for (const byte of bytes) {
        signed += (byte & 0x7f) * shift
        shift *= 128
      }
      if (((bytes[bytes.length - 1] as number) & 0x40) !== 0) signed -= shift
      expect(signed).toBe(s)
    }
  })
})

describe('WebAssembly SIMD FFT plan', () => {
  it('runs on this Node (SIMD available) and builds a module the engine validates', () => {
    expect(wasmSimdAvailable()).toBe(true)
    expect(webAssemblyApi()?.validate(kernelModuleBytes())).toBe(true)
  })

  it('equals the JS Stockham plan bit for bit, and the DFT within 1e-9, for every length and batch', () => {
    let checked = 0
    for (const n of LENGTHS) {
      const plan = new WasmStockhamPlan(n)
      for (const batch of BATCHES) {
        const [re, im] = randomLines(n, batch, n * 31 + batch)
        const expected = jsTransform(n, re, im, batch)
        const actual = wasmTransform(plan, re, im, batch)
        expect({ n, batch, where: actual.where }).toEqual({ n, batch, where: expected.where })
        expect({ n, batch, re: firstDifference(actual.re, expected.re), im: firstDifference(actual.im, expected.im) }).toEqual({ n, batch, re: -1, im: -1 })
        expect(relativeErrorToDft(n, batch, re, im, actual)).toBeLessThan(1e-9)
        checked++
      }
    }
    expect(checked).toBe(LENGTHS.length * BATCHES.length)
  })

  it('keeps signed zeros and exact values as the JS plan does (an impulse and a zero line)', () => {
    for (const n of [12, 90, 125]) {
      const re = new Float64Array(n * 2)
      const im = new Float64Array(n * 2)
      re[0] = 1 // line 0: impulse; line 1: all zero
      const expected = jsTransform(n, re, im, 2)
      const actual = wasmTransform(new WasmStockhamPlan(n), re, im, 2)
      expect(firstDifference(actual.re, expected.re)).toBe(-1)
      expect(firstDifference(actual.im, expected.im)).toBe(-1)
      expect(actual.re[(n - 1) * 2]).toBe(1)
    }
  })

  it('transforms in place whatever pair of its scratch holds the input (y as x), and its views survive', () => {
    const n = 90
    const plan = new WasmStockhamPlan(n)
    const views = plan.scratch()
    const [re, im] = randomLines(n, MAX_BATCH, 5)
    views.yr.set(re)
    views.yi.set(im)
    const where = plan.transform(views.yr, views.yi, views.xr, views.xi, MAX_BATCH)
    const expected = jsTransform(n, re, im, MAX_BATCH)
    expect(where).toBe(expected.where)
    const [outRe, outIm] = where === 0 ? [views.yr, views.yi] : [views.xr, views.xi]
    expect(firstDifference(outRe, expected.re)).toBe(-1)
    expect(firstDifference(outIm, expected.im)).toBe(-1)
    expect(plan.scratch()).toBe(views)
    expect(views.xr.length).toBe(n * MAX_BATCH)
    // Views the caller made on the memory (other objects, other roles) run in place too.
    const size = n * 4
    const on = (part: Float64Array): Float64Array => new Float64Array(part.buffer, part.byteOffset, size)
    const [inRe, inIm, outRe2, outIm2] = [on(views.xi), on(views.yr), on(views.xr), on(views.yi)]
    const [re4, im4] = randomLines(n, 4, 9)
    inRe.set(re4)
    inIm.set(im4)
    const where4 = plan.transform(inRe, inIm, outRe2, outIm2, 4)
    const expected4 = jsTransform(n, re4, im4, 4)
    expect(where4).toBe(expected4.where)
    expect(firstDifference(where4 === 0 ? inRe : outRe2, expected4.re)).toBe(-1)
    expect(firstDifference(where4 === 0 ? inIm : outIm2, expected4.im)).toBe(-1)
  })

  it('copies arrays off its memory in and out, with the JS plan result in the pair it names', () => {
    for (const n of [1, 60, 128]) {
      const plan = new WasmStockhamPlan(n)
      const [re, im] = randomLines(n, 8, 11)
      const parts = [re.slice(), im.slice(), new Float64Array(n * 8), new Float64Array(n * 8)] as const
      const where = plan.transform(parts[0], parts[1], parts[2], parts[3], 8)
      const expected = jsTransform(n, re, im, 8)
      expect(where).toBe(expected.where)
      expect(firstDifference(parts[where * 2] as Float64Array, expected.re)).toBe(-1)
      expect(firstDifference(parts[where * 2 + 1] as Float64Array, expected.im)).toBe(-1)
    }
  })

  it('refuses a mix of views and other arrays, overlapping views, views into the twiddles, bad batches and short arrays', () => {
    const n = 12
    const plan = new WasmStockhamPlan(n)
    const { xr, xi, yr, yi } = plan.scratch()
    const other = new Float64Array(n * MAX_BATCH)
    expect(codeOf(() => plan.transform(xr, xi, other, yi, 4))).toBe('INVALID_OPTIONS')
    expect(codeOf(() => plan.transform(xr, xr, yr, yi, 4))).toBe('INVALID_OPTIONS')
    const shifted = new Float64Array(xr.buffer, xr.byteOffset + 8, n * 4)
    expect(codeOf(() => plan.transform(xr, xi, yr, shifted, 4))).toBe('INVALID_OPTIONS')
    const pastScratch = new Float64Array(yi.buffer, yi.byteOffset + 8 * (n * MAX_BATCH - 4), n * 4)
    expect(codeOf(() => plan.transform(xr, xi, yr, pastScratch, 4))).toBe('INVALID_OPTIONS')
    for (const batch of [0, MAX_BATCH + 1, 2.5]) expect(codeOf(() => plan.transform(xr, xi, yr, yi, batch))).toBe('INVALID_OPTIONS')
    const short = new Float64Array(n * 4 - 1)
    expect(codeOf(() => plan.transform(short, other, other.slice(), other.slice(), 4))).toBe('INVALID_OPTIONS')
    // Nothing above reached the kernels: the plan still transforms correctly.
    const [re, im] = randomLines(n, 4, 3)
    expect(firstDifference(wasmTransform(plan, re, im, 4).re, jsTransform(n, re, im, 4).re)).toBe(-1)
  })

  it('takes 2/3/5-smooth lengths only, and caches one plan per length', () => {
    for (const n of [1, 2, 90, 1024, 3 ** 5 * 5 ** 2]) expect(wasmPlanSupported(n)).toBe(true)
    for (const n of [0, -4, 1.5, 7, 14, 13 * 8, 2 ** 21]) {
      expect(wasmPlanSupported(n)).toBe(false)
      expect(wasmLinePlan(n)).toBeUndefined()
    }
    expect(codeOf(() => new WasmStockhamPlan(7))).toBe('INVALID_OPTIONS')
    const plan = wasmLinePlan(90)
    expect(plan).toBeInstanceOf(WasmStockhamPlan)
    expect(wasmLinePlan(90)).toBe(plan)
    expect(plan?.n).toBe(90)
  })
})

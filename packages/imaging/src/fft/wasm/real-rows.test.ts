// The WebAssembly real-row plan: bit-identical to realRowsInto / inverseRealRowsFrom of real-fft.ts, correct against the DFT, strict about its arguments.
import { describe, expect, it } from 'vitest'
import { inverseRealRowsFrom, realRowsInto } from '../real-fft.js'
import { wasmSimdAvailable } from './plan.js'
import { WasmRealRowPlan, realRowCapacity, wasmRealRowPlan, wasmRealRowsSupported, type RealArray } from './real-rows.js'
import { codeOf } from '../../test-support/codes.js'

// A seeded generator so a failure reproduces.
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32 - 0.5
  }
}

/** Random values, with a few exact ones (signed zeros, large, tiny) sprinkled in so their signs and roundings are compared too. */
function values(length: number, seed: number, type: 'f64' | 'f32' = 'f64'): RealArray {
  const next = random(seed)
  const out = type === 'f64' ? new Float64Array(length) : new Float32Array(length)
  const special = [0, -0, 1e300, -1e-300, 3, 0.5]
  for (let i = 0; i < length; i++) out[i] = i % 23 === 7 ? (special[i % special.length] as number) : next() * 1000
  return out
}

/** The first index whose value differs in its bits (Object.is: +0 and -0 differ), or -1. */
function firstDifference(a: RealArray, b: RealArray): number {
  if (a.length !== b.length) return 0
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

const SIZES = [2, 4, 10, 16, 90, 100, 128, 180, 250, 1000]
const ROW_COUNTS = [1, 3, 17, 300]

/** The plan's forward and the JS one on the same rows, into outputs prefilled alike (so the untouched values are compared too). */
function compareForward(plan: WasmRealRowPlan, type: 'f64' | 'f32', rows: number, seed: number): { re: number; im: number } {
  const { n, m } = plan
  const firstRow = 2
  const offset = 5
  const input = values((firstRow + rows + 1) * n, seed, type)
  const size = offset + rows * (m + 1) + 3
  const [jsRe, jsIm, wasmRe, wasmIm] = [0, 1, 2, 3].map(() => new Float64Array(size).fill(7))
  realRowsInto(input, n, firstRow, firstRow + rows, (jsRe as Float64Array).subarray(offset), (jsIm as Float64Array).subarray(offset))
  plan.forward(input, firstRow, firstRow + rows, wasmRe as Float64Array, wasmIm as Float64Array, offset)
  return { re: firstDifference(wasmRe as Float64Array, jsRe as Float64Array), im: firstDifference(wasmIm as Float64Array, jsIm as Float64Array) }
}

function compareInverse(plan: WasmRealRowPlan, type: 'f64' | 'f32', rows: number, seed: number): number {
  const { n, m } = plan
  const firstRow = 3
  const from = 4
  const re = values(from + rows * (m + 1) + 2, seed) as Float64Array
  const im = values(from + rows * (m + 1) + 2, seed + 1) as Float64Array
  const scale = 1 / 37
  const make = (): RealArray => (type === 'f64' ? new Float64Array((firstRow + rows + 1) * n) : new Float32Array((firstRow + rows + 1) * n)).fill(9)
  const js = make()
  const wasm = make()
  inverseRealRowsFrom(re, im, from, scale, n, js, firstRow, firstRow + rows)
  plan.inverse(re, im, from, scale, wasm, firstRow, firstRow + rows)
  return firstDifference(wasm, js)
}

describe('WebAssembly real rows', () => {
  it('runs on this Node: SIMD is available and the plan is built (no silent fallback)', () => {
    expect(wasmSimdAvailable()).toBe(true)
    expect(wasmRealRowPlan(100)).toBeInstanceOf(WasmRealRowPlan)
  })

  it('equals realRowsInto bit for bit (float64 and float32 input, offset output, several batches)', () => {
    for (const n of SIZES) {
      const plan = wasmRealRowPlan(n) as WasmRealRowPlan
      for (const rows of ROW_COUNTS) {
        for (const type of ['f64', 'f32'] as const) {
          expect({ n, rows, type, ...compareForward(plan, type, rows, n * 7 + rows) }).toEqual({ n, rows, type, re: -1, im: -1 })
        }
      }
    }
  })

  it('equals inverseRealRowsFrom bit for bit (float64 and float32 output, offset input, scale != 1)', () => {
    for (const n of SIZES) {
      const plan = wasmRealRowPlan(n) as WasmRealRowPlan
      for (const rows of ROW_COUNTS) {
        for (const type of ['f64', 'f32'] as const) {
          expect({ n, rows, type, at: compareInverse(plan, type, rows, n * 11 + rows) }).toEqual({ n, rows, type, at: -1 })
        }
      }
    }
  })

  it('gives the same bits whatever its capacity (odd batches, one row per batch, a last short batch)', () => {
    for (const n of [10, 90, 100]) {
      for (const capacity of [1, 2, 5]) {
        const plan = new WasmRealRowPlan(n, capacity)
        expect(compareForward(plan, 'f64', 17, n + capacity)).toEqual({ re: -1, im: -1 })
        expect(compareInverse(plan, 'f32', 17, n + capacity)).toBe(-1)
      }
    }
    expect(realRowCapacity(100)).toBe(Math.floor(16384 / 50))
    expect(realRowCapacity(2 ** 16)).toBe(1)
  })

  it('matches the DFT within 1e-9 and inverts its own forward transform', () => {
    for (const n of [10, 90, 128]) {
      const plan = wasmRealRowPlan(n) as WasmRealRowPlan
      const { m } = plan
      const rows = 3
      const input = values(rows * n, n, 'f64')
      const re = new Float64Array(rows * (m + 1))
      const im = new Float64Array(rows * (m + 1))
      plan.forward(input, 0, rows, re, im)
      let error = 0
      let magnitude = 0
      for (let row = 0; row < rows; row++) {
        for (let k = 0; k <= m; k++) {
          // X_k = sum_j x_j exp(-2 pi i jk / n), by the definition.
          let sr = 0
          let si = 0
          for (let j = 0; j < n; j++) {
            const angle = (-2 * Math.PI * ((j * k) % n)) / n
            sr += (input[row * n + j] as number) * Math.cos(angle)
            si += (input[row * n + j] as number) * Math.sin(angle)
          }
          error = Math.max(error, Math.abs((re[row * (m + 1) + k] as number) - sr), Math.abs((im[row * (m + 1) + k] as number) - si))
          magnitude = Math.max(magnitude, Math.abs(sr), Math.abs(si))
        }
      }
      expect(error / magnitude).toBeLessThan(1e-9)
      const back = new Float64Array(rows * n)
      plan.inverse(re, im, 0, 1, back, 0, rows)
      let roundTrip = 0
      for (let i = 0; i < back.length; i++) roundTrip = Math.max(roundTrip, Math.abs((back[i] as number) - (input[i] as number)))
      expect(roundTrip / magnitude).toBeLessThan(1e-12)
    }
  })

  it('takes even n with a 2/3/5-smooth half only, and caches one plan per n', () => {
    for (const n of [9, 101, 14, 28, 140, 0, -4, 2.5]) {
      expect(wasmRealRowsSupported(n)).toBe(false)
      expect(wasmRealRowPlan(n)).toBeUndefined()
    }
    expect(codeOf(() => new WasmRealRowPlan(14))).toBe('INVALID_OPTIONS')
    const plan = wasmRealRowPlan(180)
    expect(plan).toBeInstanceOf(WasmRealRowPlan)
    expect(wasmRealRowPlan(180)).toBe(plan)
    expect([plan?.n, plan?.m]).toEqual([180, 90])
  })

  it('refuses rows outside its arrays with INVALID_OPTIONS, and still works afterwards', () => {
    const plan = wasmRealRowPlan(10) as WasmRealRowPlan
    const input = new Float64Array(30)
    const half = new Float64Array(18)
    expect(codeOf(() => plan.forward(input, 0, 4, half, half.slice()))).toBe('INVALID_OPTIONS')
    expect(codeOf(() => plan.forward(input, 2, 1, half, half.slice()))).toBe('INVALID_OPTIONS')
    expect(codeOf(() => plan.forward(input, 0, 3, half.subarray(1), half.slice()))).toBe('INVALID_OPTIONS')
    expect(codeOf(() => plan.forward(input, 0, 3, half, half.slice(), 1))).toBe('INVALID_OPTIONS')
    expect(codeOf(() => plan.inverse(half, half.slice(), 1, 1, input, 0, 3))).toBe('INVALID_OPTIONS')
    expect(codeOf(() => plan.inverse(half, half.slice(), 0, 1, input, 0, 4))).toBe('INVALID_OPTIONS')
    expect(codeOf(() => plan.inverse(half, half.slice(), 0.5, 1, input, 0, 3))).toBe('INVALID_OPTIONS')
    expect(compareForward(plan, 'f64', 3, 1)).toEqual({ re: -1, im: -1 })
  })
})

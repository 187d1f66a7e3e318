import { isPacsflowError } from '@pacsflow/core'
import { describe, expect, it } from 'vitest'
import { fft1d, fft3d, ifft3d, type Shape3 } from './fft3d.js'
import { factorize } from './line-plan.js'

// A seeded generator so a failure reproduces.
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32 - 0.5
  }
}

function randomVolume(size: number, seed: number): [Float64Array, Float64Array] {
  const next = random(seed)
  const re = new Float64Array(size)
  const im = new Float64Array(size)
  for (let i = 0; i < size; i++) {
    re[i] = next()
    im[i] = next()
  }
  return [re, im]
}

/** The DFT by its definition, O(N^2), separable over the three axes. */
function naiveDft3d(re: Float64Array, im: Float64Array, shape: Shape3, sign = -1): [Float64Array, Float64Array] {
  const [nx, ny, nz] = shape
  const outRe = new Float64Array(re.length)
  const outIm = new Float64Array(re.length)
  for (let kz = 0; kz < nz; kz++) {
    for (let ky = 0; ky < ny; ky++) {
      for (let kx = 0; kx < nx; kx++) {
        let sr = 0
        let si = 0
        for (let z = 0; z < nz; z++) {
          for (let y = 0; y < ny; y++) {
            for (let x = 0; x < nx; x++) {
              const angle = sign * 2 * Math.PI * ((kx * x) / nx + (ky * y) / ny + (kz * z) / nz)
              const i = x + nx * (y + ny * z)
              const c = Math.cos(angle)
              const s = Math.sin(angle)
              sr += (re[i] as number) * c - (im[i] as number) * s
              si += (re[i] as number) * s + (im[i] as number) * c
            }
          }
        }
        outRe[kx + nx * (ky + ny * kz)] = sr
        outIm[kx + nx * (ky + ny * kz)] = si
      }
    }
  }
  return [outRe, outIm]
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)))
  return max
}

describe('factorize', () => {
  it('splits a size into radices 4, 2, 3, 5 and larger primes', () => {
    expect(factorize(96)).toEqual([4, 4, 2, 3])
    expect(factorize(2 * 9 * 25 * 7)).toEqual([2, 3, 3, 5, 5, 7])
    expect(factorize(97)).toEqual([97])
    expect(factorize(1)).toEqual([])
  })
})

describe('fft1d', () => {
  // Powers of 2, 3, 5, mixed, the generic radices (7, 11, 13) and Bluestein primes (17, 37, 97, 101).
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 20, 25, 27, 30, 32, 37, 49, 60, 64, 77, 97, 100, 101, 128, 143]
  for (const n of sizes) {
    it(`matches the naive DFT for n = ${n}`, () => {
      const [re, im] = randomVolume(n, n)
      const [wantRe, wantIm] = naiveDft3d(re, im, [n, 1, 1])
      fft1d(re, im)
      const tolerance = 1e-12 * n * Math.max(1, Math.log2(n))
      expect(maxDifference(re, wantRe)).toBeLessThan(tolerance)
      expect(maxDifference(im, wantIm)).toBeLessThan(tolerance)
    })
  }

  it('transforms a known signal: a cosine at frequency 3 of 12 gives n/2 at bins 3 and 9', () => {
    const re = new Float64Array(12).map((_, x) => Math.cos((2 * Math.PI * 3 * x) / 12))
    const im = new Float64Array(12)
    fft1d(re, im)
    for (let k = 0; k < 12; k++) {
      expect(re[k]).toBeCloseTo(k === 3 || k === 9 ? 6 : 0, 12)
      expect(im[k]).toBeCloseTo(0, 12)
    }
  })
})

describe('fft3d', () => {
  const shapes: Shape3[] = [
    [4, 4, 4],
    [5, 7, 3],
    [17, 4, 6],
    [3, 19, 2],
    [1, 8, 9],
    [33, 2, 1],
  ]
  for (const shape of shapes) {
    it(`matches the naive 3D DFT on ${shape.join('x')}, forward and inverse`, () => {
      const size = shape[0] * shape[1] * shape[2]
      const [re, im] = randomVolume(size, size)
      const [wantRe, wantIm] = naiveDft3d(re, im, shape)
      const [backRe, backIm] = naiveDft3d(re, im, shape, 1)
      const inverseRe = re.slice()
      const inverseIm = im.slice()
      fft3d(re, im, shape)
      expect(maxDifference(re, wantRe)).toBeLessThan(1e-10)
      expect(maxDifference(im, wantIm)).toBeLessThan(1e-10)
      ifft3d(inverseRe, inverseIm, shape)
      expect(maxDifference(inverseRe, backRe.map((v) => v / size))).toBeLessThan(1e-12)
      expect(maxDifference(inverseIm, backIm.map((v) => v / size))).toBeLessThan(1e-12)
    })
  }

  it('round-trips float64 to 1e-13 and float32 to 1e-6 on 24x30x17 (mixed radix and Bluestein)', () => {
    const shape: Shape3 = [24, 30, 17]
    const size = 24 * 30 * 17
    const [re, im] = randomVolume(size, 7)
    const re2 = re.slice()
    const im2 = im.slice()
    fft3d(re2, im2, shape)
    expect(maxDifference(re2, re)).toBeGreaterThan(0.5)
    ifft3d(re2, im2, shape)
    expect(maxDifference(re2, re)).toBeLessThan(1e-13)
    expect(maxDifference(im2, im)).toBeLessThan(1e-13)
    const re32 = Float32Array.from(re)
    const im32 = Float32Array.from(im)
    fft3d(re32, im32, shape)
    ifft3d(re32, im32, shape)
    expect(maxDifference(re32, re)).toBeLessThan(1e-6)
    expect(maxDifference(im32, im)).toBeLessThan(1e-6)
  })

  it("keeps Parseval's identity: sum |x|^2 = (1/N) sum |X|^2", () => {
    const shape: Shape3 = [20, 18, 15]
    const size = 20 * 18 * 15
    const [re, im] = randomVolume(size, 11)
    let energy = 0
    for (let i = 0; i < size; i++) energy += (re[i] as number) ** 2 + (im[i] as number) ** 2
    fft3d(re, im, shape)
    let spectral = 0
    for (let i = 0; i < size; i++) spectral += (re[i] as number) ** 2 + (im[i] as number) ** 2
    expect(spectral / size).toBeCloseTo(energy, 9)
  })

  it('gives a real volume a Hermitian spectrum: X(-k) = conj X(k)', () => {
    const shape: Shape3 = [6, 5, 4]
    const [re] = randomVolume(120, 3)
    const im = new Float64Array(120)
    fft3d(re, im, shape)
    const at = (x: number, y: number, z: number): number => ((6 - x) % 6) + 6 * (((5 - y) % 5) + 5 * ((4 - z) % 4))
    for (const [x, y, z] of [[1, 2, 3], [5, 0, 1], [3, 4, 2]] as const) {
      const i = x + 6 * (y + 5 * z)
      expect(re[at(x, y, z)]).toBeCloseTo(re[i] as number, 12)
      expect(im[at(x, y, z)]).toBeCloseTo(-(im[i] as number), 12)
    }
  })

  it('rejects a shape that does not match the arrays with INVALID_OPTIONS', () => {
    const re = new Float64Array(10)
    const im = new Float64Array(10)
    for (const shape of [[2, 2, 2], [10, 0, 1], [2.5, 4, 1]] as unknown as Shape3[]) {
      let caught: unknown
      try {
        fft3d(re, im, shape)
      } catch (error) {
        caught = error
      }
      expect(isPacsflowError(caught, 'INVALID_OPTIONS')).toBe(true)
    }
    expect(() => fft3d(re, new Float64Array(9), [10, 1, 1])).toThrow(/10 values per part/)
  })
})

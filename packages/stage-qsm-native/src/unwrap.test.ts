import { fft3d, type Shape3 } from '@pacsflow/imaging'
import { describe, expect, it } from 'vitest'
import { fitField } from './echo-fit.js'
import { negativeLaplacianHalf, sphereKernelHalf } from './kernels.js'
import { laplacianUnwrap, wrappedLaplacian } from './unwrap.js'

const wrap = (p: number): number => Math.atan2(Math.sin(p), Math.cos(p))

function periodicPhase(shape: Shape3, amplitude: number): Float64Array {
  const [nx, ny, nz] = shape
  const out = new Float64Array(nx * ny * nz)
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    out[i] = amplitude * (Math.sin((2 * Math.PI * x) / nx) * Math.cos((2 * Math.PI * y) / ny) + 0.5 * Math.sin(2 * Math.PI * (z / nz + x / nx)))
  }
  return out
}

function maxDeviation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  // compared up to the unknown constant
  let mean = 0
  for (let i = 0; i < a.length; i++) mean += a[i]! - b[i]!
  mean /= a.length
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]! - mean))
  return worst
}

describe('laplacianUnwrap', () => {
  const shape: Shape3 = [48, 40, 32]

  it("recovers a smooth periodic phase of +-15 rad from its wrapped values (exactly with the 'wrapped' form)", () => {
    const truth = periodicPhase(shape, 10)
    const wrapped = truth.map(wrap)
    expect(wrapped.some((v, i) => Math.abs(v - truth[i]!) > 6)).toBe(true)
    expect(maxDeviation(laplacianUnwrap(wrapped, shape, [1, 1, 1], { form: 'wrapped' }), truth)).toBeLessThan(1e-9)
    // the sin form underestimates steep gradients by ~d^3/6 per neighbour step: a small smooth error on gentle phase
    const gentle = periodicPhase(shape, 3)
    const sinForm = laplacianUnwrap(gentle.map(wrap), shape, [1, 1, 1])
    const error = maxDeviation(sinForm, gentle)
    expect(error).toBeGreaterThan(1e-6)
    expect(error).toBeLessThan(0.05 * 4.5)
  })

  it('matches the Laplacian in k-space: the stencil equals IFFT(-L(k) FFT(phi)) for an unwrapped phase', () => {
    const truth = periodicPhase(shape, 1)
    const stencil = wrappedLaplacian(truth, shape, [1, 1.5, 2], 'wrapped')
    const re = truth.slice()
    const im = new Float64Array(truth.length)
    fft3d(re, im, shape)
    // the full-spectrum kernel from the half spectrum: L depends on |k| per axis, so column kx and n - kx agree
    const half = negativeLaplacianHalf(shape, [1, 1.5, 2])
    const hx = shape[0] / 2 + 1
    for (let z = 0; z < shape[2]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[0]; x++) {
      const i = x + shape[0] * (y + shape[1] * z)
      const l = half[Math.min(x, shape[0] - x) + hx * (y + shape[1] * z)]!
      re[i] = -l * re[i]!
      im[i] = -l * im[i]!
    }
    fft3d(re, im, shape, { inverse: true })
    let worst = 0
    for (let i = 0; i < re.length; i++) worst = Math.max(worst, Math.abs(re[i]! - stencil[i]!))
    expect(worst).toBeLessThan(1e-10)
  })

  it('returns a linear ramp minus a harmonic function: the error has zero Laplacian inside', () => {
    const small: Shape3 = [32, 32, 24]
    const truth = new Float64Array(32 * 32 * 24)
    for (let z = 0, i = 0; z < 24; z++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++, i++) truth[i] = 0.9 * x + 0.4 * y
    const unwrapped = laplacianUnwrap(truth.map(wrap), small, [1, 1, 1], { form: 'wrapped' })
    const difference = unwrapped.map((v, i) => v - truth[i]!)
    const lap = wrappedLaplacian(difference, small, [1, 1, 1], 'wrapped')
    for (let z = 4; z < 20; z++) for (let y = 4; y < 28; y++) for (let x = 4; x < 28; x++) expect(Math.abs(lap[x + 32 * (y + 32 * z)]!)).toBeLessThan(1e-8)
    // and the result has no 2 pi jumps: inside, its x-steps are all the same (the ramp minus the
    // mean gradient a periodic box cannot hold)
    const step = (x: number, y: number, z: number): number => unwrapped[x + 1 + 32 * (y + 32 * z)]! - unwrapped[x + 32 * (y + 32 * z)]!
    const first = step(8, 16, 12)
    expect(Math.abs(first)).toBeGreaterThan(0.05)
    for (let x = 4; x < 27; x++) expect(step(x, 10 + (x % 12), 8 + (x % 8))).toBeCloseTo(first, 8)
  })

  it('rejects a shape that does not fit the data', () => {
    expect(() => laplacianUnwrap(new Float64Array(10), [2, 2, 2], [1, 1, 1])).toThrow(/10 voxels/)
  })
})

describe('kernels', () => {
  it('the ball kernel averages to 1 at k = 0 and the negative Laplacian is 0 there and positive elsewhere', () => {
    const s = sphereKernelHalf([16, 16, 16], [1, 1, 1], 3)
    expect(s[0]).toBeCloseTo(1, 12)
    expect(Math.max(...s)).toBeLessThanOrEqual(1 + 1e-12)
    const l = negativeLaplacianHalf([16, 12, 8], [1, 2, 3])
    expect(l[0]).toBe(0)
    expect(Math.min(...l.subarray(1))).toBeGreaterThan(0)
    // kx = nx/2 (Nyquist): 4 / h^2
    expect(l[8]).toBeCloseTo(4, 12)
  })
})

describe('fitField', () => {
  const tes = [4, 9, 14, 19]

  it('recovers field and receiver offset exactly from noiseless echoes', () => {
    const field = Float64Array.from([0, 12.5, -30, 7])
    const offset = Float64Array.from([0.3, -1.2, 2, 0])
    const phases = tes.map((te) => field.map((f, i) => offset[i]! + 2 * Math.PI * f * te * 1e-3))
    const magnitudes = tes.map(() => new Float32Array(4).fill(1))
    const fit = fitField(phases, magnitudes, tes)
    for (let i = 0; i < 4; i++) {
      expect(fit.fieldHz[i]).toBeCloseTo(field[i]!, 9)
      expect(fit.offset[i]).toBeCloseTo(offset[i]!, 9)
    }
  })

  it('weights echoes by magnitude squared: a corrupted echo with low signal barely moves the fit', () => {
    const phases = tes.map((te, n) => Float64Array.from([2 * Math.PI * 20 * te * 1e-3 + (n === 3 ? 1.5 : 0)]))
    const strong = fitField(phases, tes.map((_, n) => Float32Array.from([n === 3 ? 0.05 : 1])), tes).fieldHz[0]!
    const equal = fitField(phases, tes.map(() => Float32Array.from([1])), tes).fieldHz[0]!
    expect(Math.abs(strong - 20)).toBeLessThan(0.2)
    expect(Math.abs(equal - 20)).toBeGreaterThan(5)
  })

  it("fits one echo through the origin with offset 'none', and refuses it with 'fit'", () => {
    const one = fitField([Float64Array.from([Math.PI])], [Float32Array.from([1])], [10], 'none')
    expect(one.fieldHz[0]).toBeCloseTo(50, 9)
    expect(() => fitField([Float64Array.from([1])], [Float32Array.from([1])], [10])).toThrow(/two distinct echo times/)
    expect(() => fitField([new Float64Array(1)], [], [10])).toThrow(/as many magnitudes/)
  })
})

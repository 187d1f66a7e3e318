import { describe, expect, it } from 'vitest'
import { dipoleKernel } from './dipole.js'
import { fft3d, ifft3d, type Shape3 } from './fft3d.js'
import { fftFrequency } from './sizes.js'

describe('dipoleKernel', () => {
  it('is 1/3 - kz^2/|k|^2 for B0 along z, 0 at k = 0, and between -2/3 and 1/3', () => {
    const shape: Shape3 = [8, 6, 10]
    const d = dipoleKernel(shape, [1, 1, 1], [0, 0, 1])
    expect(d[0]).toBe(0)
    // k along x only: perpendicular to B0 -> 1/3; along z only -> -2/3
    expect(d[3]).toBeCloseTo(1 / 3, 15)
    expect(d[8 * 6 * 4]).toBeCloseTo(-2 / 3, 15)
    const at = 2 + 8 * (1 + 6 * 3)
    const k = [fftFrequency(2, 8), fftFrequency(1, 6), fftFrequency(3, 10)] as const
    expect(d[at]).toBeCloseTo(1 / 3 - k[2] ** 2 / (k[0] ** 2 + k[1] ** 2 + k[2] ** 2), 14)
    expect(Math.min(...d)).toBeGreaterThanOrEqual(-2 / 3 - 1e-12)
    expect(Math.max(...d)).toBeLessThanOrEqual(1 / 3 + 1e-12)
  })

  it('scales k by the voxel size and normalises the B0 direction', () => {
    const d = dipoleKernel([4, 4, 4], [1, 1, 2], [0, 0, 5])
    // k = (1/4 cycles/mm along x, 0, 1/4 cycles/voxel = 1/8 cycles/mm along z)
    const kx = 0.25
    const kz = 0.125
    expect(d[1 + 16 * 1]).toBeCloseTo(1 / 3 - kz ** 2 / (kx ** 2 + kz ** 2), 14)
  })

  it('rotates with B0: B0 along x is the z kernel with the axes exchanged', () => {
    const along = dipoleKernel([6, 6, 6], [1, 1, 1], [1, 0, 0])
    const alongZ = dipoleKernel([6, 6, 6], [1, 1, 1], [0, 0, 1])
    for (let z = 0; z < 6; z++) {
      for (let x = 0; x < 6; x++) expect(along[x + 36 * z]).toBeCloseTo(alongZ[z + 36 * x] as number, 15)
    }
    const oblique = dipoleKernel([6, 6, 6], [1, 1, 1], [0, Math.sin(0.3), Math.cos(0.3)])
    const k = [0, 1 / 6, 2 / 6]
    const dot = k[1]! * Math.sin(0.3) + k[2]! * Math.cos(0.3)
    expect(oblique[6 * 1 + 36 * 2]).toBeCloseTo(1 / 3 - dot ** 2 / (k[1]! ** 2 + k[2]! ** 2), 14)
  })

  it('is Hermitian for an oblique B0 on even and odd axes: D[i] = D[mirror(i)]', () => {
    const shape: Shape3 = [6, 8, 5]
    const d = dipoleKernel(shape, [1, 1.2, 1.5], [0.3, -0.25, 0.92])
    const mirror = (i: number, n: number): number => (n - i) % n
    for (let z = 0; z < 5; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 6; x++) {
      const i = x + 6 * (y + 8 * z)
      expect(d[i]).toBeCloseTo(d[mirror(x, 6) + 6 * (mirror(y, 8) + 8 * mirror(z, 5))] as number, 14)
    }
    // on the y Nyquist plane: the mean of the values at ky = -1/2 and +1/2
    const k = [1 / 6, -0.5 / 1.2, 2 / 5 / 1.5]
    const b = [0.3, -0.25, 0.92].map((v) => v / Math.hypot(0.3, 0.25, 0.92))
    const at = (ky: number): number => 1 / 3 - (k[0]! * b[0]! + ky * b[1]! + k[2]! * b[2]!) ** 2 / (k[0]! ** 2 + ky ** 2 + k[2]! ** 2)
    expect(d[1 + 6 * (4 + 8 * 2)]).toBeCloseTo((at(k[1]!) + at(-k[1]!)) / 2, 14)
  })

  it('gives a uniform sphere the analytic field: -1/3 chi inside... relative to the Lorentz sphere, chi/3 (3cos^2-1) (a/r)^3 outside', () => {
    // A sphere of susceptibility chi: inside the field (after D(0) = 0 drops the mean) is ~0
    // relative to the far field, outside it is chi/3 * a^3/r^3 * (3 cos^2 theta - 1).
    const n = 64
    const shape: Shape3 = [n, n, n]
    const radius = 6
    const chi = 1
    const re = new Float64Array(n ** 3)
    const im = new Float64Array(n ** 3)
    const c = n / 2
    for (let z = 0; z < n; z++) for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
      if ((x - c) ** 2 + (y - c) ** 2 + (z - c) ** 2 <= radius ** 2) re[x + n * (y + n * z)] = chi
    }
    const volume = re.reduce((a, b) => a + b, 0)
    const a = Math.cbrt((3 * volume) / (4 * Math.PI))
    fft3d(re, im, shape)
    const d = dipoleKernel(shape, [1, 1, 1], [0, 0, 1])
    for (let i = 0; i < d.length; i++) {
      re[i] = (re[i] as number) * (d[i] as number)
      im[i] = (im[i] as number) * (d[i] as number)
    }
    ifft3d(re, im, shape)
    const field = (x: number, y: number, z: number): number => re[c + x + n * (c + y + n * (c + z))] as number
    // On the B0 axis (cos = 1) at r = 12: 2/3 (a/r)^3; in the equatorial plane: -1/3 (a/r)^3.
    expect(field(0, 0, 12)).toBeCloseTo(((2 / 3) * a ** 3) / 12 ** 3, 2)
    expect(field(12, 0, 0)).toBeCloseTo((-(1 / 3) * a ** 3) / 12 ** 3, 2)
    expect(Math.abs(field(0, 0, 0))).toBeLessThan(0.02)
    expect(Math.abs(im[0] as number)).toBeLessThan(1e-12)
  })
})

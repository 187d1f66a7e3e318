import { describe, expect, it } from 'vitest'
import { cropVolume, fastShape, fftFrequencies, fftFrequency, nextFastSize, padVolume } from './sizes.js'

describe('nextFastSize', () => {
  it('returns the smallest 2^a 3^b 5^c at or above n', () => {
    expect([1, 2, 7, 11, 13, 17, 97, 127, 128, 129, 193, 241].map(nextFastSize)).toEqual([1, 2, 8, 12, 15, 18, 100, 128, 128, 135, 200, 243])
    // brute force against the definition up to 600
    const smooth = (n: number): boolean => {
      for (const p of [2, 3, 5]) while (n % p === 0) n /= p
      return n === 1
    }
    for (let n = 1; n <= 600; n++) {
      let want = n
      while (!smooth(want)) want++
      expect(nextFastSize(n)).toBe(want)
    }
  })

  it('rejects sizes below 1', () => {
    expect(() => nextFastSize(0)).toThrow(/size >= 1/)
  })

  it('pads a shape with a margin to fast sizes', () => {
    expect(fastShape([128, 128, 96], 16)).toEqual([144, 144, 120])
    expect(fastShape([7, 9, 11])).toEqual([8, 9, 12])
  })
})

describe('fftFrequency', () => {
  it('follows numpy.fft.fftfreq for even and odd n', () => {
    expect(Array.from(fftFrequencies(4))).toEqual([0, 0.25, -0.5, -0.25])
    expect(Array.from(fftFrequencies(5, 2))).toEqual([0, 0.1, 0.2, -0.2, -0.1])
    expect(fftFrequency(3, 7)).toBeCloseTo(3 / 7, 15)
    expect(fftFrequency(4, 7)).toBeCloseTo(-3 / 7, 15)
  })
})

describe('padVolume / cropVolume', () => {
  it('places the data at the offset, zeros elsewhere, and crops it back', () => {
    const data = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i + 1)
    const padded = padVolume(data, [2, 3, 2], [4, 5, 3], [1, 2, 1])
    expect(padded.length).toBe(60)
    expect(padded[1 + 4 * (2 + 5 * 1)]).toBe(1)
    expect(padded[2 + 4 * (4 + 5 * 2)]).toBe(12)
    expect(padded.reduce((a, b) => a + b, 0)).toBe(78)
    expect(Array.from(cropVolume(padded, [4, 5, 3], [2, 3, 2], [1, 2, 1]))).toEqual(Array.from(data))
    const out = new Float32Array(12)
    expect(cropVolume(padded, [4, 5, 3], [2, 3, 2], [1, 2, 1], out)).toBe(out)
    expect(out[11]).toBe(12)
  })

  it('rejects a block that does not fit', () => {
    expect(() => padVolume(new Float64Array(8), [2, 2, 2], [3, 3, 3], [2, 0, 0])).toThrow(/does not fit/)
    expect(() => cropVolume(new Float64Array(27), [3, 3, 3], [2, 2, 2], [0, 0, 0], new Float64Array(7))).toThrow(/holds 7/)
  })
})

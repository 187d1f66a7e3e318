import { describe, expect, it } from 'vitest'
import { fft3d, type Shape3 } from './fft3d.js'
import { halfShape, irfft3d, rfft3d } from './real-fft.js'

function randomReal(size: number, seed: number): Float64Array {
  let state = seed
  return new Float64Array(size).map(() => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32 - 0.5
  })
}

describe('rfft3d / irfft3d', () => {
  const shapes: Shape3[] = [
    [8, 6, 5],
    [12, 7, 3],
    [2, 3, 3],
    [34, 4, 2],
    [7, 5, 4],
    [1, 4, 4],
    [40, 1, 1],
  ]
  for (const shape of shapes) {
    it(`gives the first nx/2 + 1 columns of the complex FFT and inverts it on ${shape.join('x')}`, () => {
      const size = shape[0] * shape[1] * shape[2]
      const input = randomReal(size, size + 1)
      const re = input.slice()
      const im = new Float64Array(size)
      fft3d(re, im, shape)
      const spectrum = rfft3d(input, shape)
      const [hx] = halfShape(shape)
      let worst = 0
      for (let row = 0; row < shape[1] * shape[2]; row++) {
        for (let k = 0; k < hx; k++) {
          worst = Math.max(worst, Math.abs((spectrum.re[row * hx + k] as number) - (re[row * shape[0] + k] as number)))
          worst = Math.max(worst, Math.abs((spectrum.im[row * hx + k] as number) - (im[row * shape[0] + k] as number)))
        }
      }
      expect(worst).toBeLessThan(1e-12)
      const back = irfft3d(spectrum, shape, new Float32Array(size))
      let error = 0
      for (let i = 0; i < size; i++) error = Math.max(error, Math.abs((back[i] as number) - (input[i] as number)))
      expect(error).toBeLessThan(1e-6)
      expect(error).toBeGreaterThanOrEqual(0)
    })
  }

  it('round-trips float64 exactly to 1e-14 and leaves the input unchanged', () => {
    const shape: Shape3 = [30, 18, 10]
    const input = randomReal(5400, 5)
    const copy = input.slice()
    const back = irfft3d(rfft3d(input, shape), shape)
    expect(input).toEqual(copy)
    let error = 0
    for (let i = 0; i < 5400; i++) error = Math.max(error, Math.abs((back[i] as number) - (input[i] as number)))
    expect(error).toBeLessThan(1e-14)
  })

  it('rejects a wrongly sized output', () => {
    expect(() => rfft3d(new Float64Array(8), [2, 2, 2], { re: new Float64Array(3), im: new Float64Array(3) })).toThrow(/holds 8 values per part/)
  })
})

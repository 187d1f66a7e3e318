import { describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { resolveOptions, type DicomiseOptions } from './options.js'
import { chooseRescale, percentileWindow, prepareValues, quantiseSlice, storedValue, type Rescale } from './rescale.js'

/** Encodes one row of values and reads them back as a DICOM reader would. */
function encode(values: number[], options: DicomiseOptions = {}): { rescale: Rescale; back: number[]; stats: ReturnType<typeof prepareValues> } {
  const resolved = resolveOptions(options)
  const data = Float32Array.from(values)
  const stats = prepareValues(data, resolved)
  const rescale = chooseRescale(stats, resolved)
  const stored = rescale.pixel === 'signed' ? new Int16Array(data.length) : new Uint16Array(data.length)
  quantiseSlice(data, 0, { rows: 1, columns: data.length, flipRows: false }, rescale, stored)
  return { rescale, stats, back: Array.from(stored, (q) => q * rescale.slope + rescale.intercept) }
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (error) {
    return isPacsflowError(error) ? error.code : 'not a PacsflowError'
  }
  return undefined
}

describe('rescale', () => {
  it('stores QSM at 0.001 ppm per unit, intercept 0, and reads back within half a step', () => {
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 2.5)
    const { rescale, back } = encode(values)
    expect(rescale).toMatchObject({ slope: 0.001, intercept: 0, pixel: 'signed' })
    back.forEach((value, i) => expect(Math.abs(value - Math.fround(values[i]!))).toBeLessThanOrEqual(0.0005 + 1e-9))
  })

  it('takes the next coarser 1-2-5 step (with an offset) rather than clamping an out-of-range outlier', () => {
    const values = [-80, 0.1234, 50]
    const { rescale, back, stats } = encode(values)
    expect(rescale.slope).toBe(0.002)
    expect(rescale.intercept).toBeCloseTo(-14.464, 9)
    expect(stats.clamped).toBe(0)
    back.forEach((value, i) => expect(Math.abs(value - Math.fround(values[i]!))).toBeLessThanOrEqual(0.001 + 1e-9))
  })

  it('offsets unsigned storage so negative values fit (stored 32768 is 0 ppm)', () => {
    const { rescale, back } = encode([-0.3, 0, 0.25], { encoding: { pixel: 'unsigned' } })
    expect(rescale).toMatchObject({ slope: 0.001, intercept: -32.768, pixel: 'unsigned' })
    expect(back.map((v) => Math.round(v * 1000) / 1000)).toEqual([-0.3, 0, 0.25])
    const profile = encode([-1, 1], { profile: 'stealthstation' })
    expect(profile.rescale.pixel).toBe('unsigned')
  })

  it('chooses a fine step and an offset for one-signed data of a custom quantity', () => {
    const { rescale, back } = encode([1000, 1500.25, 4000], { quantity: { name: 'T1MAP', units: 'ms' } })
    expect(rescale.slope).toBe(0.05)
    expect(rescale.intercept).toBeCloseTo(2638.4, 9)
    expect(Math.abs(back[1]! - 1500.25)).toBeLessThanOrEqual(0.025 + 1e-9)
    const offset = encode([100000, 100001.5, 160000], { quantity: { name: 'BIG' } })
    expect(offset.rescale.slope).toBe(1)
    expect(offset.back).toEqual([100000, 100002, 160000])
  })

  it('clamps only when asked, and counts what it clamped', () => {
    const values = [-2, -0.2, 0.1, 0.9]
    expect(encode(values).stats.clamped).toBe(0)
    const clamped = encode(values, { encoding: { clamp: [-0.35, 0.35] } })
    expect(clamped.stats).toMatchObject({ clamped: 2, min: expect.closeTo(-0.35, 6), max: expect.closeTo(0.35, 6) })
    expect(clamped.back.map((v) => Math.round(v * 1000) / 1000)).toEqual([-0.35, -0.2, 0.1, 0.35])
  })

  it('replaces NaN and infinities by the fill value', () => {
    const { stats, back } = encode([Number.NaN, 0.5, Number.POSITIVE_INFINITY], { fill: -1 })
    expect(stats.empty).toBe(2)
    expect(back).toEqual([-1, 0.5, -1])
  })

  it('keeps labels exact with slope 1 and refuses labels that do not fit', () => {
    const { rescale, back } = encode([0, 3, 17, 1024], { quantity: 'labels' })
    expect(rescale).toMatchObject({ slope: 1, intercept: 0 })
    expect(back).toEqual([0, 3, 17, 1024])
    expect(codeOf(() => encode([0, 70000], { quantity: 'labels' }))).toBe('DICOMISE_RANGE')
  })

  it('refuses a fixed slope and intercept that would clamp', () => {
    expect(codeOf(() => encode([-40, 40], { encoding: { slope: 0.001 } }))).toBe('DICOMISE_RANGE')
    expect(encode([-40, 40], { encoding: { slope: 0.002 } }).rescale).toMatchObject({ slope: 0.002, intercept: 0 })
    expect(codeOf(() => encode([-40, 0], { encoding: { slope: 0.001, intercept: 100 } }))).toBe('DICOMISE_RANGE')
  })

  it('keeps the range of each slice: its stored values are the smallest and largest pixel', () => {
    const resolved = resolveOptions({})
    // Two slices of two rows of three; the second is quantised rows last-first (NIfTI to DICOM order).
    const data = Float32Array.of(0.5, -0.25, 0.001, 0, 0, 0, 1, 2, 3, 4, 5, 6)
    const stats = prepareValues(data, resolved, 6)
    expect(Array.from(stats.sliceMin)).toEqual([-0.25, 1])
    expect(Array.from(stats.sliceMax)).toEqual([0.5, 6])
    const rescale = chooseRescale(stats, resolved)
    const layout = { rows: 2, columns: 3, flipRows: true }
    const [first, second] = [new Int16Array(6), new Int16Array(6)]
    quantiseSlice(data, 0, layout, rescale, first)
    quantiseSlice(data, 1, layout, rescale, second)
    expect(Math.min(...first)).toBe(storedValue(stats.sliceMin[0]!, rescale))
    expect(Math.max(...first)).toBe(storedValue(stats.sliceMax[0]!, rescale))
    // Rows come last-first within each slice (NIfTI order to DICOM order).
    expect([...first, ...second]).toEqual([0, 0, 0, 500, -250, 1, 4000, 5000, 6000, 1000, 2000, 3000])
  })

  it('windows the 0.5th to 99.5th percentile by default', () => {
    const data = Float32Array.from({ length: 10000 }, (_, i) => (i < 20 ? 1000 : i % 100))
    const stats = prepareValues(data, resolveOptions({}))
    const window = percentileWindow(data, stats, 0.001)
    expect(window.center - window.width / 2).toBeLessThan(1)
    expect(window.center + window.width / 2).toBeGreaterThan(98)
    expect(window.center + window.width / 2).toBeLessThan(110)
  })

  it('takes the default window of a large volume from an even sample, within two bins of the exact percentiles', () => {
    // 3M voxels (over the sampling limit): a skewed, shuffled distribution, NaN-free.
    const data = new Float32Array(3_000_000)
    for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % data.length) / data.length
    for (let i = 0; i < data.length; i++) data[i] = data[i]! ** 3
    const stats = prepareValues(data, resolveOptions({}))
    const window = percentileWindow(data, stats, 1e-6)
    const sorted = Float32Array.from(data).sort()
    const bin = (stats.max - stats.min) / 4095
    const [low, high] = [window.center - window.width / 2, window.center + window.width / 2]
    expect(Math.abs(low - sorted[Math.floor(0.005 * data.length)]!)).toBeLessThan(2 * bin)
    expect(Math.abs(high - sorted[Math.floor(0.995 * data.length)]!)).toBeLessThan(2 * bin)
  })
})

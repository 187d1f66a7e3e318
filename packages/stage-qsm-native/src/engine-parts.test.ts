import type { Shape3 } from '@pacsflow/imaging'
import { describe, expect, it } from 'vitest'
import { boundingBox, fromBox, maskToBox, paddedBox, toBox } from './box.js'
import { b0InVoxelAxes } from './input.js'
import { DEFAULT_RTS_MU, DEFAULT_VSHARP_RADII_MM, resolveOptions } from './options.js'
import { referenceToMean } from './reference.js'
import { ellipsoid } from './test-support/synthetic.js'

describe('boxes', () => {
  it('bounds the mask, pads it to fast sizes and maps volumes in and out unchanged', () => {
    const shape: Shape3 = [30, 26, 20]
    const mask = ellipsoid(shape, [12, 14, 9], [6, 5, 4])
    expect(boundingBox(mask, shape)).toEqual({ offset: [6, 9, 5], shape: [13, 11, 9] })
    const box = paddedBox(mask, shape, [4, 4, 4])
    expect(box.shape).toEqual([24, 20, 18])
    const data = Float32Array.from({ length: 30 * 26 * 20 }, (_, i) => (mask[i] === 1 ? i : 0))
    const inside = toBox(data, shape, box)
    expect(inside.length).toBe(24 * 20 * 18)
    expect(Array.from(fromBox(inside, shape, box))).toEqual(Array.from(data))
    expect(maskToBox(mask, shape, box).reduce((a, b) => a + b, 0)).toBe(mask.reduce((a, b) => a + b, 0))
  })

  it('lets the padded box reach past the grid (zeros there) when the mask touches its edge', () => {
    const shape: Shape3 = [10, 10, 10]
    const mask = ellipsoid(shape, [1, 5, 5], [2, 2, 2])
    const box = paddedBox(mask, shape, [3, 3, 3])
    expect(box.inner.offset[0]).toBe(0)
    expect(box.at[0]).toBeGreaterThan(0)
    const data = Float32Array.from(mask)
    expect(Array.from(fromBox(toBox(data, shape, box), shape, box))).toEqual(Array.from(data))
  })

  it('an empty mask has no bounding box (QSM_INPUT)', () => {
    expect(() => boundingBox(new Uint8Array(8), [2, 2, 2])).toThrow(/mask is empty/)
  })
})

describe('referenceToMean', () => {
  it('subtracts the mean in the mask and zeroes the outside', () => {
    const chi = Float64Array.from([1, 2, 3, 10])
    expect(referenceToMean(chi, Uint8Array.from([1, 1, 1, 0]))).toBe(2)
    expect(Array.from(chi)).toEqual([-1, 0, 1, 0])
  })
})

describe('b0InVoxelAxes', () => {
  it('is z for an axial grid and follows a tilted slab', () => {
    const axial = [[-1.5, 0, 0, 90], [0, 1.5, 0, -100], [0, 0, 2, -50], [0, 0, 0, 1]] as const
    expect(b0InVoxelAxes(axial)).toEqual([0, 0, 1])
    const t = (15 * Math.PI) / 180
    const tilted = [[1, 0, 0, 0], [0, Math.cos(t), -Math.sin(t), 0], [0, Math.sin(t), Math.cos(t), 0], [0, 0, 0, 1]] as const
    const b = b0InVoxelAxes(tilted)
    expect(b[0]).toBeCloseTo(0, 12)
    expect(b[1]).toBeCloseTo(Math.sin(t), 12)
    expect(b[2]).toBeCloseTo(Math.cos(t), 12)
  })
})

describe('resolveOptions', () => {
  it('fills in the defaults', () => {
    const o = resolveOptions()
    expect(o).toMatchObject({ name: 'qsm-native', background: 'single-step', inversion: 'rts', unwrapping: 'wrapped', phaseOffset: 'fit', tkdThreshold: 0.15 })
    expect(o.singleStep).toEqual({ radiiMm: [6, 3], lambda: 1e-4, reweightings: 5, iterations: 10 })
    expect(o.vsharpRadiiMm).toEqual(DEFAULT_VSHARP_RADII_MM)
    expect(o.rts).toMatchObject({ delta: 0.15, mu: DEFAULT_RTS_MU, rho: 10, tolerance: 0.01, maxIterations: 20 })
    expect(DEFAULT_RTS_MU).toBe(1e3)
  })

  it.each([
    [{ background: 'sharp' }, /background must be one of single-step, vsharp, pdf/],
    [{ inversion: 'medi' }, /inversion must be one of rts, tkd, single-step/],
    [{ background: 'pdf', inversion: 'single-step' }, /inversion 'single-step' needs background 'single-step', got 'pdf'/],
    [{ singleStep: { lambda: 0 } }, /singleStep.lambda must be a number from 1e-9 to 1/],
    [{ singleStep: { radiiMm: [6, 0] } }, /singleStep.radiiMm\[1\] must be a number/],
    [{ singleStep: { reweightings: 1.5 } }, /singleStep.reweightings must be an integer/],
    [{ threads: 65 }, /threads must be an integer from 1 to 64/],
    [{ vsharpRadiiMm: [] }, /vsharpRadiiMm must be a non-empty array/],
    [{ vsharpRadiiMm: [6, -1] }, /vsharpRadiiMm\[1\] must be a number/],
    [{ tkdThreshold: 0.9 }, /tkdThreshold must be a number from 0.001 to 0.666/],
    [{ rts: { maxIterations: 2.5 } }, /rts.maxIterations must be an integer/],
    [{ paddingMm: -1 }, /paddingMm must be a number from 0/],
    [{ mask: { file: '' } }, /mask.file must be a path/],
    [{ mask: { threshold: 2 } }, /mask.threshold must be a number from 0 to 1/],
    [{ gzip: 'yes' }, /gzip must be true or false/],
  ])('rejects %j with INVALID_OPTIONS', (options, message) => {
    expect(() => resolveOptions(options as never)).toThrow(message)
  })
})

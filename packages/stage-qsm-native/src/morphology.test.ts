import type { Shape3 } from '@pacsflow/imaging'
import { describe, expect, it } from 'vitest'
import { brainMask, otsuThreshold, percentile } from './brain-mask.js'
import { connectedComponents, countMask, dilate, erode, fillHoles, largestComponent, squaredDistance } from './morphology.js'
import { ellipsoid, gaussian, seeded } from './test-support/synthetic.js'

describe('squaredDistance', () => {
  it('equals the brute-force nearest-feature distance for anisotropic voxels', () => {
    const shape: Shape3 = [9, 7, 6]
    const voxel = [1, 1.5, 2.5]
    const random = seeded(3)
    const feature = new Uint8Array(9 * 7 * 6).map(() => (random() < 0.04 ? 1 : 0))
    feature[5] = 1
    const d2 = squaredDistance(feature, shape, voxel)
    const points: [number, number, number][] = []
    for (let i = 0; i < feature.length; i++) if (feature[i] === 1) points.push([i % 9, Math.floor(i / 9) % 7, Math.floor(i / 63)])
    for (let i = 0; i < feature.length; i++) {
      const [x, y, z] = [i % 9, Math.floor(i / 9) % 7, Math.floor(i / 63)]
      const want = Math.min(...points.map(([a, b, c]) => ((x - a) * voxel[0]!) ** 2 + ((y - b) * voxel[1]!) ** 2 + ((z - c) * voxel[2]!) ** 2))
      expect(d2[i]).toBeCloseTo(want, 9)
    }
  })

  it('is Infinity everywhere without features', () => {
    expect(squaredDistance(new Uint8Array(8), [2, 2, 2], [1, 1, 1]).every((v) => v === Number.POSITIVE_INFINITY)).toBe(true)
  })
})

describe('erode / dilate', () => {
  it('erodes a ball of radius 8 by 3 mm to the ball of radius 5, and dilates it back', () => {
    const shape: Shape3 = [25, 25, 25]
    const ball = ellipsoid(shape, [12, 12, 12], [8, 8, 8])
    const eroded = erode(ball, shape, [1, 1, 1], 3)
    const inner = ellipsoid(shape, [12, 12, 12], [5, 5, 5])
    let differ = 0
    for (let i = 0; i < ball.length; i++) if (eroded[i] !== inner[i]) differ++
    // voxels on the discrete sphere's surface may go either way
    expect(differ).toBeLessThan(0.15 * countMask(inner))
    expect(countMask(eroded)).toBeLessThan(countMask(ball))
    const dilated = dilate(eroded, shape, [1, 1, 1], 3)
    let outside = 0
    for (let i = 0; i < ball.length; i++) if (dilated[i] === 1 && ball[i] === 0) outside++
    expect(outside).toBeLessThan(0.05 * countMask(ball))
    expect(countMask(dilated)).toBeGreaterThan(0.9 * countMask(ball))
  })
})

describe('components and holes', () => {
  it('labels separate blobs, keeps the largest, fills an enclosed cavity but not an open notch', () => {
    const shape: Shape3 = [20, 20, 20]
    const big = ellipsoid(shape, [7, 10, 10], [5, 6, 6])
    const small = ellipsoid(shape, [16, 10, 10], [2, 2, 2])
    const both = big.map((v, i) => v | small[i]!)
    const { sizes } = connectedComponents(both, shape)
    expect(sizes.length).toBe(3)
    expect(countMask(largestComponent(both, shape))).toBe(countMask(big))
    const cavity = ellipsoid(shape, [7, 10, 10], [2, 2, 2])
    const hollow = big.map((v, i) => v & (1 - cavity[i]!))
    expect(countMask(fillHoles(hollow, shape))).toBe(countMask(big))
    // a notch open to the outside stays open
    const notch = hollow.slice()
    for (let x = 0; x < 20; x++) notch[x + 20 * (10 + 20 * 10)] = 0
    expect(countMask(fillHoles(notch, shape))).toBe(countMask(notch))
  })
})

describe('otsuThreshold', () => {
  it('splits two clusters between their modes', () => {
    const noise = gaussian(seeded(1))
    const values = Float32Array.from({ length: 20000 }, (_, i) => (i < 12000 ? Math.abs(5 + 2 * noise()) : 100 + 8 * noise()))
    const t = otsuThreshold(values)
    expect(t).toBeGreaterThan(20)
    expect(t).toBeLessThan(85)
    expect(percentile(Float32Array.from({ length: 1001 }, (_, i) => i), 0.5)).toBeCloseTo(500, -1)
  })
})

describe('brainMask', () => {
  it('keeps the brain, fills a dark nucleus inside it, and drops the scalp beyond a dark skull', () => {
    const shape: Shape3 = [48, 48, 40]
    const brain = ellipsoid(shape, [24, 24, 20], [15, 17, 13])
    const skullOuter = ellipsoid(shape, [24, 24, 20], [19, 21, 17])
    const head = ellipsoid(shape, [24, 24, 20], [21, 23, 19])
    const nucleus = ellipsoid(shape, [20, 24, 20], [2.5, 2.5, 2.5])
    const noise = gaussian(seeded(9))
    const magnitudes = [0, 1].map((echo) =>
      Float32Array.from(brain, (inBrain, i) => {
        const tissue = nucleus[i] === 1 ? 0.05 : inBrain === 1 ? 1 - 0.2 * echo : head[i] === 1 && skullOuter[i] === 0 ? 0.9 : 0
        return Math.hypot(tissue + 0.02 * noise(), 0.02 * noise())
      }),
    )
    const mask = brainMask(magnitudes, shape, [1, 1, 1], { erodeMm: 0 })
    // by default the outermost voxel layer (partial volume with the skull) goes
    const eroded = brainMask(magnitudes, shape, [1, 1, 1])
    expect(countMask(eroded)).toBeLessThan(countMask(mask) - 1000)
    expect(countMask(eroded)).toBeGreaterThan(0.7 * countMask(mask))
    let wrong = 0
    for (let i = 0; i < mask.length; i++) if (mask[i] !== brain[i]) wrong++
    expect(wrong).toBeLessThan(0.02 * countMask(brain))
    expect(mask[20 + 48 * (24 + 48 * 20)]).toBe(1)
    // no scalp voxel
    for (let i = 0; i < mask.length; i++) if (skullOuter[i] === 0) expect(mask[i]).toBe(0)
  })

  it('throws QSM_INPUT for an empty magnitude', () => {
    expect(() => brainMask([new Float32Array(27)], [3, 3, 3], [1, 1, 1])).toThrow(/empty brain mask/)
  })
})

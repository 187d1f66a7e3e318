import type { Shape3 } from '@pacsflow/imaging'
import { describe, expect, it } from 'vitest'
import { rts } from './inversion.js'
import { pdf } from './pdf.js'
import { fieldWeights, singleStepQsm } from './single-step.js'
import { ellipsoid, forwardField, gaussian, nrmse, seeded } from './test-support/synthetic.js'

const shape: Shape3 = [44, 48, 40]
const voxelSizeMm = [1.5, 1.5, 1.5]
const b0 = [0, 0, 1]
const grid = { shape, voxelSizeMm, b0DirectionVoxel: b0 }
const size = shape[0] * shape[1] * shape[2]
const centre = [22, 24, 20]
const mask = ellipsoid(shape, centre, [15, 17, 13])

/**
 * A small head: a 3-voxel cortex-like shell of +0.05 ppm over a core of -0.03 (the broad contrast
 * whose field is nearly harmonic inside), a ball of 0.15 inside, and a -9 ppm "sinus" outside the mask.
 */
function phantom(): { inside: Float64Array; outside: Float64Array } {
  const core = ellipsoid(shape, centre, [12, 14, 10])
  const nucleus = ellipsoid(shape, [26, 20, 22], [3, 3, 3])
  const sinus = ellipsoid(shape, [22, 24, 3], [5, 4, 2])
  const inside = new Float64Array(size)
  const outside = new Float64Array(size)
  for (let i = 0; i < size; i++) {
    if (mask[i] === 1) inside[i] = nucleus[i] === 1 ? 0.15 : core[i] === 1 ? -0.03 : 0.05
    else if (sinus[i] === 1) outside[i] = -9
  }
  return { inside, outside }
}

function plus(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v + (b[i] as number))
}

describe('singleStepQsm', () => {
  it('recovers the inside susceptibility under a strong background field, where PDF + RTS loses the broad contrast', async () => {
    const { inside, outside } = phantom()
    const noise = gaussian(seeded(3))
    const field = plus(forwardField(plus(inside, outside), shape, voxelSizeMm, b0), Float64Array.from({ length: size }, () => 2e-4 * noise()))
    let last = 0
    let monotone = true
    const result = await singleStepQsm(field, mask, grid, {
      onProgress: (f) => {
        monotone &&= f >= last
        last = f
      },
    })
    const oneStep = nrmse(result.chi, inside, mask)
    const removed = await pdf(field, mask, grid)
    const twoStep = nrmse(await rts(removed.local, removed.mask, grid), inside, mask)
    // measured: one step 27.3 %, PDF + RTS 81.5 %
    expect(oneStep).toBeLessThan(35)
    expect(oneStep).toBeLessThan(0.6 * twoStep)
    expect(last).toBe(1)
    expect(monotone).toBe(true)
    // zero outside the mask; the local field it returns is the field of chi
    for (let i = 0; i < size; i++) if (mask[i] === 0) expect(result.chi[i]).toBe(0)
    expect(nrmse(result.local, forwardField(inside, shape, voxelSizeMm, b0), mask)).toBeLessThan(30)
  })

  it('puts (almost) nothing into the mask for a background field alone', async () => {
    const { outside } = phantom()
    const field = forwardField(outside, shape, voxelSizeMm, b0)
    let fieldRms = 0
    let count = 0
    for (let i = 0; i < size; i++) {
      if (mask[i] !== 1) continue
      fieldRms += (field[i] as number) ** 2
      count++
    }
    fieldRms = Math.sqrt(fieldRms / count)
    expect(fieldRms).toBeGreaterThan(0.02)
    const { chi } = await singleStepQsm(field, mask, grid)
    let chiRms = 0
    for (let i = 0; i < size; i++) if (mask[i] === 1) chiRms += (chi[i] as number) ** 2
    chiRms = Math.sqrt(chiRms / count)
    // Any inversion that takes the background for tissue gives chi of the field's order (|D| <= 2/3);
    // here it leaves a few percent of it (measured 3.3 %), near the sinus 3 mm from the mask.
    expect(chiRms).toBeLessThan(0.05 * fieldRms)
  })

  it('validates its options and input', async () => {
    const field = new Float64Array(size)
    await expect(singleStepQsm(field, mask, grid, { radiiMm: [-1] })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    await expect(singleStepQsm(field, mask, grid, { radiiMm: [1] })).rejects.toThrow(/smallest radius/)
    await expect(singleStepQsm(field, mask, grid, { lambda: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    await expect(singleStepQsm(field, mask, grid, { iterations: 2.5 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    await expect(singleStepQsm(field.subarray(1), mask, grid)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    await expect(singleStepQsm(field, mask, grid, { weights: new Float64Array(3) })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    const thin = ellipsoid(shape, centre, [2, 2, 2])
    await expect(singleStepQsm(field, thin, grid, { radiiMm: [6] })).rejects.toMatchObject({ code: 'QSM_INPUT' })
  })

  it('stops when the signal aborts', async () => {
    const controller = new AbortController()
    let calls = 0
    const { inside } = phantom()
    const run = singleStepQsm(forwardField(inside, shape, voxelSizeMm, b0), mask, grid, {
      signal: controller.signal,
      onProgress: () => {
        if (++calls === 3) controller.abort(new Error('stop'))
      },
    })
    await expect(run).rejects.toThrow('stop')
    expect(calls).toBe(3)
  })
})

describe('fieldWeights', () => {
  it('is the inverse standard deviation of the fitted slope (up to the noise level)', () => {
    const m = Float64Array.from([2, 0, 5])
    const [w] = [fieldWeights([m, m], [10, 30])]
    // equal magnitudes, two echoes: sqrt(sum m^2 (t - tbar)^2) = m |t2 - t1| / sqrt(2)
    expect(w[0]).toBeCloseTo((2 * 0.02) / Math.SQRT2, 12)
    expect(w[1]).toBe(0)
    expect(w[2]).toBeCloseTo((5 * 0.02) / Math.SQRT2, 12)
    const origin = fieldWeights([m, m], [10, 30], 'none')
    expect(origin[0]).toBeCloseTo(2 * Math.hypot(0.01, 0.03), 12)
    // a later echo with less signal counts for less than the same echo at full signal
    const decayed = fieldWeights([m, Float64Array.from(m, (v) => v / 2)], [10, 30])
    expect(decayed[0]).toBeLessThan(w[0]!)
    expect(() => fieldWeights([m], [10, 20])).toThrow(/one echo time per magnitude/)
  })
})

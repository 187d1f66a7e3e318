import { describe, expect, it } from 'vitest'
import { phaseRadiansScaling, phaseToRadians } from './phase.js'

describe('phase to radians', () => {
  it('maps Siemens 12-bit stored phase 0..4095 onto [-pi, pi)', () => {
    const { slope, intercept } = phaseRadiansScaling({ bitsStored: 12, pixelRepresentation: 0 })
    expect(0 * slope + intercept).toBeCloseTo(-Math.PI, 12)
    expect(2048 * slope + intercept).toBeCloseTo(0, 12)
    expect(4095 * slope + intercept).toBeCloseTo(Math.PI - (2 * Math.PI) / 4096, 12)
    // The same as reading the rescaled value (2s - 4096) as a fraction of 4096 * pi.
    for (const s of [0, 17, 2047, 4095]) expect(s * slope + intercept).toBeCloseTo(((2 * s - 4096) / 4096) * Math.PI, 12)
  })

  it('centres signed storage on zero', () => {
    const { slope, intercept } = phaseRadiansScaling({ bitsStored: 16, pixelRepresentation: 1 })
    expect(-32768 * slope + intercept).toBeCloseTo(-Math.PI, 12)
    expect(0 * slope + intercept).toBeCloseTo(0, 12)
  })

  it('rescales any known range', () => {
    expect(Array.from(phaseToRadians([-3142, 0, 3142], { min: -3142, max: 3142 }))).toEqual([
      Math.fround(-Math.PI),
      0,
      Math.fround(Math.PI),
    ])
  })
})

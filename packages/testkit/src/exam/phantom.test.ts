// The phantom: labels where the anatomy puts them, sane volumes, partial volume at edges, the same head on any grid.
import { describe, expect, it } from 'vitest'
import { AXIAL, niftiGeometry, rasToLps, rotate, rotationXYZ, type AcquisitionGrid } from './grid.js'
import { classify, HEAD, SINUS, STRUCTURES } from './phantom.js'
import { headFromVoxelAffine, sampleGrid } from './sample.js'
import { LABEL, TISSUES, tissueTable } from './tissues.js'

const atHeadCentre = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
] as const

function sample(grid: AcquisitionGrid, properties = [tissueTable((t) => t.chi)]) {
  const geometry = niftiGeometry(grid)
  return sampleGrid({ dims: geometry.dims, headFromVoxel: headFromVoxelAffine(rasToLps(geometry.affine), atHeadCentre), properties })
}

/** A 3 mm grid over the whole head (the small preset's), optionally tilted. */
const grid = (oblique = 0): AcquisitionGrid => ({ dims: [64, 64, 48], voxelMm: [3, 3, 3], axes: rotate(rotationXYZ(oblique, oblique), AXIAL), centreLps: [0, 0, 0] })

describe('classify', () => {
  it('finds each structure at its centre and the layers from the outside in', () => {
    for (const shape of STRUCTURES) {
      const centre = shape.kind === 'tube' ? shape.from.map((v, i) => (v + shape.to[i]!) / 2) : shape.centre
      expect(classify(centre[0]!, centre[1]!, centre[2]!), JSON.stringify(shape)).toBe(shape.label)
    }
    expect(classify(0, 0, 70)).toBe(LABEL.air)
    expect(classify(0, 0, 64)).toBe(LABEL.scalp)
    expect(classify(0, 0, 60)).toBe(LABEL.skull)
    expect(classify(0, 0, HEAD.brain.centre[2] + HEAD.brain.semiAxes[2] + 1)).toBe(LABEL.outerCsf)
    expect(classify(...SINUS.centre)).toBe(LABEL.sinus)
    expect(classify(40, 0, 7)).toBe(LABEL.whiteMatter)
    expect(classify(58, 0, 7)).toBe(LABEL.greyMatter)
  })

  it('keeps the head inside the small and default fields of view (192 x 192 x 144 mm), also tilted 20 degrees', () => {
    for (const oblique of [0, 20]) {
      const { labels } = sample(grid(oblique))
      const [nx, ny, nz] = [64, 64, 48]
      let onBorder = 0
      for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
        const border = x === 0 || y === 0 || z === 0 || x === nx - 1 || y === ny - 1 || z === nz - 1
        if (border && labels[x + nx * (y + ny * z)] !== LABEL.air) onBorder++
      }
      expect(onBorder, `oblique ${oblique}`).toBe(0)
    }
  })
})

describe('sampleGrid', () => {
  const counts = (labels: Uint8Array): number[] => {
    const out = new Array<number>(TISSUES.length).fill(0)
    for (const label of labels) out[label]!++
    return out
  }

  it('gives each structure about its geometric volume', () => {
    const { labels } = sample({ dims: [128, 128, 96], voxelMm: [1.5, 1.5, 1.5], axes: AXIAL, centreLps: [0, 0, 0] })
    const ml = counts(labels).map((n) => (n * 1.5 ** 3) / 1000)
    const brain = TISSUES.filter((t) => t.brain).reduce((sum, t) => sum + ml[t.label]!, 0)
    const [a, b, c] = HEAD.brain.semiAxes
    expect(brain).toBeCloseTo(((4 / 3) * Math.PI * a * b * c) / 1000, -1) // 884 ml, within 5 ml
    const greyFraction = ml[LABEL.greyMatter]! / brain
    expect(greyFraction).toBeGreaterThan(0.3)
    expect(greyFraction).toBeLessThan(0.5)
    // Two globus pallidus ellipsoids of 3.5 x 9 x 6 mm: 1.58 ml.
    expect(ml[LABEL.globusPallidus]).toBeCloseTo(1.58, 0)
    expect(ml[LABEL.redNucleus]).toBeGreaterThan(0.2)
    expect(ml[LABEL.calcification]).toBeGreaterThan(0.04)
    expect(ml[LABEL.sinus]).toBeGreaterThan(1)
    for (const tissue of TISSUES) expect(ml[tissue.label], tissue.name).toBeGreaterThan(0)
  })

  it('averages tissue values over sub-voxels at edges, within the range of the tissues there', () => {
    const { labels, values, edgeVoxels } = sample(grid())
    const chi = values[0]!
    expect(edgeVoxels).toBeGreaterThan(1000)
    const chis = TISSUES.map((t) => t.chi)
    let partial = 0
    let [low, high] = [Infinity, -Infinity]
    for (let i = 0; i < chi.length; i++) {
      low = Math.min(low, chi[i]!)
      high = Math.max(high, chi[i]!)
      if (Math.abs(chi[i]! - TISSUES[labels[i]!]!.chi) > 1e-6) partial++
    }
    expect(low).toBeGreaterThanOrEqual(Math.min(...chis) - 1e-6)
    expect(high).toBeLessThanOrEqual(Math.max(...chis) + 1e-6)
    expect(partial).toBeGreaterThan(500)
  })

  it('is the same head on an oblique grid: equal brain volume within 1 %', () => {
    const brainVoxels = (labels: Uint8Array): number => labels.reduce((n, label) => n + (TISSUES[label]!.brain ? 1 : 0), 0)
    const axial = brainVoxels(sample(grid()).labels)
    const oblique = brainVoxels(sample(grid(15)).labels)
    expect(Math.abs(oblique - axial) / axial).toBeLessThan(0.01)
  })
})

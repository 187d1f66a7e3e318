import { describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { apply, lpsToRas, type Mat4, type Vec3 } from '@pacsflow/imaging'
import { orientationLetters, ownGrid, squarePixels, type OutputGrid } from './geometry.js'

/** Rotation about x by a, then z by b (degrees), times voxel sizes, plus an origin: a RAS affine. */
function affine(a: number, b: number, sizes: Vec3, origin: Vec3, axes: [number, number, number] = [0, 1, 2]): Mat4 {
  const [ca, sa, cb, sb] = [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180), Math.cos((b * Math.PI) / 180), Math.sin((b * Math.PI) / 180)]
  const rx = [[1, 0, 0], [0, ca, -sa], [0, sa, ca]]
  const rz = [[cb, -sb, 0], [sb, cb, 0], [0, 0, 1]]
  const r = rz.map((row) => [0, 1, 2].map((j) => row[0]! * rx[0]![j]! + row[1]! * rx[1]![j]! + row[2]! * rx[2]![j]!))
  // Column c of the result is world direction axes[c] of the rotation, scaled.
  const col = (c: number): Vec3 => [r[0]![axes[c]!]! * sizes[c]!, r[1]![axes[c]!]! * sizes[c]!, r[2]![axes[c]!]! * sizes[c]!]
  const [x, y, z] = [col(0), col(1), col(2)]
  return [
    [x[0], y[0], z[0], origin[0]],
    [x[1], y[1], z[1], origin[1]],
    [x[2], y[2], z[2], origin[2]],
    [0, 0, 0, 1],
  ]
}

const reference: OutputGrid = {
  columns: 4,
  rows: 4,
  slices: 3,
  affineLps: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, -2], [0, 0, 0, 1]],
  orientation: [1, 0, 0, 0, 1, 0],
  pixelSpacing: [1, 1],
  positions: [[0, 0, -2], [0, 0, 0], [0, 0, 2]],
  sliceSpacing: 2,
  sliceThickness: 2,
  sources: ['a', 'b', 'c'].map((uid) => ({ sopClassUid: '1.2', sopInstanceUid: uid })),
}

const close = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])

describe('ownGrid', () => {
  const cases = {
    axial: affine(0, 0, [0.9, 1.1, 2], [-40, -30, -10]),
    sagittal: affine(0, 0, [1.2, 1, 1.5], [20, -50, -40], [1, 2, 0]),
    coronal: affine(0, 0, [1, 1.3, 2.5], [-40, 30, -30], [0, 2, 1]),
    oblique: affine(17, -23, [0.8, 0.8, 1.6], [-12, 7, 3]),
    'left-handed': affine(5, 0, [1, 1, -2], [0, 0, 10]),
  }
  for (const [name, ras] of Object.entries(cases)) {
    it(`places every pixel of a ${name} NIfTI where the NIfTI has it`, () => {
      const dims = [5, 4, 3] as const
      const grid = ownGrid(ras, dims, reference)
      const lps = lpsToRas(ras)
      for (let k = 0; k < 3; k++) {
        expect(close(grid.positions[k]!, apply(grid.affineLps, [0, 0, k]))).toBeLessThan(1e-9)
        for (let j = 0; j < 4; j++) {
          for (let i = 0; i < 5; i++) expect(close(apply(grid.affineLps, [i, 3 - j, k]), apply(lps, [i, j, k]))).toBeLessThan(1e-9)
        }
      }
      const [u, v] = [grid.orientation.slice(0, 3), grid.orientation.slice(3)] as [number[], number[]]
      expect(Math.hypot(...u)).toBeCloseTo(1, 12)
      expect(Math.hypot(...v)).toBeCloseTo(1, 12)
      expect(u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!).toBeCloseTo(0, 12)
      expect(grid.sources).toHaveLength(3)
    })
  }

  it('refuses a sheared grid', () => {
    const sheared: Mat4 = [[1, 0.3, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    let code: string | undefined
    try {
      ownGrid(sheared, [2, 2, 2], reference)
    } catch (error) {
      code = isPacsflowError(error) ? error.code : 'other'
    }
    expect(code).toBe('DICOMISE_INPUT')
  })

  it('cites the reference slice through the centre of each output slice', () => {
    const axial = ownGrid([[-1, 0, 0, 1.5], [0, -1, 0, 1.5], [0, 0, 2, -2.2], [0, 0, 0, 1]], [4, 4, 3], reference)
    expect(axial.sources.map((s) => s.sopInstanceUid)).toEqual(['a', 'b', 'c'])
  })
})

describe('squarePixels', () => {
  it('resamples rows and columns to the finer spacing, keeping the field of view and the slice planes', () => {
    const grid = ownGrid(affine(0, 10, [0.8, 1.2, 2], [-20, -20, 0]), [50, 40, 6], reference)
    const square = squarePixels(grid)
    expect(square.pixelSpacing[0]).toBe(square.pixelSpacing[1])
    expect(square.pixelSpacing[0]).toBeCloseTo(0.8, 12)
    expect([square.columns, square.rows]).toEqual([50, 60])
    const edge = (g: OutputGrid): Vec3 => apply(g.affineLps, [-0.5, -0.5, 0])
    const far = (g: OutputGrid): Vec3 => apply(g.affineLps, [g.columns - 0.5, g.rows - 0.5, 5])
    expect(close(edge(square), edge(grid))).toBeLessThan(1e-9)
    expect(close(far(square), far(grid))).toBeLessThan(1e-9)
    expect(squarePixels(square)).toBe(square)
  })
})

describe('orientationLetters', () => {
  it('names directions, the main one first', () => {
    expect(orientationLetters([1, 0, 0])).toBe('L')
    expect(orientationLetters([0, -1, 0])).toBe('A')
    expect(orientationLetters([0, 0, -1])).toBe('F')
    expect(orientationLetters([-0.2, 0.97, 0.1])).toBe('PRH')
  })
})

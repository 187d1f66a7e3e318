// Grid geometry: the NIfTI layout and index mapping of axial, sagittal and oblique stacks, and B0 in voxel axes.
import { describe, expect, it } from 'vitest'
import { apply, lpsToRas } from '@pacsflow/imaging'
import { AXIAL, b0DirectionInVoxels, dicomAffineLps, niftiGeometry, rotate, rotationXYZ, rotateVector, SAGITTAL, type AcquisitionGrid, type Vec3 } from './grid.js'

const grids: Record<string, AcquisitionGrid> = {
  axial: { dims: [8, 6, 5], voxelMm: [1.5, 1.5, 2], axes: AXIAL, centreLps: [2, 20, 35] },
  sagittal: { dims: [7, 6, 4], voxelMm: [1, 1, 1.2], axes: SAGITTAL, centreLps: [0, 0, 0] },
  oblique: { dims: [8, 6, 5], voxelMm: [1.5, 1.5, 1.5], axes: rotate(rotationXYZ(15, 15), AXIAL), centreLps: [2, 20, 35] },
}

describe('niftiGeometry', () => {
  it.each(Object.entries(grids))('%s: every DICOM voxel lands on the NIfTI voxel at the same place', (_, grid) => {
    const geometry = niftiGeometry(grid)
    const dicom = lpsToRas(dicomAffineLps(grid))
    const [nx, ny] = geometry.dims
    const seen = new Set<number>()
    for (let s = 0; s < grid.dims[2]; s++) {
      for (let r = 0; r < grid.dims[1]; r++) {
        for (let c = 0; c < grid.dims[0]; c++) {
          const index = geometry.base + c * geometry.strides[0] + r * geometry.strides[1] + s * geometry.strides[2]
          const voxel: Vec3 = [index % nx, Math.floor(index / nx) % ny, Math.floor(index / (nx * ny))]
          const a = apply(dicom, [c, r, s])
          const b = apply(geometry.affine, voxel)
          expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(1e-9)
          seen.add(index)
        }
      }
    }
    expect(seen.size).toBe(grid.dims[0] * grid.dims[1] * grid.dims[2])
  })

  it('lays an axial stack out as dcm2niix does: a positive diagonal RAS affine', () => {
    const { affine, dims } = niftiGeometry(grids.axial!)
    expect(dims).toEqual([8, 6, 5])
    expect([affine[0][0], affine[1][1], affine[2][2]]).toEqual([1.5, 1.5, 2])
    expect([affine[0][1], affine[0][2], affine[1][0], affine[1][2], affine[2][0], affine[2][1]].every((v) => v === 0)).toBe(true)
  })

  it('puts a sagittal stack in RAS order (x = the slice axis)', () => {
    const { affine, dims } = niftiGeometry(grids.sagittal!)
    expect(dims).toEqual([4, 7, 6])
    expect(affine[0][0]).toBeCloseTo(1.2, 12)
    expect(affine[1][1]).toBeCloseTo(1, 12)
    expect(affine[2][2]).toBeCloseTo(1, 12)
  })
})

describe('b0DirectionInVoxels', () => {
  it('is [0, 0, 1] for an axial stack', () => {
    const b = b0DirectionInVoxels(niftiGeometry(grids.axial!).affine)
    expect(Math.abs(b[0]) + Math.abs(b[1])).toBe(0)
    expect(b[2]).toBe(1)
  })

  it('is world z seen from the oblique voxel axes', () => {
    const { affine } = niftiGeometry(grids.oblique!)
    const b = b0DirectionInVoxels(affine)
    expect(Math.hypot(...b)).toBeCloseTo(1, 12)
    // The voxel axes' unit vectors, weighted by b, add up to world z.
    const axes = [0, 1, 2].map((i) => [affine[0][i]!, affine[1][i]!, affine[2][i]!].map((v) => v / 1.5))
    const world = [0, 1, 2].map((w) => axes.reduce((sum, axis, i) => sum + axis[w]! * b[i]!, 0))
    expect(world[0]).toBeCloseTo(0, 12)
    expect(world[1]).toBeCloseTo(0, 12)
    expect(world[2]).toBeCloseTo(1, 12)
    // 15 degrees about two axes: B0 is about 21 degrees off the slice axis.
    expect((Math.acos(Math.abs(b[2])) * 180) / Math.PI).toBeCloseTo(21.1, 1)
  })
})

describe('rotationXYZ', () => {
  it('turns x into y for 90 degrees about z, and keeps vectors unit length', () => {
    const r = rotationXYZ(0, 0, 90)
    const v = rotateVector(r, [1, 0, 0])
    expect(v[0]).toBeCloseTo(0, 12)
    expect(v[1]).toBeCloseTo(1, 12)
    const w = rotateVector(rotationXYZ(20, -35, 10), [0.3, -0.4, 0.5])
    expect(Math.hypot(...w)).toBeCloseTo(Math.hypot(0.3, -0.4, 0.5), 12)
  })
})

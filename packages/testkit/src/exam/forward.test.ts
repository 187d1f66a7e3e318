// The forward model against the analytic field of a uniformly magnetised sphere, axial and oblique.
import { describe, expect, it } from 'vitest'
import { apply } from '@pacsflow/imaging'
import { dipoleFields, sphereField, type DipoleKernelKind } from './forward.js'
import { AXIAL, b0DirectionInVoxels, niftiGeometry, rasToLps, rotate, rotationXYZ, voxelSpacing, type AcquisitionGrid, type Vec3 } from './grid.js'

const RADIUS = 6
const CHI = 1

/** A sphere of radius RADIUS mm at the world origin, sampled with 4^3 sub-voxels, on a grid. */
function sphereOn(grid: AcquisitionGrid) {
  const geometry = niftiGeometry(grid)
  const world = rasToLps(geometry.affine)
  const [nx, ny, nz] = geometry.dims
  const chi = new Float32Array(nx * ny * nz)
  const positions: Vec3[] = []
  const n = 4
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const centre = apply(world, [x, y, z])
    positions.push(centre)
    if (Math.hypot(...centre) > RADIUS + 2) continue
    let inside = 0
    for (let c = 0; c < n; c++) for (let b = 0; b < n; b++) for (let a = 0; a < n; a++) {
      const p = apply(world, [x + (a + 0.5) / n - 0.5, y + (b + 0.5) / n - 0.5, z + (c + 0.5) / n - 0.5])
      if (Math.hypot(...p) <= RADIUS) inside++
    }
    chi[i] = (CHI * inside) / n ** 3
  }
  return { geometry, chi, positions }
}

/** The largest deviation from the analytic field (B0 along world z) at voxels 1.5 radii or more from the centre, and the mean inside. */
function compare(grid: AcquisitionGrid, b0Voxel: Vec3, kernelA: DipoleKernelKind = 'continuous') {
  const { geometry, chi, positions } = sphereOn(grid)
  const { a: field } = dipoleFields(chi, undefined, { dims: geometry.dims, voxelMm: voxelSpacing(geometry.affine) as unknown as [number, number, number], b0Voxel, kernelA })
  let worst = 0
  let squares = 0
  let shell = 0
  let insideSum = 0
  let insideCount = 0
  let peak = 0
  positions.forEach((p, i) => {
    const r = Math.hypot(...p)
    if (r < RADIUS - 1) {
      insideSum += field[i]!
      insideCount++
    } else if (r >= 1.5 * RADIUS && r < 3 * RADIUS) {
      const expected = sphereField(CHI, RADIUS, p, [0, 0, 1])
      peak = Math.max(peak, Math.abs(expected))
      worst = Math.max(worst, Math.abs(field[i]! - expected))
      squares += (field[i]! - expected) ** 2
      shell++
    }
  })
  return { worst, rms: Math.sqrt(squares / shell), peak, inside: insideSum / insideCount }
}

describe('dipoleFields', () => {
  it('gives a sphere its analytic dipole field on an axial grid', () => {
    const grid: AcquisitionGrid = { dims: [40, 40, 40], voxelMm: [1, 1, 1], axes: AXIAL, centreLps: [0, 0, 0] }
    const { worst, rms, peak, inside } = compare(grid, b0DirectionInVoxels(niftiGeometry(grid).affine))
    // The field near 1.5 R along B0: 2·chi/(3·1.5^3) ≈ 0.2 chi (voxel centres fall at 1.58 R: 0.17).
    expect(peak).toBeGreaterThan(0.15)
    expect(rms).toBeLessThan(0.002)
    // The discretely sampled k-space kernel is a few per cent off next to the source.
    expect(worst).toBeLessThan(0.02)
    expect(Math.abs(inside)).toBeLessThan(0.015)
  })

  it('on an oblique grid with anisotropic voxels, with B0 taken into the voxel axes', () => {
    const grid: AcquisitionGrid = { dims: [40, 40, 28], voxelMm: [1, 1, 1.4], axes: rotate(rotationXYZ(15, 15), AXIAL), centreLps: [0.3, -0.2, 0.1] }
    const b0Voxel = b0DirectionInVoxels(niftiGeometry(grid).affine)
    expect(b0Voxel[2]).toBeLessThan(0.95)
    const right = compare(grid, b0Voxel)
    expect(right.rms).toBeLessThan(0.002)
    expect(right.worst).toBeLessThan(0.02)
    expect(Math.abs(right.inside)).toBeLessThan(0.015)
    // Pretending the slab were not tilted (B0 along the slice axis) is ten times further off.
    const wrong = compare(grid, [0, 0, 1])
    expect(wrong.rms).toBeGreaterThan(0.01)
    expect(wrong.worst).toBeGreaterThan(0.05)
  })

  it('returns the two packed sources apart, as two separate transforms would', () => {
    const dims = [20, 18, 16] as const
    const size = dims[0] * dims[1] * dims[2]
    const a = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) * (i % 7 === 0 ? 1 : 0))
    const b = Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.11) * (i % 5 === 0 ? 1 : 0))
    const request = { dims, voxelMm: [1, 1.2, 1.5] as [number, number, number], b0Voxel: [0.3, -0.2, 0.93] as [number, number, number] }
    const both = dipoleFields(a, b, request)
    const onlyA = dipoleFields(a, undefined, request).a
    const onlyB = dipoleFields(b, undefined, request).a
    for (let i = 0; i < size; i++) {
      expect(Math.abs(both.a[i]! - onlyA[i]!)).toBeLessThan(1e-6)
      expect(Math.abs(both.b[i]! - onlyB[i]!)).toBeLessThan(1e-6)
    }
    expect(Math.max(...onlyA.map(Math.abs))).toBeGreaterThan(0.01)
    // With a different kernel for b, still as two separate transforms.
    const mixed = dipoleFields(a, b, { ...request, kernelB: 'finite-difference' })
    const onlyBFd = dipoleFields(b, undefined, { ...request, kernelA: 'finite-difference' }).a
    let differs = 0
    for (let i = 0; i < size; i++) {
      expect(Math.abs(mixed.a[i]! - onlyA[i]!)).toBeLessThan(1e-6)
      expect(Math.abs(mixed.b[i]! - onlyBFd[i]!)).toBeLessThan(1e-6)
      differs = Math.max(differs, Math.abs(onlyBFd[i]! - onlyB[i]!))
    }
    expect(differs).toBeGreaterThan(1e-3)
  })

  it('the finite-difference kernel also gives the sphere its analytic field, oblique', () => {
    const grid: AcquisitionGrid = { dims: [40, 40, 28], voxelMm: [1, 1, 1.4], axes: rotate(rotationXYZ(15, 15), AXIAL), centreLps: [0.3, -0.2, 0.1] }
    const fd = compare(grid, b0DirectionInVoxels(niftiGeometry(grid).affine), 'finite-difference')
    expect(fd.peak).toBeGreaterThan(0.15)
    expect(fd.rms).toBeLessThan(0.003)
    expect(Math.abs(fd.inside)).toBeLessThan(0.015)
  })

  it('the finite-difference kernel keeps the field inside a uniform body flat on an oblique grid (no Nyquist ringing)', () => {
    // A 9.4 ppm ball (air against tissue) of radius 14 mm; inside, the continuum field is constant.
    const dims = [48, 48, 48] as const
    const b0Voxel: Vec3 = b0DirectionInVoxels(niftiGeometry({ dims: [...dims], voxelMm: [1, 1, 1], axes: rotate(rotationXYZ(15, 15), AXIAL), centreLps: [0, 0, 0] }).affine)
    const chi = new Float32Array(dims[0] * dims[1] * dims[2])
    const inner: number[] = []
    for (let z = 0, i = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++, i++) {
      const r = Math.hypot(x - 23.5, y - 23.5, z - 23.5)
      if (r <= 14) chi[i] = 9.4
      if (r <= 9) inner.push(i)
    }
    const spread = (kind: DipoleKernelKind): number => {
      const { a } = dipoleFields(chi, undefined, { dims, voxelMm: [1, 1, 1], b0Voxel, kernelA: kind })
      const values = inner.map((i) => a[i]!)
      const mean = values.reduce((s, v) => s + v, 0) / values.length
      return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length)
    }
    const continuous = spread('continuous')
    const fd = spread('finite-difference')
    expect(continuous).toBeGreaterThan(0.03)
    expect(fd).toBeLessThan(continuous / 10)
  })
})

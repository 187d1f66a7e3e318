// The NIfTI's own grid (axial, sagittal, coronal, oblique, left-handed), the CT and Secondary
// Capture forms, labels, and the navigation profiles: dciodvfy-clean, and dcm2niix reads back
// the geometry and the values.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isPacsflowError } from '@pacsflow/core'
import { canonicalReorientation, invertAffine, multiply, reorientData, scaledData, type DicomSeries, type Mat4, type NiftiImage, type Vec3 } from '@pacsflow/imaging'
import { haveTools, testDataDir } from '@pacsflow/testkit'
import { niftiToDicom } from './nifti-to-dicom.js'
import { resampleToGrid } from '@pacsflow/imaging'
import type { DicomiseOptions } from './options.js'
import { dciodvfyErrors, dcm2niix, loadSeries, syntheticNifti, unpack } from './test-support/fixtures.js'

const dataDir = testDataDir()
const ready = dataDir !== undefined && haveTools('dciodvfy', 'dcm2niix')
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-dicomise-own-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const affineDelta = (a: Mat4, b: Mat4): number => Math.max(...a.flatMap((row, r) => row.map((v, c) => Math.abs(v - b[r]![c]!))))

/** A RAS affine: rotation about x by a then z by b (degrees), axes permuted, voxel sizes, origin. */
function affine(a: number, b: number, sizes: Vec3, origin: Vec3, axes: [number, number, number] = [0, 1, 2]): Mat4 {
  const rad = Math.PI / 180
  const rx = [[1, 0, 0], [0, Math.cos(a * rad), -Math.sin(a * rad)], [0, Math.sin(a * rad), Math.cos(a * rad)]]
  const rz = [[Math.cos(b * rad), -Math.sin(b * rad), 0], [Math.sin(b * rad), Math.cos(b * rad), 0], [0, 0, 1]]
  const r = rz.map((row) => [0, 1, 2].map((j) => row[0]! * rx[0]![j]! + row[1]! * rx[1]![j]! + row[2]! * rx[2]![j]!))
  const m = [0, 1, 2].map((w) => [0, 1, 2].map((c) => r[w]![axes[c]!]! * sizes[c]!))
  return [[...m[0]!, origin[0]], [...m[1]!, origin[1]], [...m[2]!, origin[2]], [0, 0, 0, 1]] as unknown as Mat4
}

/**
 * How far dcm2niix's grid is from the input's: 0 when every voxel centre of one is a voxel centre
 * of the other (dcm2niix may order the axes differently, e.g. slices by position), and the
 * largest value difference on those shared centres.
 */
function compare(back: NiftiImage, input: Float32Array, inputDims: readonly [number, number, number], ras: Mat4): { offGrid: number; worst: number } {
  const map = multiply(invertAffine(ras), back.header.affine)
  const offGrid = Math.max(...map.slice(0, 3).flatMap((row) => row.map((v) => Math.abs(v - Math.round(v)))))
  const expected = resampleToGrid(input, inputDims, ras, back.header.dims as [number, number, number], back.header.affine, { interpolation: 'nearest', fill: Number.NaN })
  let worst = 0
  scaledData(back).forEach((value, n) => (worst = Math.max(worst, Math.abs(value - expected[n]!))))
  return { offGrid, worst }
}

const field = ([i, j, k]: Vec3): number => 0.02 * i - 0.015 * j + 0.03 * k + 0.1 * Math.sin(i * 0.7 + j * 0.3 * k)
const grids = {
  axial: affine(0, 0, [0.9, 1.1, 2], [-12, -10, -6]),
  sagittal: affine(0, 0, [1.2, 1, 1.5], [-10, -12, -9], [1, 2, 0]),
  coronal: affine(0, 0, [1, 1.3, 2.5], [-12, 8, -9], [0, 2, 1]),
  oblique: affine(17, -23, [0.8, 0.8, 1.6], [-8, -6, -5]),
  'left-handed': affine(5, 0, [1, 1, -2], [-10, -10, 12]),
}
const dims = [24, 20, 12] as const

describe.skipIf(!ready)('the NIfTI grid kept (grid: own)', () => {
  const references = (async () => ({
    axial2d: await loadSeries(unpack(dataDir!, 'dcm_qa_fmap/Siemens_2_gre_field_magph', scratch), 2),
    t1: await loadSeries(unpack(dataDir!, 'dcm_qa_xa30i/5001_anat-T1w_acq-tfl', scratch), 5001),
  }))()

  async function roundTrip(name: string, ras: Mat4, reference: DicomSeries, options: DicomiseOptions = {}) {
    const nifti = join(scratch, `${name}.nii.gz`)
    const input = await syntheticNifti(nifti, dims, ras, field)
    const result = await niftiToDicom({ nifti, reference, outDir: join(scratch, `${name}-dicom`), uidSeed: name }, { grid: 'own', ...options })
    expect(dciodvfyErrors(result.files)).toEqual({})
    return { input, result, back: await dcm2niix(result.outDir, join(scratch, `${name}-back`)) }
  }

  for (const [name, ras] of Object.entries(grids)) {
    it(`${name}: dcm2niix gives back the NIfTI's affine and values (2D reference: no reorientation)`, async () => {
      const { input, result, back } = await roundTrip(name, ras, (await references).axial2d)
      expect(result.encoding.interpolation).toBe('none')
      expect([...back.header.dims].sort()).toEqual([...dims].sort())
      const { offGrid, worst } = compare(back, input, dims, ras)
      expect(offGrid).toBeLessThanOrEqual(1e-3)
      expect(worst).toBeLessThanOrEqual(result.encoding.slope)
    })
  }

  it('oblique with a 3D reference: dcm2niix rotates to the nearest RAS layout, as it does for the reference', async () => {
    const { input, result, back } = await roundTrip('oblique-3d', grids.oblique, (await references).t1)
    const r = canonicalReorientation(grids.oblique, dims)
    expect(back.header.dims).toEqual([...r.dims])
    expect(affineDelta(back.header.affine, r.affine)).toBeLessThanOrEqual(1e-3)
    const expected = reorientData(input, new Float32Array(input.length), dims, r)
    const values = scaledData(back)
    let worst = 0
    values.forEach((value, n) => (worst = Math.max(worst, Math.abs(value - expected[n]!))))
    expect(worst).toBeLessThanOrEqual(result.encoding.slope)
  })

  it('CT and Secondary Capture forms are valid too, and CT reads back', async () => {
    const quantity = { name: 'SYNTHETIC CT', units: 'HU', rescaleType: 'HU', step: 1 } as const
    const ct = await roundTrip('ct', grids.axial, (await references).axial2d, { modality: 'CT', quantity })
    const { offGrid, worst } = compare(ct.back, ct.input, dims, grids.axial)
    expect(offGrid).toBeLessThanOrEqual(1e-3)
    expect(ct.result.encoding.slope).toBe(1)
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-6) // half of the 1 HU step
    expect(ct.result.series.modality).toBe('CT')
    const ot = await niftiToDicom(
      { nifti: join(scratch, 'ct.nii.gz'), reference: (await references).axial2d, outDir: join(scratch, 'ot'), uidSeed: 'ot' },
      { modality: 'OT', grid: 'own' },
    )
    expect(ot.series.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.7')
    expect(dciodvfyErrors(ot.files)).toEqual({})
  })

  it('labels stay exact integers (nearest neighbour) when resampled onto the reference grid', async () => {
    const nifti = join(scratch, 'labels.nii.gz')
    const layoutAffine = affine(10, 5, [1, 1, 1], [-30, -30, -20])
    await syntheticNifti(nifti, [60, 60, 40], layoutAffine, ([i, j, k]) => ((i >> 3) + (j >> 3) * 3 + (k >> 3) * 7) % 11)
    const result = await niftiToDicom({ nifti, reference: (await references).axial2d, outDir: join(scratch, 'labels-dicom'), uidSeed: 'labels' }, { quantity: 'labels' })
    expect(result.encoding).toMatchObject({ slope: 1, intercept: 0, interpolation: 'nearest' })
    const values = new Set(scaledData(await dcm2niix(result.outDir, join(scratch, 'labels-back'))))
    expect([...values].every((v) => Number.isInteger(v) && v >= 0 && v <= 10)).toBe(true)
    expect(values.size).toBeGreaterThan(5)
  })

  it('brainlab: square pixels over the same field of view, values of a linear field kept; too many slices refused', async () => {
    const ras = affine(0, 0, [0.8, 1.2, 2], [-10, -12, -6])
    const linear = (p: Vec3): number => 0.01 * p[0] - 0.02 * p[1] + 0.005 * p[2]
    const nifti = join(scratch, 'anisotropic.nii.gz')
    await syntheticNifti(nifti, dims, ras, (_, p) => linear(p))
    const reference = (await references).axial2d
    const result = await niftiToDicom({ nifti, reference, outDir: join(scratch, 'brainlab'), uidSeed: 'brainlab' }, { grid: 'own', profile: 'brainlab' })
    expect(dciodvfyErrors(result.files)).toEqual({})
    const volume = result.series.volumes[0]!
    expect(volume.pixelSpacing[0]).toBe(volume.pixelSpacing[1])
    expect(volume.pixelSpacing[0]).toBeCloseTo(0.8, 6)
    expect([volume.columns, volume.rows]).toEqual([24, 30])
    const back = await dcm2niix(result.outDir, join(scratch, 'brainlab-back'))
    const [nx, ny, nz] = back.header.dims as [number, number, number]
    const values = scaledData(back)
    // Inside the input (its edge voxels are extrapolated flat), trilinear is exact for a linear field.
    for (let k = 0; k < nz; k++) {
      for (let j = 2; j < ny - 2; j++) {
        for (let i = 1; i < nx - 1; i++) {
          const p = [0, 1, 2].map((r) => back.header.affine[r]![0]! * i + back.header.affine[r]![1]! * j + back.header.affine[r]![2]! * k + back.header.affine[r]![3]!) as unknown as Vec3
          expect(Math.abs(values[i + nx * (j + ny * k)]! - linear(p))).toBeLessThanOrEqual(result.encoding.slope)
        }
      }
    }
    const tall = join(scratch, 'tall.nii')
    await syntheticNifti(tall, [2, 2, 400], affine(0, 0, [1, 1, 1], [0, 0, -200]), () => 0.1)
    const refused = await niftiToDicom({ nifti: tall, reference, outDir: join(scratch, 'tall'), uidSeed: 'tall' }, { grid: 'own', profile: 'brainlab' }).catch((e: unknown) => e)
    expect(isPacsflowError(refused, 'DICOMISE_PROFILE')).toBe(true)
  })

  it('stealthstation: unsigned pixels that dcm2niix reads back as the same values', async () => {
    const { input, result, back } = await roundTrip('unsigned', grids.axial, (await references).axial2d, { profile: 'stealthstation' })
    expect(result.encoding).toMatchObject({ pixel: 'unsigned', intercept: -32.768, slope: 0.001 })
    const { offGrid, worst } = compare(back, input, dims, grids.axial)
    expect(offGrid).toBeLessThanOrEqual(1e-3)
    expect(worst).toBeLessThanOrEqual(0.001)
  })
})

// On real references (axial, sagittal, two obliques): every file passes dciodvfy, dcm2niix
// converts the series back onto the reference grid's affine with the input's values, and an
// asymmetric marker lands at its patient coordinates.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { apply, lpsToRas, niftiLayout, readNifti, scaledData, type DicomSeries, type Mat4, type NiftiImage, type Vec3 } from '@pacsflow/imaging'
import { haveTools, testDataDir } from '@pacsflow/testkit'
import { niftiToDicom } from './nifti-to-dicom.js'
import { dciodvfyErrors, dcm2niix, loadSeries, referenceCases, syntheticNifti, unpack } from './test-support/fixtures.js'

const dataDir = testDataDir()
const ready = dataDir !== undefined && haveTools('dciodvfy', 'dcm2niix')
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-dicomise-rt-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** Largest element-wise difference of two affines. */
const affineDelta = (a: Mat4, b: Mat4): number => Math.max(...a.flatMap((row, r) => row.map((v, c) => Math.abs(v - b[r]![c]!))))

/** Intensity-weighted centroid (RAS mm) of the voxels above `fraction` of the maximum. */
function centroid(image: NiftiImage, fraction = 0.05): Vec3 {
  const values = scaledData(image)
  const [nx, ny] = image.header.dims as [number, number, number]
  let max = 0
  for (const value of values) if (value > max) max = value
  const sum: [number, number, number] = [0, 0, 0]
  let weight = 0
  values.forEach((value, n) => {
    if (value <= fraction * max) return
    const position = apply(image.header.affine, [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))])
    for (let a = 0; a < 3; a++) sum[a]! += position[a]! * value
    weight += value
  })
  return [sum[0] / weight, sum[1] / weight, sum[2] / weight]
}

/** The marker: the reference's centre moved a quarter of its extent to the patient's left, anterior and superior. */
function markerLps(series: DicomSeries): { marker: Vec3; centre: Vec3; voxel: number } {
  const volume = series.volumes[0]!
  const dims: Vec3 = [volume.columns, volume.rows, volume.slices]
  const centre = apply(volume.affineLps, [(dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2])
  const extent = [0, 1, 2].map((w) => [0, 1, 2].reduce((sum, c) => sum + Math.abs(volume.affineLps[w]![c]!) * (dims[c]! - 1), 0))
  // LPS: +x is left, -y is anterior, +z is superior.
  const marker: Vec3 = [centre[0] + extent[0]! / 4, centre[1] - extent[1]! / 4, centre[2] + extent[2]! / 4]
  return { marker, centre, voxel: Math.max(volume.pixelSpacing[0], volume.pixelSpacing[1], volume.sliceSpacing) }
}

describe.skipIf(!ready).each(referenceCases)('$name', ({ folder, seriesNumber, ref }) => {
  const work = join(scratch, folder.replace(/\//g, '_'))
  const reference = (async () => loadSeries(unpack(dataDir!, folder, scratch), seriesNumber))()

  it('round trips through dcm2niix: the reference grid affine within 1e-3 mm, values within one step, dciodvfy clean', async () => {
    // dcm2niix's own NIfTI of the reference is its grid, as dcm2niix lays it out.
    const referenceNifti = await readNifti(join(dataDir!, folder, 'Ref', ref))
    const series = await reference
    const layout = niftiLayout(series.volumes[0]!, series)
    const nifti = join(work, 'on-grid.nii.gz')
    // An asymmetric, non-separable field from -0.4 to +1.3 ppm: any flip or transposition changes it.
    const input = await syntheticNifti(nifti, layout.dims, layout.affine, ([i, j, k]) => 0.01 * i - 0.004 * j * j / layout.dims[1] + 0.02 * k + 0.3 * Math.sin(i * j * 0.01 + k))
    const result = await niftiToDicom({ nifti, reference: series, outDir: join(work, 'dicom'), uidSeed: 'round-trip' })
    expect(result.files).toHaveLength(series.volumes[0]!.slices)
    expect(dciodvfyErrors(result.files)).toEqual({})

    const back = await dcm2niix(result.outDir, join(work, 'back'))
    expect(back.header.dims).toEqual(referenceNifti.header.dims)
    expect(affineDelta(back.header.affine, referenceNifti.header.affine)).toBeLessThanOrEqual(1e-3)
    // Our own layout of the reference (the input's grid) differs from dcm2niix's by its slice-step
    // rounding only (imaging's README: up to 0.01 mm at the far slice when the slice axis is flipped).
    expect(back.header.dims).toEqual(layout.dims)
    expect(affineDelta(back.header.affine, layout.affine)).toBeLessThanOrEqual(0.02)
    const values = scaledData(back)
    let worst = 0
    values.forEach((value, n) => (worst = Math.max(worst, Math.abs(value - input[n]!))))
    expect(result.encoding.slope).toBe(0.001)
    expect(worst).toBeLessThanOrEqual(result.encoding.slope)
  })

  it('puts a marker placed left-anterior-superior at its patient coordinates', async () => {
    const series = await reference
    const { marker, centre, voxel } = markerLps(series)
    const markerRas: Vec3 = [-marker[0], -marker[1], marker[2]]
    // The input has its own axis-aligned 1.5 mm RAS grid covering the reference, so the marker
    // travels through both affines and the resampling.
    const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => {
      const volume = series.volumes[0]!
      return apply(lpsToRas(volume.affineLps), [n & 1 ? volume.columns : -1, n & 2 ? volume.rows : -1, n & 4 ? volume.slices : -1])
    })
    const low = [0, 1, 2].map((a) => Math.min(...corners.map((c) => c[a]!)) - 5) as unknown as Vec3
    const high = [0, 1, 2].map((a) => Math.max(...corners.map((c) => c[a]!)) + 5)
    const dims = [0, 1, 2].map((a) => Math.ceil((high[a]! - low[a]!) / 1.5)) as unknown as [number, number, number]
    const own: Mat4 = [[1.5, 0, 0, low[0]], [0, 1.5, 0, low[1]], [0, 0, 1.5, low[2]], [0, 0, 0, 1]]
    const sigma = 1.5 * voxel
    const nifti = join(work, 'marker.nii')
    await syntheticNifti(nifti, dims, own, (_, p) => Math.exp(-((p[0] - markerRas[0]) ** 2 + (p[1] - markerRas[1]) ** 2 + (p[2] - markerRas[2]) ** 2) / (2 * sigma * sigma)))

    const result = await niftiToDicom({ nifti, reference: series, outDir: join(work, 'marker-dicom'), uidSeed: 'marker' })
    const found = centroid(await dcm2niix(result.outDir, join(work, 'marker-back')))
    expect(Math.hypot(found[0] - markerRas[0], found[1] - markerRas[1], found[2] - markerRas[2])).toBeLessThan(0.5)
    // And on the patient's left (RAS x below the centre's), anterior (y above) and superior (z above).
    const centreRas = [-centre[0], -centre[1], centre[2]]
    expect(found[0]).toBeLessThan(centreRas[0]! - 5)
    expect(found[1]).toBeGreaterThan(centreRas[1]! + 5)
    expect(found[2]).toBeGreaterThan(centreRas[2]! + 5)
  })
})

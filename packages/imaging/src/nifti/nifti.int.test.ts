// Integration with nibabel (Debian's python3-nibabel): it reads what we write, we read what it writes.
import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { nibabelPython, testDataDir } from '../test-support/tools.js'
import { datatypeOfArray } from './datatypes.js'
import { readNifti, readNiftiHeader, scaledData, writeNifti } from './index.js'
import type { Mat4, NiftiDatatype, NiftiImage, NiftiWriteInput } from './index.js'
import { bytesOf, expectMat4Close, LAS_AFFINE, OBLIQUE_LAS, obliqueAffine, sampleData, useTempDirs } from './test-helpers.js'

const python = nibabelPython()
const dataDir = testDataDir()
const helper = join(dirname(fileURLToPath(import.meta.url)), 'nibabel-helper.py')
const tempDir = useTempDirs()

/** nibabel's view of one file, as nibabel-helper.py reports it (non-finite numbers as strings). */
interface NibabelView {
  readonly path: string
  readonly version: 1 | 2
  readonly endianness: '<' | '>'
  readonly shape: number[]
  readonly pixdim: (number | string)[]
  readonly dtype: string
  readonly affine: Mat4
  readonly qform: Mat4
  readonly sform: Mat4
  readonly qformCode: number
  readonly sformCode: number
  readonly sclSlope: number | string
  readonly sclInter: number | string
  readonly slope: number
  readonly inter: number
  readonly spaceUnits: string
  readonly timeUnits: string
  readonly description: string
  readonly intentCode: number
  readonly intentName: string
  readonly calMin: number | string
  readonly calMax: number | string
  readonly voxOffset: number
}

interface Described extends NibabelView {
  /** Unscaled values, little endian, x fastest. */
  readonly raw: Uint8Array
  /** Scaled values as float64. */
  readonly scaled: Float64Array
}

const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value.replace('inf', 'Infinity')))

/** Runs the helper once: optionally has nibabel write its sample files into `make`, then describes them and `paths`. */
async function nibabel(paths: string[], make?: string): Promise<Described[]> {
  const rawDir = join(await tempDir(), 'raw')
  await mkdir(rawDir)
  const request = JSON.stringify({ make: make ?? null, describe: paths, rawDir })
  const stdout = execFileSync(python!, [helper], { input: request, maxBuffer: 1 << 26, encoding: 'utf8' })
  const { files } = JSON.parse(stdout) as { files: NibabelView[] }
  return Promise.all(
    files.map(async (view, i) => {
      const scaled = await readFile(join(rawDir, `${i}.scaled`))
      return {
        ...view,
        raw: await readFile(join(rawDir, `${i}.raw`)),
        scaled: new Float64Array(scaled.buffer, scaled.byteOffset, scaled.byteLength / 8),
      }
    }),
  )
}

/** Our reading of a file agrees with nibabel's on every field both expose. */
function expectSameAsNibabel(ours: NiftiImage, theirs: Described): void {
  const { header } = ours
  const label = theirs.path
  expect(header.version, label).toBe(theirs.version)
  expect(header.dims, label).toEqual(theirs.shape)
  expect(header.datatype, label).toBe(theirs.dtype)
  expect(header.pixdim, label).toEqual(theirs.pixdim.slice(1, header.dims.length + 1).map(num))
  expect([header.qformCode, header.sformCode], label).toEqual([theirs.qformCode, theirs.sformCode])
  expect([header.sclSlope, header.sclInter], label).toEqual([num(theirs.sclSlope), num(theirs.sclInter)])
  expect([header.calMin, header.calMax], label).toEqual([num(theirs.calMin), num(theirs.calMax)])
  expect([header.spaceUnits, header.timeUnits, header.voxOffset], label).toEqual([theirs.spaceUnits, theirs.timeUnits, theirs.voxOffset])
  expect([header.description, header.intentCode, header.intentName], label).toEqual([theirs.description, theirs.intentCode, theirs.intentName])
  expectMat4Close(header.sform, theirs.sform, 1e-12)
  expectMat4Close(header.qform, theirs.qform, 1e-6)
  // With neither code set nibabel falls back to its own centred ANALYZE affine, not method 1.
  if (header.sformCode > 0 || header.qformCode > 0) expectMat4Close(header.affine, theirs.affine, 1e-6)
  expect(Buffer.compare(bytesOf(ours.data), theirs.raw), `${label}: raw data`).toBe(0)
  const scaled = scaledData(ours)
  expect(scaled.length).toBe(theirs.scaled.length)
  theirs.scaled.forEach((value, i) => {
    if (Math.abs(scaled[i]! - value) > 1e-6 * Math.max(1, Math.abs(value))) expect.fail(`${label}: scaled[${i}] ${scaled[i]} != ${value}`)
  })
}

const WRITTEN: NiftiDatatype[] = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64']

describe.skipIf(!python)('nibabel reads what writeNifti writes', () => {
  it('every datatype, .nii and .nii.gz, scaling, 4D and an oblique affine', async () => {
    const dir = await tempDir()
    const cases: [string, NiftiWriteInput][] = []
    for (const datatype of WRITTEN) {
      for (const extension of ['.nii', '.nii.gz']) {
        cases.push([`${datatype}${extension}`, { data: sampleData(datatype, 7 * 6 * 5), dims: [7, 6, 5], affine: OBLIQUE_LAS }])
      }
    }
    const phase = Int16Array.from({ length: 7 * 6 * 5 }, (_, i) => (i * 37) % 4096)
    cases.push(['phase.nii.gz', { data: phase, dims: [7, 6, 5], affine: OBLIQUE_LAS, sclSlope: 2, sclInter: -4096, description: 'phase' }])
    const bold = Float32Array.from({ length: 4 * 3 * 2 * 5 }, (_, i) => Math.sin(i))
    const boldAffine = obliqueAffine([2.5, 2.5, 3], [-90, 110, -60], -12, 4)
    cases.push(['bold.nii', { data: bold, dims: [4, 3, 2, 5], affine: boldAffine, pixdim: [0, 0, 0, 0.8], qformCode: 2, sformCode: 4, timeUnits: 'msec' }])
    cases.push(['las.nii', { data: new Uint8Array(24), dims: [2, 3, 4], affine: LAS_AFFINE, intentCode: 1002, intentName: 'label', calMin: 0, calMax: 3 }])
    const paths = cases.map(([name]) => join(dir, name))
    await Promise.all(cases.map(([, input], i) => writeNifti(paths[i]!, input)))
    const views = await nibabel(paths)
    for (const [i, [name, input]] of cases.entries()) {
      const theirs = views[i]!
      expect(theirs.shape, name).toEqual(input.dims)
      expect(theirs.dtype, name).toBe(datatypeOfArray(input.data))
      expect(Buffer.compare(bytesOf(input.data), theirs.raw), `${name}: raw data`).toBe(0)
      expect([theirs.qformCode, theirs.sformCode], name).toEqual([input.qformCode ?? 1, input.sformCode ?? 1])
      expect([theirs.slope, theirs.inter], name).toEqual([input.sclSlope ?? 1, input.sclInter ?? 0])
      expectMat4Close(theirs.affine, input.affine, 1e-6)
      expectMat4Close(theirs.sform, input.affine, 1e-6)
      expectMat4Close(theirs.qform, input.affine, 1e-5)
      if (input.dims.length === 4) expect(num(theirs.pixdim[4]!), name).toBeCloseTo(0.8, 6)
      expectSameAsNibabel(await readNifti(paths[i]!), theirs)
    }
  })
})

describe.skipIf(!python)('readNifti reads what nibabel writes', () => {
  it('NIfTI-1 and NIfTI-2, .nii and .nii.gz, big endian, scaled int16, qform-only', async () => {
    const dir = await tempDir()
    const views = await nibabel([], dir)
    expect(views.map((view) => view.path.slice(dir.length + 1))).toContain('n2-big-endian-float64.nii.gz')
    expect(views.some((view) => view.endianness === '>' && view.version === 1)).toBe(true)
    expect(views.some((view) => view.slope !== 1)).toBe(true)
    for (const theirs of views) {
      const ours = await readNifti(theirs.path)
      expectSameAsNibabel(ours, theirs)
      expect(await readNiftiHeader(theirs.path)).toEqual(ours.header)
    }
  })
})

describe.skipIf(!python || !dataDir)('dcm2niix reference NIfTIs', () => {
  it('read the same as nibabel reads them', async () => {
    const entries = await readdir(dataDir!, { recursive: true })
    const paths = entries.filter((entry) => /(^|\/)Ref\/[^/]+\.nii(\.gz)?$/.test(entry)).map((entry) => join(dataDir!, entry))
    expect(paths.length).toBeGreaterThanOrEqual(10)
    const views = await nibabel(paths)
    for (const theirs of views) {
      const ours = await readNifti(theirs.path)
      expectSameAsNibabel(ours, theirs)
      expect(ours.header.sformCode, theirs.path).toBeGreaterThan(0)
    }
  })
})

import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { isPacsflowError } from '@pacsflow/core'
import { describe, expect, it } from 'vitest'
import { encodeNifti1, readNifti, readNiftiHeader, scaledData, writeNifti } from './index.js'
import type { Mat4, NiftiDatatype, NiftiWriteInput } from './index.js'
import { bytesOf, expectMat4Close, LAS_AFFINE, OBLIQUE_LAS, obliqueAffine, rawNifti, sampleData, useTempDirs } from './test-helpers.js'

const tempDir = useTempDirs()

const DATATYPES: NiftiDatatype[] = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64']
const CODES: Record<NiftiDatatype, number> = { uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768 }

function columnNorm(affine: Mat4, j: number): number {
  return Math.hypot(affine[0][j]!, affine[1][j]!, affine[2][j]!)
}

async function expectCoded(promise: Promise<unknown>, code: 'NIFTI_INVALID' | 'NIFTI_UNSUPPORTED' | 'INVALID_OPTIONS', path?: string) {
  const error: unknown = await promise.then(
    () => expect.fail('expected an error'),
    (e: unknown) => e,
  )
  expect(isPacsflowError(error, code), String(error)).toBe(true)
  if (path !== undefined && isPacsflowError(error)) {
    expect(error.message).toContain(path)
    expect(error.details?.path).toBe(path)
  }
  return error as { message: string; details?: Readonly<Record<string, unknown>> }
}

describe('writeNifti + readNifti round trip', () => {
  describe.each(DATATYPES)('%s', (datatype) => {
    it.each(['.nii', '.nii.gz'])('%s with an oblique det<0 affine', async (extension) => {
      const path = join(await tempDir(), `image${extension}`)
      const data = sampleData(datatype, 5 * 4 * 3)
      await writeNifti(path, { data, dims: [5, 4, 3], affine: OBLIQUE_LAS })
      const { header, data: read } = await readNifti(path)
      expect(read.constructor).toBe(data.constructor)
      expect(Array.from(read)).toEqual(Array.from(data))
      expect(read.byteOffset).toBe(0)
      expect(read.buffer.byteLength).toBe(read.byteLength)
      expect(header).toMatchObject({ version: 1, dims: [5, 4, 3], datatype, sclSlope: 1, sclInter: 0, qformCode: 1, sformCode: 1 })
      expect(header).toMatchObject({ spaceUnits: 'mm', timeUnits: 'sec', voxOffset: 352 })
      header.pixdim.forEach((spacing, j) => expect(spacing).toBeCloseTo(columnNorm(OBLIQUE_LAS, j), 5))
      // sform is stored as float32: exact to float32 precision.
      expectMat4Close(header.sform, OBLIQUE_LAS, 1e-6)
      expectMat4Close(header.affine, header.sform, 0)
      expectMat4Close(header.qform, OBLIQUE_LAS, 1e-5)
      const gzipped = (await readFile(path)).subarray(0, 2)
      expect(gzipped[0] === 0x1f && gzipped[1] === 0x8b).toBe(extension === '.nii.gz')
    })
  })

  it('keeps the LAS affine dcm2niix writes, 4D dims with pixdim[4], codes and scaling', async () => {
    const path = join(await tempDir(), 'bold.nii.gz')
    const data = new Int16Array(4 * 3 * 2 * 5).map((_, i) => i - 50)
    const input: NiftiWriteInput = {
      data,
      dims: [4, 3, 2, 5],
      affine: LAS_AFFINE,
      pixdim: [0, 0, 0, 2.5],
      sclSlope: 2,
      sclInter: -4096,
      qformCode: 2,
      sformCode: 4,
      spaceUnits: 'micron',
      timeUnits: 'msec',
      intentCode: 1002,
      intentName: 'a rather long intent name',
      calMin: -1,
      calMax: 99,
    }
    await writeNifti(path, input)
    const { header } = await readNifti(path)
    expect(header).toMatchObject({ dims: [4, 3, 2, 5], pixdim: [3.25, 3.25, expect.closeTo(3.6, 6), 2.5] })
    expect(header).toMatchObject({ sclSlope: 2, sclInter: -4096, qformCode: 2, sformCode: 4, spaceUnits: 'micron', timeUnits: 'msec' })
    expect(header).toMatchObject({ intentCode: 1002, intentName: 'a rather long i', calMin: -1, calMax: 99 })
    expectMat4Close(header.qform, LAS_AFFINE, 1e-6)
    expectMat4Close(header.affine, LAS_AFFINE, 1e-6)
    expect(await readNiftiHeader(path)).toEqual(header)
  })

  it('accepts a typed array that is a view at an odd byte offset', async () => {
    const path = join(await tempDir(), 'view.nii')
    const backing = new ArrayBuffer(8 + 24 * 4)
    const data = new Float32Array(backing, 8, 24).map((_, i) => i / 3)
    const bytes = encodeNifti1({ data: data.subarray(0, 24), dims: [2, 3, 4], affine: LAS_AFFINE })
    expect(bytes.byteLength).toBe(352 + 96)
    await writeFile(path, bytes)
    expect(Array.from((await readNifti(path)).data)).toEqual(Array.from(data))
  })

  it('truncates the description to 79 bytes without splitting a character', async () => {
    const dir = await tempDir()
    await writeNifti(join(dir, 'a.nii'), { data: new Uint8Array(1), dims: [1], affine: LAS_AFFINE, description: 'x'.repeat(100) })
    expect((await readNiftiHeader(join(dir, 'a.nii'))).description).toBe('x'.repeat(79))
    const description = `${'y'.repeat(78)}é and more`
    await writeNifti(join(dir, 'b.nii'), { data: new Uint8Array(1), dims: [1], affine: LAS_AFFINE, description })
    expect((await readNiftiHeader(join(dir, 'b.nii'))).description).toBe('y'.repeat(78))
    const bytes = await readFile(join(dir, 'b.nii'))
    expect(bytes[148 + 79]).toBe(0)
  })
})

describe('encodeNifti1 bytes', () => {
  it('writes sizeof_hdr 348, magic n+1, vox_offset 352 and a zero extension flag, little endian', () => {
    const data = new Int16Array([1, -2, 3, -4, 5, -6])
    const bytes = encodeNifti1({ data, dims: [3, 2], affine: OBLIQUE_LAS })
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    expect(bytes.byteLength).toBe(352 + 12)
    expect(view.getInt32(0, true)).toBe(348)
    expect(Array.from(bytes.subarray(344, 348))).toEqual([0x6e, 0x2b, 0x31, 0])
    expect(view.getFloat32(108, true)).toBe(352)
    expect(Array.from(bytes.subarray(348, 352))).toEqual([0, 0, 0, 0])
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => view.getInt16(40 + 2 * i, true))).toEqual([2, 3, 2, 1, 1, 1, 1, 1])
    expect(view.getInt16(70, true)).toBe(4)
    expect(view.getInt16(72, true)).toBe(16)
    expect(view.getFloat32(76, true)).toBe(-1) // qfac for det < 0
    expect(view.getFloat32(112, true)).toBe(1) // scl_slope 1 / scl_inter 0 when unscaled, as dcm2niix writes
    expect(view.getFloat32(116, true)).toBe(0)
    expect(view.getUint8(123)).toBe(2 | 8) // mm, sec
    expect(Array.from(new Int16Array(bytes.slice(352).buffer))).toEqual(Array.from(data))
  })

  it.each(DATATYPES)('stores %s with its nifti1.h datatype code and bitpix', (datatype) => {
    const data = sampleData(datatype, 4)
    const view = new DataView(encodeNifti1({ data, dims: [4], affine: LAS_AFFINE }).buffer)
    expect(view.getInt16(70, true)).toBe(CODES[datatype])
    expect(view.getInt16(72, true)).toBe(data.BYTES_PER_ELEMENT * 8)
  })

  it('rejects inputs it cannot encode', () => {
    const data = new Float32Array(6)
    const bad: Partial<NiftiWriteInput>[] = [
      { dims: [4] },
      { dims: [] },
      { dims: [1, 1, 1, 1, 1, 1, 1, 6] },
      { dims: [2, 3], affine: [[1, 2, 3, 4]] as unknown as Mat4 },
      { dims: [2, 3], sclSlope: Number.NaN },
      { dims: [2, 3], data: new Uint8ClampedArray(6) as unknown as Uint8Array },
    ]
    for (const override of bad) {
      expect(() => encodeNifti1({ data, affine: LAS_AFFINE, dims: [6], ...override }), JSON.stringify(override)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      )
    }
    expect(() => encodeNifti1({ data: new Uint8Array(40000), dims: [40000], affine: LAS_AFFINE })).toThrow(
      expect.objectContaining({ code: 'NIFTI_UNSUPPORTED' }),
    )
  })

  it('refuses a file name that is not .nii or .nii.gz', async () => {
    const path = join(await tempDir(), 'image.img')
    await expectCoded(writeNifti(path, { data: new Uint8Array(1), dims: [1], affine: LAS_AFFINE }), 'INVALID_OPTIONS', path)
  })
})

describe('reading other layouts', () => {
  const affine = obliqueAffine([2, 2.5, 3], [10, -20, 30], 30, -15)
  const values = Int16Array.from({ length: 24 }, (_, i) => i * 1000 - 12000)
  it.each([
    [1, true],
    [1, false],
    [2, true],
    [2, false],
  ] as const)('NIfTI-%i, little endian %s', async (version, littleEndian) => {
    const path = join(await tempDir(), 'other.nii.gz')
    const bytes = rawNifti({
      version,
      littleEndian,
      dims: [2, 3, 4],
      pixdim: [1, 2, 2.5, 3, 1, 1, 1, 1],
      datatypeCode: 4,
      bytesPerVoxel: 2,
      quatern: [0.1, 0.2, 0.3, 10, -20, 30],
      srow: [affine[0], affine[1], affine[2]],
      qformCode: 1,
      sformCode: 0,
      sclSlope: 0.5,
      sclInter: 7,
      data: bytesOf(values),
    })
    await writeFile(path, gzipSync(bytes))
    const image = await readNifti(path)
    expect(image.header).toMatchObject({ version, dims: [2, 3, 4], pixdim: [2, 2.5, 3], datatype: 'int16', sclSlope: 0.5, sclInter: 7 })
    expect(image.header.voxOffset).toBe(version === 1 ? 352 : 544)
    expect(Array.from(image.data)).toEqual(Array.from(values))
    expectMat4Close(image.header.sform, affine, version === 1 ? 1e-6 : 1e-12)
    // sform_code 0: the qform is the affine; it keeps the stored (not the sform's) geometry.
    expect(image.header.affine).toEqual(image.header.qform)
    expect(image.header.qform[0][3]).toBe(10)
    expect(Array.from(scaledData(image))).toEqual(Array.from(values, (v) => v * 0.5 + 7))
  })

  it('uses diag(pixdim) when neither qform nor sform is set (nifti1.h method 1)', async () => {
    const path = join(await tempDir(), 'plain.nii')
    const spec = { version: 1, littleEndian: true, dims: [2], pixdim: [1, 1.5, 2, 2.5, 1, 1, 1, 1], datatypeCode: 2, bytesPerVoxel: 1 } as const
    await writeFile(path, rawNifti({ ...spec, quatern: [0, 0, 0, 0, 0, 0], srow: [], qformCode: 0, sformCode: 0, sclSlope: 0, sclInter: 0, data: new Uint8Array([4, 5]) }))
    const image = await readNifti(path)
    expect(image.header.affine).toEqual([
      [1.5, 0, 0, 0],
      [0, 2, 0, 0],
      [0, 0, 2.5, 0],
      [0, 0, 0, 1],
    ])
    expect(Array.from(scaledData(image))).toEqual([4, 5]) // slope 0: unscaled
  })
})

describe('scaledData', () => {
  const header = { sclSlope: 2, sclInter: -4096 }
  it('applies slope and intercept in float32, or float64 for 32-bit integers and float64', async () => {
    const path = join(await tempDir(), 'phase.nii')
    await writeNifti(path, { data: new Uint16Array([0, 2048, 4095]), dims: [3], affine: LAS_AFFINE, ...header })
    const scaled = scaledData(await readNifti(path))
    expect(scaled).toBeInstanceOf(Float32Array)
    expect(Array.from(scaled)).toEqual([-4096, 0, 4094])
    await writeNifti(path, { data: new Int32Array([2 ** 30 + 1]), dims: [1], affine: LAS_AFFINE, ...header })
    const wide = scaledData(await readNifti(path))
    expect(wide).toBeInstanceOf(Float64Array)
    expect(wide[0]).toBe((2 ** 30 + 1) * 2 - 4096)
  })
})

describe('errors', () => {
  it('rejects random bytes as NIFTI_INVALID naming the file', async () => {
    const path = join(await tempDir(), 'noise.nii')
    await writeFile(path, Uint8Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 251))
    await expectCoded(readNifti(path), 'NIFTI_INVALID', path)
    await expectCoded(readNiftiHeader(path), 'NIFTI_INVALID', path)
    await writeFile(path, gzipSync(Uint8Array.from({ length: 2000 }, (_, i) => i % 17)))
    await expectCoded(readNifti(path), 'NIFTI_INVALID', path)
    await writeFile(path, Uint8Array.from({ length: 2000 }, (_, i) => (i < 2 ? [0x1f, 0x8b][i]! : (i * 31) % 256)))
    await expectCoded(readNifti(path), 'NIFTI_INVALID', path)
    await expectCoded(readNiftiHeader(path), 'NIFTI_INVALID', path)
  })

  it('rejects a truncated file with the expected and actual sizes', async () => {
    const dir = await tempDir()
    const bytes = encodeNifti1({ data: new Float32Array(1000), dims: [10, 10, 10], affine: LAS_AFFINE })
    const path = join(dir, 'cut.nii')
    await writeFile(path, bytes.subarray(0, 2000))
    const error = await expectCoded(readNifti(path), 'NIFTI_INVALID', path)
    expect(error.details).toMatchObject({ expectedBytes: 4352, actualBytes: 2000 })
    expect(error.message).toMatch(/4352.*2000/)
    const gzPath = join(dir, 'cut.nii.gz')
    await writeFile(gzPath, gzipSync(bytes.subarray(0, 2000)))
    expect((await expectCoded(readNifti(gzPath), 'NIFTI_INVALID', gzPath)).details).toMatchObject({ expectedBytes: 4352, actualBytes: 2000 })
    // A gzip stream itself cut short.
    const compressed = gzipSync(bytes)
    await writeFile(gzPath, compressed.subarray(0, compressed.length - 10))
    await expectCoded(readNifti(gzPath), 'NIFTI_INVALID', gzPath)
    await writeFile(path, bytes.subarray(0, 200))
    await expectCoded(readNiftiHeader(path), 'NIFTI_INVALID', path)
    // A header announcing far more than its gzip stream could inflate to fails before allocating.
    new DataView(bytes.buffer).setInt16(46, 30000, true) // dim[3]
    await writeFile(gzPath, gzipSync(bytes.subarray(0, 400)))
    expect((await expectCoded(readNifti(gzPath), 'NIFTI_INVALID', gzPath)).details).toMatchObject({ expectedBytes: 352 + 4 * 100 * 30000 })
  })

  it('gives a missing file a coded error', async () => {
    const path = join(await tempDir(), 'missing.nii.gz')
    expect((await expectCoded(readNifti(path), 'NIFTI_INVALID', path)).details).toMatchObject({ errno: 'ENOENT' })
    await expectCoded(readNiftiHeader(path), 'NIFTI_INVALID', path)
  })

  it('rejects complex, RGB and 64-bit integer data as NIFTI_UNSUPPORTED', async () => {
    const path = join(await tempDir(), 'complex.nii')
    const bytes = encodeNifti1({ data: new Float32Array(8), dims: [2, 4], affine: LAS_AFFINE })
    for (const code of [32, 128, 1024, 1792]) {
      new DataView(bytes.buffer).setInt16(70, code, true)
      await writeFile(path, bytes)
      const error = await expectCoded(readNifti(path), 'NIFTI_UNSUPPORTED', path)
      expect(error.details).toMatchObject({ datatypeCode: code })
    }
  })

  it('rejects a .hdr/.img pair header as NIFTI_UNSUPPORTED and a bad dim[0] as NIFTI_INVALID', async () => {
    const path = join(await tempDir(), 'pair.nii')
    const bytes = encodeNifti1({ data: new Uint8Array(2), dims: [2], affine: LAS_AFFINE })
    bytes.set([0x6e, 0x69, 0x31, 0], 344) // "ni1"
    await writeFile(path, bytes)
    await expectCoded(readNiftiHeader(path), 'NIFTI_UNSUPPORTED', path)
    bytes.set([0x6e, 0x2b, 0x31, 0], 344)
    new DataView(bytes.buffer).setInt16(40, 9, true)
    await writeFile(path, gzipSync(bytes))
    await expectCoded(readNifti(path), 'NIFTI_INVALID', path)
    expect(gunzipSync(await readFile(path)).byteLength).toBe(354)
  })
})

// Native pixel data against DCMTK's raw dump, in every native transfer syntax, and BitsStored masking / sign extension.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveTools } from '../test-support/tools.js'
import {
  readAllFrames,
  readDicomDataset,
  readDicomHeader,
  readFramePixels,
  writePart10,
  type DicomInstance,
  type RawDict,
} from './index.js'
import { dataDir, dcmtkPixelBytes, sh, uint16le, unpackSeries, type SeriesKey } from './test-fixtures.js'

const haveDcmtk = dataDir !== undefined && haveTools('dcmdump', 'dcmconv')
let scratch = ''
const samples = new Map<SeriesKey, string[]>()

function sample(key: SeriesKey, index: number): string {
  const path = samples.get(key)?.[index]
  if (path === undefined) throw new Error(`no file ${index} in ${key}`)
  return path
}

/** What must not change when a file is re-encoded (where its pixel data lies may). */
function comparable(instance: DicomInstance): Omit<DicomInstance, 'path' | 'sizeBytes' | 'transferSyntaxUid' | 'nativePixelData'> {
  const { path: _path, sizeBytes: _size, transferSyntaxUid: _syntax, nativePixelData: _located, ...rest } = instance
  return rest
}

describe.skipIf(!haveDcmtk)('readFramePixels on real native data', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pacsflow-pixels-'))
    for (const key of ['siemens2', 'siemens3', 'xa30T1', 'philips', 'enhanced'] as const) {
      samples.set(key, await unpackSeries(key, join(scratch, key)))
    }
  }, 60_000)

  afterAll(async () => {
    if (scratch !== '') await rm(scratch, { recursive: true, force: true })
  })

  it('equals the stored values DCMTK dumps, for Siemens, XA30, Philips magnitude and phase', async () => {
    const files = [sample('siemens2', 0), sample('siemens2', 50), sample('siemens3', 7), sample('xa30T1', 40), sample('philips', 0), sample('philips', 211)]
    for (const file of files) {
      const instance = await readDicomHeader(file)
      const pixels = await readFramePixels(instance)
      expect(pixels, basename(file)).toBeInstanceOf(Uint16Array)
      expect(pixels).toHaveLength(instance.rows * instance.columns)
      expect(Array.from(pixels)).toEqual(Array.from(uint16le(await dcmtkPixelBytes(file, scratch))))
    }
  })

  it('reads each frame of an enhanced multi-frame file, alone or all at once', async () => {
    const file = sample('enhanced', 1)
    const instance = await readDicomHeader(file)
    const raw = uint16le(await dcmtkPixelBytes(file, scratch))
    const size = instance.rows * instance.columns
    const all = await readAllFrames(instance)
    expect(all).toHaveLength(6)
    for (const [index, frame] of all.entries()) expect(Array.from(frame)).toEqual(Array.from(raw.subarray(index * size, (index + 1) * size)))
    expect(Array.from(await readFramePixels(instance, 4))).toEqual(Array.from(all[4] ?? []))
    await expect(readFramePixels(instance, 6)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
  })

  it('reads implicit VR little endian, explicit big endian and deflated copies (DCMTK dcmconv) identically', async () => {
    for (const file of [sample('philips', 120), sample('enhanced', 0), sample('siemens2', 3)]) {
      const original = await readDicomHeader(file)
      const reference = await readAllFrames(original)
      for (const [option, syntax] of [['+ti', '1.2.840.10008.1.2'], ['+tb', '1.2.840.10008.1.2.2'], ['+td', '1.2.840.10008.1.2.1.99']]) {
        const copy = join(scratch, `${basename(file)}${option}.dcm`)
        await sh('dcmconv', [option as string, file, copy])
        const instance = await readDicomHeader(copy)
        expect(instance.transferSyntaxUid).toBe(syntax)
        expect(comparable(instance), `${basename(file)} ${option}`).toEqual(comparable(original))
        const frames = await readAllFrames(instance)
        expect(frames.map((frame) => Array.from(frame)), `${basename(file)} ${option}`).toEqual(reference.map((frame) => Array.from(frame)))
        expect(Array.from(await readFramePixels(instance, 0))).toEqual(Array.from(reference[0] ?? []))
      }
    }
  })

  /** A copy of `file` with edited pixel attributes and samples, written through the dcmjs facade. */
  async function edited(file: string, name: string, edit: (dict: RawDict, samples: Uint16Array) => void): Promise<string> {
    const dataset = await readDicomDataset(file)
    const pixelData = dataset.dict['7FE00010']?.Value?.[0] as ArrayBuffer
    const values = new Uint16Array(pixelData.slice(0))
    edit(dataset.dict, values)
    dataset.dict['7FE00010'] = { vr: 'OW', Value: [values.buffer] }
    const out = join(scratch, name)
    await writeFile(out, writePart10(dataset))
    return out
  }

  it('masks to BitsStored at HighBit and sign-extends signed data', async () => {
    const file = sample('siemens2', 10)
    const raw = uint16le(await dcmtkPixelBytes(file, scratch))
    // Junk in the unused high bits, and some samples with the 12-bit sign bit set.
    const dirty = raw.map((value, i) => (value | (i % 3 === 0 ? 0xa000 : 0) | (i % 5 === 0 ? 0x0800 : 0)) & 0xffff)
    const write = (dict: RawDict, samples: Uint16Array, signed: 0 | 1, highBit: number, source: Uint16Array): void => {
      samples.set(source)
      dict['00280103'] = { vr: 'US', Value: [signed] }
      dict['00280102'] = { vr: 'US', Value: [highBit] }
    }
    const unsigned = await readFramePixels(await readDicomHeader(await edited(file, 'unsigned.dcm', (d, s) => write(d, s, 0, 11, dirty))))
    expect(unsigned).toBeInstanceOf(Uint16Array)
    expect(Array.from(unsigned)).toEqual(Array.from(dirty, (v) => v & 0x0fff))
    const signed = await readFramePixels(await readDicomHeader(await edited(file, 'signed.dcm', (d, s) => write(d, s, 1, 11, dirty))))
    expect(signed).toBeInstanceOf(Int16Array)
    expect(Array.from(signed)).toEqual(Array.from(dirty, (v) => ((v & 0x0fff) << 20) >> 20))
    expect(Math.min(...signed)).toBeLessThan(0)
    // HighBit 15 with BitsStored 12: the value is the top 12 bits of each 16-bit cell.
    const shifted = raw.map((v) => ((v << 4) | 0x7) & 0xffff)
    const top = await readFramePixels(await readDicomHeader(await edited(file, 'highbit.dcm', (d, s) => write(d, s, 1, 15, shifted))))
    expect(Array.from(top)).toEqual(Array.from(raw, (v) => ((v & 0x0fff) << 20) >> 20))
  })

  it('keeps private tags and pixel data through readDicomDataset + writePart10, also from big endian', async () => {
    const file = sample('philips', 3)
    const bigEndian = join(scratch, 'philips-be.dcm')
    await sh('dcmconv', ['+tb', file, bigEndian])
    for (const source of [file, bigEndian]) {
      const out = join(scratch, `rewritten-${basename(source)}`)
      await writeFile(out, writePart10(await readDicomDataset(source)))
      const [before, after] = [await readDicomHeader(file), await readDicomHeader(out)]
      expect(after.transferSyntaxUid).toBe('1.2.840.10008.1.2.1')
      expect(comparable(after)).toEqual(comparable(before))
      expect(Array.from(await readFramePixels(after))).toEqual(Array.from(await readFramePixels(before)))
      const dump = await sh('dcmdump', ['-q', '+P', '2005,100e', '+P', '2005,100d', out])
      expect(dump).toMatch(/\(2005,100e\) FL 0\.000237988992/)
      expect((await readFile(out)).subarray(128, 132).toString()).toBe('DICM')
    }
  })
})

describe.skipIf(dataDir === undefined)('the indexed pixel locator', () => {
  it('reads a frame without parsing the header again, and falls back when the file changed size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pacsflow-locator-'))
    try {
      const [file] = await unpackSeries('siemens2', dir)
      const instance = await readDicomHeader(file!)
      expect(instance.nativePixelData).toMatchObject({ vr: 'OW', float: false })
      const fast = await readFramePixels(instance)
      // A locator that points elsewhere shows the fast path is taken...
      const shifted = { ...instance, nativePixelData: { ...instance.nativePixelData!, offset: instance.nativePixelData!.offset - 2 } }
      expect(Array.from(await readFramePixels(shifted))).not.toEqual(Array.from(fast))
      // ...and a size that no longer matches sends the read through the full parse.
      expect(Array.from(await readFramePixels({ ...shifted, sizeBytes: instance.sizeBytes + 1 }))).toEqual(Array.from(fast))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

// Compressed pixel data written by DCMTK and GDCM decodes to the same stored values as the uncompressed file (or as their decoder, when lossy).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveTools } from '../test-support/tools.js'
import { indexDicom, readAllFrames, readDicomDataset, readDicomHeader, readFramePixels, writePart10 } from './index.js'
import { dataDir, sh, unpackSeries } from './test-fixtures.js'

const enabled = dataDir !== undefined && haveTools('dcmcrle', 'dcmcjpeg', 'dcmcjpls', 'gdcmconv', 'dcmdjpeg', 'dcmdjpls')
let scratch = ''
let singles: string[] = []
let multiFrame = ''

// Lossless encoders: [name, command, args before input/output, expected transfer syntax].
const LOSSLESS: [string, string, string[], string][] = [
  ['RLE (DCMTK)', 'dcmcrle', [], '1.2.840.10008.1.2.5'],
  ['RLE (GDCM)', 'gdcmconv', ['--rle'], '1.2.840.10008.1.2.5'],
  ['JPEG lossless SV1 (DCMTK)', 'dcmcjpeg', ['+e1'], '1.2.840.10008.1.2.4.70'],
  ['JPEG lossless process 14, predictor 6 (DCMTK)', 'dcmcjpeg', ['+el', '+sv', '6'], '1.2.840.10008.1.2.4.57'],
  ['JPEG lossless SV1 (GDCM)', 'gdcmconv', ['-J'], '1.2.840.10008.1.2.4.70'],
  ['JPEG-LS lossless (DCMTK)', 'dcmcjpls', ['+el'], '1.2.840.10008.1.2.4.80'],
  ['JPEG-LS lossless (GDCM)', 'gdcmconv', ['--jpegls'], '1.2.840.10008.1.2.4.80'],
  ['JPEG 2000 lossless (GDCM)', 'gdcmconv', ['--j2k'], '1.2.840.10008.1.2.4.90'],
]

// Lossy encoders, checked against the same toolkit's decoder: [name, encoder, args, decoder, args, syntax].
const LOSSY: [string, string, string[], string, string[], string][] = [
  ['JPEG-LS near-lossless', 'dcmcjpls', ['+en'], 'dcmdjpls', [], '1.2.840.10008.1.2.4.81'],
  ['JPEG 2000 lossy', 'gdcmconv', ['--j2k', '--lossy', '-q', '50'], 'gdcmconv', ['-w'], '1.2.840.10008.1.2.4.91'],
  ['JPEG baseline (8-bit)', 'dcmcjpeg', ['+eb'], 'dcmdjpeg', [], '1.2.840.10008.1.2.4.50'],
  ['JPEG extended (12-bit)', 'dcmcjpeg', ['+ee'], 'dcmdjpeg', [], '1.2.840.10008.1.2.4.51'],
]

async function convert(command: string, args: readonly string[], input: string, output: string): Promise<string> {
  await sh(command, [...args, input, output])
  return output
}

async function frames(path: string): Promise<number[][]> {
  return (await readAllFrames(await readDicomHeader(path))).map((frame) => Array.from(frame))
}

describe.skipIf(!enabled)('compressed transfer syntaxes (dcmjs-codecs)', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pacsflow-codecs-'))
    const pick = async (key: 'siemens2' | 'philips' | 'xa30T1' | 'enhanced', index: number): Promise<string> =>
      (await unpackSeries(key, join(scratch, key)))[index] as string
    singles = [await pick('siemens2', 20), await pick('philips', 150), await pick('xa30T1', 48)]
    multiFrame = await pick('enhanced', 2)
  }, 60_000)

  afterAll(async () => {
    if (scratch !== '') await rm(scratch, { recursive: true, force: true })
  })

  it.each(LOSSLESS)('%s decodes to the uncompressed stored values', async (name, command, args, syntax) => {
    for (const file of singles) {
      const compressed = await convert(command, args, file, join(scratch, `${basename(file)}-${name.replace(/\W+/g, '_')}.dcm`))
      const instance = await readDicomHeader(compressed)
      expect(instance.transferSyntaxUid).toBe(syntax)
      const pixels = await readFramePixels(instance)
      expect(pixels).toBeInstanceOf(Uint16Array)
      expect(Array.from(pixels), `${name} ${basename(file)}`).toEqual((await frames(file))[0])
    }
  })

  it.each(LOSSY)('%s decodes to what the toolkit itself decodes', async (name, encoder, encodeArgs, decoder, decodeArgs, syntax) => {
    for (const file of singles) {
      const stem = join(scratch, `${basename(file)}-${name.replace(/\W+/g, '_')}`)
      const compressed = await convert(encoder, encodeArgs, file, `${stem}.dcm`)
      const decoded = await convert(decoder, decodeArgs, compressed, `${stem}-decoded.dcm`)
      const instance = await readDicomHeader(compressed)
      expect(instance.transferSyntaxUid).toBe(syntax)
      const reference = await frames(decoded)
      expect(Array.from(await readFramePixels(instance)), `${name} ${basename(file)}`).toEqual(reference[0])
      if (instance.bitsAllocated === 8) expect(await readFramePixels(instance)).toBeInstanceOf(Uint8Array)
    }
  })

  it('decodes signed 12-bit data through the lossless codecs, and lossy JPEG 2000 as GDCM does', async () => {
    // Signed data from a real image: samples re-centred on 0, sign-extended in 16 bits as encoders write them.
    const dataset = await readDicomDataset(singles[0] as string)
    const stored = new Uint16Array((dataset.dict['7FE00010']?.Value?.[0] as ArrayBuffer).slice(0))
    const signed = Int16Array.from(stored, (value) => (value & 0x0fff) - 2048)
    dataset.dict['7FE00010'] = { vr: 'OW', Value: [signed.buffer] }
    dataset.dict['00280103'] = { vr: 'US', Value: [1] }
    const source = join(scratch, 'signed.dcm')
    await writeFile(source, writePart10(dataset))
    const reference = await frames(source)
    expect(Math.min(...(reference[0] ?? []))).toBe(-2048)
    for (const [command, args] of [['dcmcjpls', ['+el']], ['dcmcjpeg', ['+e1']], ['dcmcrle', []], ['gdcmconv', ['--j2k']], ['gdcmconv', ['--jpegls']]] as const) {
      const compressed = await convert(command, args, source, join(scratch, `signed-${command}-${args.join('')}.dcm`))
      const pixels = await readFramePixels(await readDicomHeader(compressed))
      expect(pixels).toBeInstanceOf(Int16Array)
      expect(Array.from(pixels), `${command} ${args.join(' ')}`).toEqual(reference[0])
    }
    // Lossy JPEG 2000 overshoots the 12-bit range: values are kept whole, not wrapped by masking.
    const lossy = await convert('gdcmconv', ['--j2k', '--lossy', '-q', '50'], source, join(scratch, 'signed-lossy.dcm'))
    const decoded = await convert('gdcmconv', ['-w'], lossy, join(scratch, 'signed-lossy-decoded.dcm'))
    expect(Array.from(await readFramePixels(await readDicomHeader(lossy)))).toEqual((await frames(decoded))[0])
  })

  it('decodes every frame of an enhanced multi-frame file, with and without offset tables and split fragments', async () => {
    const reference = await frames(multiFrame)
    const variants: [string, string[]][] = [
      ['dcmcjpls', ['+el']],
      ['dcmcrle', []],
      ['gdcmconv', ['--j2k']],
      ['dcmcjpeg', ['+e1', '+fs', '1', '+ot']],
      ['dcmcjpeg', ['+e1', '+fs', '1', '-ot']],
    ]
    for (const [index, [command, args]] of variants.entries()) {
      const compressed = await convert(command, args, multiFrame, join(scratch, `multi-${index}.dcm`))
      const instance = await readDicomHeader(compressed)
      expect(instance.numberOfFrames).toBe(6)
      expect(await frames(compressed), `${command} ${args.join(' ')}`).toEqual(reference)
      expect(Array.from(await readFramePixels(instance, 5))).toEqual(reference[5])
    }
  })

  it('concatenates a single frame split over several fragments (GDCM --split)', async () => {
    const j2k = await convert('gdcmconv', ['--j2k'], singles[1] as string, join(scratch, 'split-src.dcm'))
    const split = await convert('gdcmconv', ['-S', '1000'], j2k, join(scratch, 'split.dcm'))
    expect(await frames(split)).toEqual(await frames(singles[1] as string))
  })

  it('passes compressed pixel data through readDicomDataset + writePart10 unchanged', async () => {
    const compressed = await convert('dcmcjpls', ['+el'], multiFrame, join(scratch, 'pass-through-src.dcm'))
    const out = join(scratch, 'pass-through.dcm')
    await writeFile(out, writePart10(await readDicomDataset(compressed)))
    expect((await readDicomHeader(out)).transferSyntaxUid).toBe('1.2.840.10008.1.2.4.80')
    expect(await frames(out)).toEqual(await frames(multiFrame))
  })

  it('reports an undecodable transfer syntax and a corrupt codestream with their codes, and keeps decoding after', async () => {
    const progressive = await convert('dcmcjpeg', ['+ep'], singles[0] as string, join(scratch, 'progressive.dcm'))
    await expect(readDicomHeader(progressive)).rejects.toMatchObject({
      code: 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX', details: { path: progressive, transferSyntaxUid: '1.2.840.10008.1.2.4.55' },
    })
    const jls = await convert('dcmcjpls', ['+el'], singles[2] as string, join(scratch, 'good-jls.dcm'))
    const bytes = new Uint8Array(await readFile(jls))
    // Scramble the codestream's scan data (the last kilobyte before the sequence delimiter).
    for (let i = bytes.length - 1100; i < bytes.length - 20; i++) bytes[i] = (i * 7919) & 0xff
    const corrupt = join(scratch, 'corrupt-jls.dcm')
    await writeFile(corrupt, bytes)
    await expect(readFramePixels(await readDicomHeader(corrupt))).rejects.toMatchObject({ code: 'DICOM_DECODE_FAILED', details: { path: corrupt } })
    expect(await frames(jls)).toEqual(await frames(singles[2] as string))
    const { instances, problems } = await indexDicom([jls, progressive])
    expect(instances.map((instance) => instance.path)).toEqual([jls])
    expect(problems.map((problem) => problem.error.code)).toEqual(['DICOM_UNSUPPORTED_TRANSFER_SYNTAX'])
  })
})

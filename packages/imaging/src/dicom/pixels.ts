// readFramePixels / readAllFrames: stored pixel values of native or compressed frames (no rescale applied).
import * as fs from 'node:fs'
import { open } from 'node:fs/promises'
import { PacsflowError } from '@pacsflow/core'
import { decodeFrame, type FrameGeometry } from './codecs.js'
import { splitFrames } from './encapsulated.js'
import { asDicomError, dicomError } from './fail.js'
import { clockMs, readHeaderOf, type FileReads, type HeaderRead } from './file-reader.js'
import { nativeFrameBits } from './header.js'
import { MalformedError, TruncatedError, UNDEFINED_LENGTH, type Element } from './parser.js'
import { floatValues, storedValues, unpackBits, type PixelArray } from './stored-values.js'
import { decoderOf, type CodecName } from './syntaxes.js'
import { Tag, TransferSyntax } from './tags.js'
import type { DicomInstance } from './types.js'

/** The file's pixel data element, re-located (the instance may come from a stored index). */
interface PixelSource {
  readonly header: HeaderRead
  readonly element: Element
  readonly decoder: 'native' | 'copy' | CodecName
  readonly geometry: FrameGeometry
}

async function locate(instance: DicomInstance): Promise<PixelSource> {
  const header = await readHeaderOf(instance.path)
  const { path } = instance
  const sopInstanceUid = header.reader.string(Tag.SOPInstanceUID)
  if (sopInstanceUid !== undefined && sopInstanceUid !== instance.sopInstanceUid) {
    throw dicomError('DICOM_INVALID', path, `now holds SOP instance ${sopInstanceUid}, not ${instance.sopInstanceUid}: it changed since it was indexed`)
  }
  const element = header.parsed.pixelData
  if (element === undefined) throw dicomError('DICOM_NO_PIXEL_DATA', path, 'has no pixel data (7FE0,0010)')
  const syntax = header.parsed.transferSyntaxUid
  const decoder = decoderOf(syntax)
  if (decoder === undefined) {
    throw dicomError('DICOM_UNSUPPORTED_TRANSFER_SYNTAX', path, `transfer syntax ${syntax} cannot be decoded here`, {
      details: { transferSyntaxUid: syntax },
    })
  }
  if (element.tag === Tag.DoubleFloatPixelData) {
    throw dicomError('DICOM_DECODE_FAILED', path, 'double float pixel data (7FE0,0009) is not supported')
  }
  const geometry: FrameGeometry = {
    rows: instance.rows,
    columns: instance.columns,
    bitsAllocated: instance.bitsAllocated,
    bitsStored: instance.bitsStored,
    samplesPerPixel: instance.samplesPerPixel,
    pixelRepresentation: instance.pixelRepresentation,
    planarConfiguration: header.reader.number(Tag.PlanarConfiguration, 'US') ?? 0,
    photometricInterpretation: instance.photometricInterpretation,
  }
  return { header, element, decoder, geometry }
}

/** Bytes [from, to) of the pixel data value, from the parsed buffer when it holds them, else from the file. */
async function valueBytes(source: PixelSource, from: number, to: number): Promise<Uint8Array> {
  const { element, header } = source
  const start = element.offset + from
  const end = Math.min(element.offset + to, element.ctx.total)
  if (end <= element.ctx.bytes.length) return element.ctx.bytes.subarray(start, end)
  // Only non-deflated files get here, where parse offsets are file offsets.
  const handle = await open(header.path, 'r')
  try {
    const bytes = new Uint8Array(Math.max(0, end - start))
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, start)
    return bytes.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

function checkIndex(instance: DicomInstance, frameIndex: number): void {
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= instance.numberOfFrames) {
    throw new PacsflowError('INVALID_OPTIONS', `${instance.path}: frame ${frameIndex} does not exist (the file has ${instance.numberOfFrames})`, {
      details: { path: instance.path, frameIndex, numberOfFrames: instance.numberOfFrames },
    })
  }
}

function samplesPerFrame(instance: DicomInstance): number {
  return instance.rows * instance.columns * instance.samplesPerPixel
}

function extendedOffsets(source: PixelSource): number[] | undefined {
  const table = source.header.reader.element(Tag.ExtendedOffsetTable)
  if (table === undefined || table.length === 0) return undefined
  const { view } = table.ctx
  return Array.from({ length: Math.floor(table.length / 8) }, (_, i) => Number(view.getBigUint64(table.offset + i * 8, true)))
}

async function decodeEncapsulated(instance: DicomInstance, source: PixelSource, encoded: Uint8Array, frameIndex: number): Promise<PixelArray> {
  const count = samplesPerFrame(instance)
  let decoded: Uint8Array
  if (source.decoder === 'copy') decoded = encoded
  else {
    try {
      decoded = await decodeFrame(source.decoder as CodecName, encoded, source.geometry)
    } catch (error) {
      throw dicomError('DICOM_DECODE_FAILED', instance.path, `frame ${frameIndex} could not be decoded (${source.header.parsed.transferSyntaxUid}): ${(error as Error).message}`, {
        cause: error,
        details: { frameIndex, transferSyntaxUid: source.header.parsed.transferSyntaxUid },
      })
    }
  }
  // JPEG 2000 and JPEG XL decoders return whole (sign-extended) values at the codestream's precision;
  // a lossy one may overshoot BitsStored, which masking would wrap. The others return bit patterns.
  const whole = source.decoder === 'decodeJpeg2000' || source.decoder === 'decodeHtJpeg2000' || source.decoder === 'decodeJpegXl'
  try {
    return storedValues(decoded, { ...instance, count }, 0, !whole)
  } catch (error) {
    throw dicomError('DICOM_DECODE_FAILED', instance.path, `frame ${frameIndex} decoded to the wrong size: ${(error as Error).message}`, { cause: error })
  }
}

async function encapsulatedFrames(instance: DicomInstance, source: PixelSource): Promise<Uint8Array[]> {
  if (source.element.length !== UNDEFINED_LENGTH) {
    throw dicomError('DICOM_INVALID', instance.path, `transfer syntax ${source.header.parsed.transferSyntaxUid} needs encapsulated pixel data, the file has a plain value`)
  }
  const value = await valueBytes(source, 0, Number.POSITIVE_INFINITY)
  return splitFrames(value, instance.numberOfFrames, extendedOffsets(source))
}

/**
 * The stored values (no rescale) of one frame, rows × columns (× samples per pixel, as stored),
 * row-major, in the array type BitsAllocated and PixelRepresentation imply, masked to BitsStored
 * and sign-extended for signed data. Compressed frames go through dcmjs-codecs.
 *
 * Throws DICOM_NO_PIXEL_DATA, DICOM_UNSUPPORTED_TRANSFER_SYNTAX, DICOM_DECODE_FAILED,
 * DICOM_TRUNCATED or DICOM_INVALID, naming the file.
 */
export async function readFramePixels(instance: DicomInstance, frameIndex = 0): Promise<PixelArray> {
  return readFramePixelsWith(instance, frameIndex, undefined)
}

/** {@link readFramePixels}, reading indexed native pixel data directly while `reads` says the files come fast (a volume's load). */
export async function readFramePixelsWith(instance: DicomInstance, frameIndex: number, reads: FileReads | undefined): Promise<PixelArray> {
  checkIndex(instance, frameIndex)
  try {
    if (instance.nativePixelData !== undefined) {
      const frameBits = nativeFrameBits(instance)
      const from = Math.floor((frameIndex * frameBits) / 8)
      const to = Math.ceil(((frameIndex + 1) * frameBits) / 8)
      const bytes = reads?.direct === true ? indexedBytesDirect(instance, from, to, reads) : await indexedBytes(instance, from, to)
      if (bytes !== undefined) return nativeFrameAt(instance, layoutFromIndex(instance), bytes, frameIndex, from)
    }
    const source = await locate(instance)
    if (source.decoder !== 'native') {
      const frames = await encapsulatedFrames(instance, source)
      return await decodeEncapsulated(instance, source, frames[frameIndex] as Uint8Array, frameIndex)
    }
    const frameBits = nativeFrameBits(instance)
    const from = Math.floor((frameIndex * frameBits) / 8)
    const bytes = await valueBytes(source, from, Math.ceil(((frameIndex + 1) * frameBits) / 8))
    return nativeFrameAt(instance, layoutOf(source), bytes, frameIndex, from)
  } catch (error) {
    throw pixelError(instance.path, error)
  }
}

/** Every frame of the file, reading it once. */
export async function readAllFrames(instance: DicomInstance): Promise<PixelArray[]> {
  try {
    if (instance.nativePixelData !== undefined) {
      const bytes = await indexedBytes(instance, 0, Math.ceil((nativeFrameBits(instance) * instance.numberOfFrames) / 8))
      const layout = layoutFromIndex(instance)
      if (bytes !== undefined) return Array.from({ length: instance.numberOfFrames }, (_, index) => nativeFrameAt(instance, layout, bytes, index, 0))
    }
    const source = await locate(instance)
    if (source.decoder !== 'native') {
      const frames = await encapsulatedFrames(instance, source)
      const out: PixelArray[] = []
      for (const [index, frame] of frames.entries()) out.push(await decodeEncapsulated(instance, source, frame, index))
      return out
    }
    const bytes = await valueBytes(source, 0, Math.ceil((nativeFrameBits(instance) * instance.numberOfFrames) / 8))
    const layout = layoutOf(source)
    return Array.from({ length: instance.numberOfFrames }, (_, index) => nativeFrameAt(instance, layout, bytes, index, 0))
  } catch (error) {
    throw pixelError(instance.path, error)
  }
}

/** How native pixel bytes are laid out (from the parsed element, or the index's locator). */
interface NativeLayout {
  readonly bigEndian: boolean
  readonly vr: string
  readonly float: boolean
}

function layoutOf(source: PixelSource): NativeLayout {
  return {
    bigEndian: source.header.parsed.transferSyntaxUid === TransferSyntax.ExplicitVRBigEndian,
    vr: source.element.vr,
    float: source.element.tag === Tag.FloatPixelData,
  }
}

/** A native frame from `bytes`, which start at byte `from` of the pixel data value. */
function nativeFrameAt(instance: DicomInstance, layout: NativeLayout, bytes: Uint8Array, frameIndex: number, from: number): PixelArray {
  const count = samplesPerFrame(instance)
  const frameBits = nativeFrameBits(instance)
  const firstBit = frameIndex * frameBits - from * 8
  if (instance.bitsAllocated === 1) return unpackBits(bytes, firstBit, count)
  const frame = bytes.subarray(firstBit / 8, firstBit / 8 + frameBits / 8)
  if (frame.length < frameBits / 8) {
    throw dicomError('DICOM_TRUNCATED', instance.path, `frame ${frameIndex} needs ${frameBits / 8} bytes, the file has ${frame.length}`)
  }
  if (layout.float) return floatValues(frame, count, layout.bigEndian)
  // PS3.5 7.3: big-endian OB is a byte stream; OW swaps 16-bit words; OL/OF swap 32-bit words.
  const words = !layout.bigEndian || layout.vr === 'OB' ? 0 : layout.vr === 'OW' ? 2 : 4
  return storedValues(frame, { ...instance, count }, words)
}

/**
 * Bytes [from, to) of a native pixel data value located by the index, with one positioned
 * read; undefined when the file's size changed since it was indexed (then the header is parsed
 * again, which checks the file still holds the same instance).
 */
function indexedBytes(instance: DicomInstance, from: number, to: number): Promise<Uint8Array | undefined> {
  const located = instance.nativePixelData
  if (located === undefined) return Promise.resolve(undefined)
  // Plain descriptors and callbacks: a FileHandle per file costs more than the read itself.
  return new Promise((resolve, reject) => {
    fs.open(instance.path, 'r', (openError, fd) => {
      if (openError !== null) return reject(openError)
      const finish = (error: Error | null, bytes?: Uint8Array): void =>
        fs.close(fd, () => (error === null ? resolve(bytes) : reject(error)))
      fs.fstat(fd, (statError, stats) => {
        if (statError !== null) return finish(statError)
        if (stats.size !== instance.sizeBytes) return finish(null, undefined)
        const bytes = new Uint8Array(to - from)
        fs.read(fd, bytes, 0, bytes.length, located.offset + from, (readError, bytesRead) =>
          finish(readError, bytes.subarray(0, bytesRead)),
        )
      })
    })
  })
}

/**
 * {@link indexedBytes} with synchronous calls, for files just indexed (in the page cache): four
 * thread-pool round trips per file cost more than the reads. Slow files switch `reads` back to the pool.
 */
function indexedBytesDirect(instance: DicomInstance, from: number, to: number, reads: FileReads): Uint8Array | undefined {
  const located = instance.nativePixelData
  if (located === undefined) return undefined
  const started = clockMs()
  const fd = fs.openSync(instance.path, 'r')
  try {
    if (fs.fstatSync(fd).size !== instance.sizeBytes) return undefined
    const bytes = new Uint8Array(to - from)
    let at = 0
    while (at < bytes.length) {
      const n = fs.readSync(fd, bytes, at, bytes.length - at, located.offset + from + at)
      if (n === 0) break
      at += n
    }
    return bytes.subarray(0, at)
  } finally {
    fs.closeSync(fd)
    reads.took(clockMs() - started)
  }
}

function layoutFromIndex(instance: DicomInstance): NativeLayout {
  const located = instance.nativePixelData!
  return { bigEndian: instance.transferSyntaxUid === TransferSyntax.ExplicitVRBigEndian, vr: located.vr, float: located.float }
}

function pixelError(path: string, error: unknown): PacsflowError {
  const fromParserOrSystem = error instanceof PacsflowError || error instanceof TruncatedError || error instanceof MalformedError
    || (error instanceof Error && 'code' in error)
  if (fromParserOrSystem) return asDicomError(path, error)
  // What is left is a layout no decoder here handles (e.g. BitsAllocated 12).
  return dicomError('DICOM_DECODE_FAILED', path, `pixel data cannot be decoded: ${(error as Error).message}`, { cause: error })
}

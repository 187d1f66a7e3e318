// Reads .nii / .nii.gz files (gzip detected by magic bytes) into native-endian, aligned typed arrays.
import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { isPacsflowError, nodeZlib } from '@pacsflow/core'
import { DATATYPES, HOST_LITTLE_ENDIAN, viewAs } from './datatypes.js'
import { niftiError } from './nifti-error.js'
import { MAX_HEADER_BYTES, parseNiftiHeader } from './parse-header.js'
import type { ParsedHeader } from './parse-header.js'
import type { NiftiHeader, NiftiImage } from './types.js'

const CHUNK = 1 << 20
const MAX_DEFLATE_RATIO = 1100

/** Reads only the header (for .nii.gz, only as much of the stream as the header needs). */
export async function readNiftiHeader(path: string): Promise<NiftiHeader> {
  return withFile(path, async (handle) => {
    let head: Uint8Array = await readAt(handle, MAX_HEADER_BYTES, 0)
    if (isGzip(head)) head = await gunzipPrefix(handle, path)
    return parseNiftiHeader(head, path).header
  })
}

/** Reads a whole NIfTI-1 or NIfTI-2 image, either byte order, plain or gzipped. */
export async function readNifti(path: string): Promise<NiftiImage> {
  const { parsed, bytes } = await withFile(path, async (handle) => {
    const head = await readAt(handle, MAX_HEADER_BYTES, 0)
    if (isGzip(head)) return undefined
    const parsed = parseNiftiHeader(head, path)
    const { size } = await handle.stat()
    checkLength(path, parsed, size)
    return { parsed, bytes: await readAt(handle, parsed.dataBytes, parsed.header.voxOffset) }
  }).then((plain) => plain ?? readGzip(path))
  if (parsed.littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(bytes, DATATYPES[parsed.header.datatype].bytes)
  return { header: parsed.header, data: viewAs(parsed.header.datatype, bytes) }
}

/**
 * The voxel values with scl_slope/scl_inter applied (when the slope is a finite non-zero
 * number; 0 means "unscaled" per nifti1.h). Float64 for float64/int32/uint32 data, whose values
 * float32 cannot hold exactly; float32 otherwise. Always a new array.
 */
export function scaledData(image: NiftiImage): Float32Array | Float64Array {
  const { data, header } = image
  const wide = data instanceof Float64Array || data instanceof Int32Array || data instanceof Uint32Array
  const out = wide ? new Float64Array(data.length) : new Float32Array(data.length)
  const { sclSlope: slope, sclInter: inter } = header
  if (slope === 0 || !Number.isFinite(slope) || (slope === 1 && inter === 0)) {
    out.set(data)
    return out
  }
  for (let i = 0; i < data.length; i++) out[i] = data[i]! * slope + inter
  return out
}

/** Opens `path`, runs `body`, closes; a file-system failure becomes NIFTI_INVALID naming the file. */
async function withFile<T>(path: string, body: (handle: FileHandle) => Promise<T>): Promise<T> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    throw fsError(path, error)
  }
  try {
    return await body(handle)
  } catch (error) {
    throw isPacsflowError(error) ? error : fsError(path, error)
  } finally {
    await handle.close()
  }
}

function fsError(path: string, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error)
  const errno = (error as { code?: unknown } | undefined)?.code
  return niftiError('NIFTI_INVALID', path, `cannot read the file: ${reason}`, typeof errno === 'string' ? { errno } : {}, error)
}

/** Up to `length` bytes at `position` in a fresh buffer (fewer only at the end of the file). */
async function readAt(handle: FileHandle, length: number, position: number): Promise<Uint8Array<ArrayBuffer>> {
  const buffer = new Uint8Array(length)
  let filled = 0
  while (filled < length) {
    // One read is capped near 2 GiB by the OS, so large volumes take several.
    const { bytesRead } = await handle.read(buffer, filled, Math.min(length - filled, 1 << 30), position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return filled === length ? buffer : buffer.subarray(0, filled)
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** The first decompressed bytes of a gzip file, inflating only a growing prefix of it. */
async function gunzipPrefix(handle: FileHandle, path: string): Promise<Uint8Array> {
  for (let size = 4096; ; size *= 8) {
    const compressed = await readAt(handle, size, 0)
    let out: Uint8Array
    try {
      // Z_SYNC_FLUSH lets zlib return what it has for a stream cut short (Node's zlib docs, "Flushing").
      const zlib = nodeZlib()
      out = zlib.gunzipSync(compressed, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    } catch (error) {
      throw niftiError('NIFTI_INVALID', path, `corrupt gzip data: ${(error as Error).message}`, {}, error)
    }
    if (out.byteLength >= MAX_HEADER_BYTES || compressed.byteLength < size) return out
  }
}

/** Streams a .nii.gz through gunzip, copying the voxel data straight into its own buffer. */
async function readGzip(path: string): Promise<{ parsed: ParsedHeader; bytes: Uint8Array<ArrayBuffer> }> {
  const { size } = await stat(path).catch((error: unknown) => {
    throw fsError(path, error)
  })
  const sink = new DecompressedSink(path, size)
  try {
    await pipeline(createReadStream(path, { highWaterMark: CHUNK }), nodeZlib().createGunzip({ chunkSize: CHUNK }), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) sink.push(chunk)
    })
  } catch (error) {
    if (isPacsflowError(error)) throw error
    if ((error as { code?: unknown }).code === 'ENOENT') throw fsError(path, error)
    const message = `corrupt or truncated gzip data after ${sink.position} decompressed bytes: ${(error as Error).message}`
    throw niftiError('NIFTI_INVALID', path, message, { ...sink.expected(), actualBytes: sink.position }, error)
  }
  return sink.finish()
}

/** Receives the decompressed stream: parses the header once it has arrived, then keeps only the voxel bytes. */
class DecompressedSink {
  /** Decompressed bytes received so far. */
  position = 0
  private parsed: ParsedHeader | undefined
  private bytes = new Uint8Array(0)
  private readonly pending: Buffer[] = []
  private readonly path: string
  private readonly compressedBytes: number

  constructor(path: string, compressedBytes: number) {
    this.path = path
    this.compressedBytes = compressedBytes
  }

  push(chunk: Buffer): void {
    if (this.parsed === undefined) {
      this.pending.push(chunk)
      if (this.position + chunk.byteLength >= MAX_HEADER_BYTES) this.start(Buffer.concat(this.pending.splice(0)))
    } else {
      this.take(chunk, this.position)
    }
    this.position += chunk.byteLength
  }

  finish(): { parsed: ParsedHeader; bytes: Uint8Array<ArrayBuffer> } {
    // A whole image smaller than the largest header (a tiny NIfTI-1) never reached `start`.
    const parsed = this.parsed ?? this.start(Buffer.concat(this.pending))
    checkLength(this.path, parsed, this.position)
    return { parsed, bytes: this.bytes }
  }

  expected(): { expectedBytes?: number } {
    return this.parsed === undefined ? {} : { expectedBytes: this.parsed.header.voxOffset + this.parsed.dataBytes }
  }

  private start(head: Buffer): ParsedHeader {
    const parsed = parseNiftiHeader(head, this.path)
    // Deflate expands at most ~1032:1, so a header announcing more than that is a truncated or
    // corrupt file: say so before allocating what may be gigabytes.
    const expectedBytes = parsed.header.voxOffset + parsed.dataBytes
    if (expectedBytes > MAX_DEFLATE_RATIO * this.compressedBytes) {
      const message = `truncated or corrupt: the header announces ${expectedBytes} bytes, more than ${this.compressedBytes} gzip bytes can hold`
      throw niftiError('NIFTI_INVALID', this.path, message, { expectedBytes, compressedBytes: this.compressedBytes })
    }
    this.parsed = parsed
    this.bytes = new Uint8Array(parsed.dataBytes)
    this.take(head, 0)
    return parsed
  }

  /** Copies the part of `chunk` (at decompressed offset `at`) that falls inside the voxel data. */
  private take(chunk: Uint8Array, at: number): void {
    const { voxOffset } = this.parsed!.header
    const from = Math.max(at, voxOffset)
    const to = Math.min(at + chunk.byteLength, voxOffset + this.bytes.byteLength)
    if (to > from) this.bytes.set(chunk.subarray(from - at, to - at), from - voxOffset)
  }
}

function checkLength(path: string, parsed: ParsedHeader, fileBytes: number): void {
  const expected = parsed.header.voxOffset + parsed.dataBytes
  if (fileBytes < expected) {
    const { dims, datatype, voxOffset } = parsed.header
    throw niftiError(
      'NIFTI_INVALID',
      path,
      `truncated: ${dims.join('x')} ${datatype} voxels at offset ${voxOffset} need ${expected} bytes, the file has ${fileBytes}`,
      { expectedBytes: expected, actualBytes: fileBytes },
    )
  }
}

/** Reverses each `size`-byte element in place (big-endian file to little-endian host). */
function swapBytes(bytes: Uint8Array, size: 1 | 2 | 4 | 8): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (size === 2) buffer.swap16()
  else if (size === 4) buffer.swap32()
  else if (size === 8) buffer.swap64()
}

// Reads just enough of a DICOM file to parse its header: a first chunk, more only when the header is longer.
import { closeSync, fstatSync, open, openSync, read, readSync } from 'node:fs'
import { asDicomError, dicomError } from './fail.js'
import { NeedMoreDataError, parsePart10, type ParsedFile } from './parser.js'
import { TagFilter } from './tag-filter.js'
import { Tag } from './tags.js'
import { decoderFor, Reader } from './values.js'
import { VENDOR_PRIVATE_TAGS } from './vendor.js'

// Most MR headers fit (Siemens classic ~96 KiB, XA30 ~150 KiB with their CSA headers), so most
// MR files are read whole in one call; longer headers take more reads.
const FIRST_CHUNK = 256 * 1024

/**
 * A buffer for {@link readHeaderOf} to read first chunks into, file after file. A fresh buffer per
 * file is fresh memory per file, and the page faults of filling it cost more than the read itself.
 */
export function chunkBuffer(): Buffer {
  return Buffer.allocUnsafe(FIRST_CHUNK)
}

/**
 * What a header read records: the attributes of Tag (everything the readers of this folder ask
 * for by name) and the vendor private tags. The rest of the header is walked past.
 */
export const HEADER_TAGS = new TagFilter(Object.values(Tag), VENDOR_PRIVATE_TAGS)

/** A parsed header with the file's size and a reader on its top-level dataset. */
export interface HeaderRead {
  readonly path: string
  readonly sizeBytes: number
  readonly parsed: ParsedFile
  readonly reader: Reader
  readonly meta: Reader
}

// Through libuv's thread pool, the calls that may wait on the disk (open, read) are each one promise
// around a node:fs callback (a FileHandle's bookkeeping costs more than the read in a cold process).
// fstat and close of an open descriptor do not wait on the disk: they are always made directly.
function openFile(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (error, fd) => (error === null ? resolve(fd) : reject(error))))
}

function readAt(fd: number, buffer: Uint8Array, at: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, at, buffer.length - at, at, (error, bytesRead) => (error === null ? resolve(bytesRead) : reject(error))))
}

/** A monotonic clock in milliseconds (`performance.now()` would load perf_hooks: ~1 ms of a cold process). */
export function clockMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000
}

/** Opening and reading a file directly for longer than this means slow storage... */
const SLOW_FILE_MS = 2
/** ...once it happened this often (not one hiccup of a busy machine). */
const SLOW_FILES = 3

/**
 * How the files of one index run are read. While they come from the page cache (a folder just
 * written or read), directly: a thread-pool round trip costs more than such a call, and on a small
 * machine the pool's threads take CPU from the parse. Once files open and read slowly (a network
 * share, a cold disk), through the thread pool for the rest of the run, where the reads of
 * concurrent files overlap.
 */
export class FileReads {
  direct: boolean
  private slow = 0

  constructor(direct: boolean) {
    this.direct = direct
  }

  /** Notes how long a file took to open and read directly. */
  took(ms: number): void {
    if (ms > SLOW_FILE_MS && ++this.slow >= SLOW_FILES) this.direct = false
  }
}

/** Fills `buffer` from byte `from` of the file (the same offsets in both). */
async function readInto(fd: number, buffer: Uint8Array, from: number): Promise<void> {
  let at = from
  while (at < buffer.length) {
    const bytesRead = await readAt(fd, buffer, at)
    if (bytesRead === 0) throw new Error(`the file shrank while being read (${at} of ${buffer.length} bytes)`)
    at += bytesRead
  }
}

/** How readHeaderOf reads, in an index run. */
export interface ReadOptions {
  /** Read the first chunk into this buffer (from chunkBuffer): the header read is then only valid until it is read into again. */
  readonly reuse?: Buffer
  readonly reads: FileReads
}

/** Parses the header of `path` (stopping at the pixel data), reading as little of the file as it can. */
export async function readHeaderOf(path: string, options?: ReadOptions): Promise<HeaderRead> {
  const direct = options?.reads.direct === true
  const started = direct ? clockMs() : 0
  let fd: number
  try {
    fd = direct ? openSync(path, 'r') : await openFile(path)
  } catch (error) {
    throw dicomError('DICOM_INVALID', path, `cannot be opened: ${(error as Error).message}`, { cause: error })
  }
  try {
    const stats = fstatSync(fd)
    if (!stats.isFile()) throw dicomError('DICOM_INVALID', path, 'is not a regular file')
    const sizeBytes = stats.size
    // Not zero-filled: every byte is read before it is used.
    const first = Math.min(sizeBytes, FIRST_CHUNK)
    const reuse = options?.reuse
    let bytes: Uint8Array = reuse !== undefined && reuse.length >= first
      ? Buffer.from(reuse.buffer, reuse.byteOffset, first)
      : Buffer.allocUnsafe(first)
    // One read nearly always fills the chunk; readInto (one more async call) finishes a short one.
    const read = direct ? readSync(fd, bytes, 0, bytes.length, 0) : await readAt(fd, bytes, 0)
    if (direct) options.reads.took(clockMs() - started)
    if (read < bytes.length) await readInto(fd, bytes, read)
    for (;;) {
      try {
        return headerOf(path, sizeBytes, parsePart10(bytes, sizeBytes, { stopAtPixelData: true, keep: HEADER_TAGS }))
      } catch (error) {
        if (!(error instanceof NeedMoreDataError) || bytes.length >= sizeBytes) throw error
        const grown = Buffer.allocUnsafe(Math.min(sizeBytes, Math.max(error.needed, bytes.length * 2)))
        grown.set(bytes)
        await readInto(fd, grown, bytes.length)
        bytes = grown
      }
    }
  } catch (error) {
    throw asDicomError(path, error)
  } finally {
    closeSync(fd)
  }
}

/** A file's first bytes, still in memory, and the file's whole size (see ReadDicomHeaderOptions.head). */
export interface DicomHead {
  readonly bytes: Uint8Array
  readonly size: number
}

/**
 * The header parsed from bytes already in memory, or undefined when they end before the header
 * does. Errors as readHeaderOf's.
 */
export function headerFromHead(path: string, head: DicomHead): HeaderRead | undefined {
  const { bytes, size } = head
  if (bytes.length > size) throw dicomError('DICOM_INVALID', path, `has a head of ${bytes.length} bytes but a size of ${size}`)
  // Too short to hold the preamble and 'DICM': the file says more than these bytes can.
  if (bytes.length < size && bytes.length < 132) return undefined
  try {
    return headerOf(path, size, parsePart10(bytes, size, { stopAtPixelData: true, keep: HEADER_TAGS }))
  } catch (error) {
    if (error instanceof NeedMoreDataError) return undefined
    throw asDicomError(path, error)
  }
}

function headerOf(path: string, sizeBytes: number, parsed: ParsedFile): HeaderRead {
  const charset = new Reader(parsed.dataset).strings(Tag.SpecificCharacterSet)
  return { path, sizeBytes, parsed, meta: new Reader(parsed.meta), reader: new Reader(parsed.dataset, decoderFor(charset), HEADER_TAGS) }
}

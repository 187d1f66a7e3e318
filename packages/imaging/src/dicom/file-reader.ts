// Reads just enough of a DICOM file to parse its header: a first chunk, more only when the header is longer.
import { open, type FileHandle } from 'node:fs/promises'
import { asDicomError, dicomError } from './fail.js'
import { NeedMoreDataError, parsePart10, type ParsedFile } from './parser.js'
import { Tag } from './tags.js'
import { decoderFor, Reader } from './values.js'

// Most MR headers fit (Siemens classic ~96 KiB, XA30 ~150 KiB with their CSA headers), so most
// MR files are read whole in one call; longer headers take more reads.
const FIRST_CHUNK = 256 * 1024

/** A parsed header with the file's size and a reader on its top-level dataset. */
export interface HeaderRead {
  readonly path: string
  readonly sizeBytes: number
  readonly parsed: ParsedFile
  readonly reader: Reader
  readonly meta: Reader
}

/** Fills `buffer` from byte `from` of the file (the same offsets in both). */
async function readInto(handle: FileHandle, buffer: Uint8Array, from: number): Promise<void> {
  let at = from
  while (at < buffer.length) {
    const { bytesRead } = await handle.read(buffer, at, buffer.length - at, at)
    if (bytesRead === 0) throw new Error(`the file shrank while being read (${at} of ${buffer.length} bytes)`)
    at += bytesRead
  }
}

/** Parses the header of `path` (stopping at the pixel data), reading as little of the file as it can. */
export async function readHeaderOf(path: string): Promise<HeaderRead> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    throw dicomError('DICOM_INVALID', path, `cannot be opened: ${(error as Error).message}`, { cause: error })
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw dicomError('DICOM_INVALID', path, 'is not a regular file')
    const sizeBytes = stats.size
    // Not zero-filled: every byte is read before it is used.
    let bytes: Uint8Array = Buffer.allocUnsafe(Math.min(sizeBytes, FIRST_CHUNK))
    await readInto(handle, bytes, 0)
    for (;;) {
      try {
        const parsed = parsePart10(bytes, sizeBytes, { stopAtPixelData: true })
        const charset = new Reader(parsed.dataset).strings(Tag.SpecificCharacterSet)
        return { path, sizeBytes, parsed, meta: new Reader(parsed.meta), reader: new Reader(parsed.dataset, decoderFor(charset)) }
      } catch (error) {
        if (!(error instanceof NeedMoreDataError) || bytes.length >= sizeBytes) throw error
        const grown = Buffer.allocUnsafe(Math.min(sizeBytes, Math.max(error.needed, bytes.length * 2)))
        grown.set(bytes)
        await readInto(handle, grown, bytes.length)
        bytes = grown
      }
    }
  } catch (error) {
    throw asDicomError(path, error)
  } finally {
    await handle.close()
  }
}

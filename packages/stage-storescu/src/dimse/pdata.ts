// Writes a data set as P-DATA-TF PDUs straight from the file's bytes, with backpressure, never re-encoding it.
import type { FileHandle } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { PacsflowError } from '@pacsflow/core'

/** Largest PDV we write when the peer sets no limit (max PDU length 0, PS3.8 D.1). */
const UNLIMITED_PDV = 1024 * 1024 - 12
/** Bytes read from the file per step when streaming a large data set. */
const STREAM_CHUNK = 1024 * 1024

/**
 * The data bytes per PDV for a peer's maximum PDU length: the PDU's variable field holds the
 * PDV item (4-byte length, context id, control header) and its data (PS3.8 9.3.5). We keep
 * 6 bytes more margin, as DCMTK does, for receivers that count the PDU header too.
 */
export function maxPdvDataLength(peerMaxPduLength: number): number {
  if (peerMaxPduLength <= 0) return UNLIMITED_PDV
  return Math.max(1, Math.min(peerMaxPduLength, UNLIMITED_PDV + 12) - 12)
}

/** Writes the 12 bytes that precede a data PDV's data: PDU header, then PDV item header (PS3.8 9.3.5, E.2). */
function writeHeader(into: Buffer, at: number, presentationContextId: number, dataLength: number, last: boolean): void {
  into[at] = 0x04 // P-DATA-TF
  into[at + 1] = 0
  into.writeUInt32BE(dataLength + 6, at + 2) // PDU length: the PDV item
  into.writeUInt32BE(dataLength + 2, at + 6) // PDV item length: context id, control header, data
  into[at + 10] = presentationContextId
  into[at + 11] = last ? 0x02 : 0x00 // data set fragment; bit 1 marks the last
}

/**
 * Queues `data` as data-set PDVs on the socket in one corked write (writev): the headers in one
 * buffer, the data as slices of `data` itself, no copy. Returns false when the socket's buffer
 * is full (wait for 'drain').
 */
export function writeDataPdus(
  socket: Socket,
  presentationContextId: number,
  data: Uint8Array,
  maxPdv: number,
  lastChunk: boolean,
  onFlushed?: (error?: Error | null) => void,
): boolean {
  const count = Math.max(1, Math.ceil(data.length / maxPdv))
  const headers = Buffer.allocUnsafe(12 * count)
  socket.cork()
  let ok = true
  for (let index = 0; index < count; index++) {
    const at = index * maxPdv
    const end = Math.min(at + maxPdv, data.length)
    writeHeader(headers, index * 12, presentationContextId, end - at, lastChunk && index === count - 1)
    const final = index === count - 1
    // An empty data set still needs its one, last, PDV.
    ok = socket.write(headers.subarray(index * 12, index * 12 + 12), final && end === at ? onFlushed : undefined)
    if (end > at) ok = socket.write(data.subarray(at, end), final ? onFlushed : undefined)
  }
  socket.uncork()
  return ok
}

/** Resolves when the socket drains; rejects when it closes or errors first, or the signal aborts. */
export function drained(socket: Socket, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      socket.off('drain', onDrain)
      socket.off('close', onClose)
      signal.removeEventListener('abort', onClose)
    }
    const onDrain = (): void => {
      cleanup()
      resolve()
    }
    const onClose = (): void => {
      cleanup()
      reject(lostConnection())
    }
    if (socket.destroyed || signal.aborted) {
      onClose()
      return
    }
    socket.on('drain', onDrain)
    socket.on('close', onClose)
    signal.addEventListener('abort', onClose, { once: true })
  })
}

/**
 * Streams `length` bytes of an open file from `offset` as data-set PDVs, one chunk at a time,
 * in two buffers taken in turn: a chunk is read while the previous one is on the wire, and a
 * buffer is read into again only once the socket has handed the chunk it held to the kernel
 * (the write callback). A 268 MB instance costs two chunks of memory, not its size.
 */
export async function streamDataPdus(
  socket: Socket,
  presentationContextId: number,
  file: FileHandle,
  offset: number,
  length: number,
  maxPdv: number,
  signal: AbortSignal,
): Promise<void> {
  // Whole PDVs per chunk, so that only the last chunk of the data set ends in a short PDV.
  const chunkSize = Math.min(length, Math.max(maxPdv, Math.floor(STREAM_CHUNK / maxPdv) * maxPdv))
  const buffers = [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)]
  const flushed: (Promise<void> | undefined)[] = [undefined, undefined]
  for (let done = 0, turn = 0; done < length; turn ^= 1) {
    await flushed[turn]
    if (signal.aborted || socket.destroyed) throw lostConnection()
    const want = Math.min(chunkSize, length - done)
    const chunk = (buffers[turn] as Buffer).subarray(0, want)
    let filled = 0
    while (filled < want) {
      const { bytesRead } = await file.read(chunk, filled, want - filled, offset + done + filled)
      if (bytesRead === 0) throw new PacsflowError('DICOM_INVALID', 'the file shrank while it was being sent', { details: { offset, length } })
      filled += bytesRead
    }
    done += want
    const last = done === length
    flushed[turn] = new Promise<void>((resolve, reject) => {
      writeDataPdus(socket, presentationContextId, chunk, maxPdv, last, (error) => (error ? reject(lostConnection()) : resolve()))
    })
    flushed[turn]?.catch(() => {})
  }
  await Promise.all(flushed)
}

function lostConnection(): PacsflowError {
  return new PacsflowError('STORE_CONNECTION_FAILED', 'the connection closed while sending a data set', { retryable: true })
}

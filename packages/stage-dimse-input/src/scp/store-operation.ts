// One C-STORE being received: the data set streamed into the spool's incoming file behind its meta group, committed, answered.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import type { Logger } from '@pacsflow/core'
import { isValidUid } from '@pacsflow/imaging'
import { SEAL_BYTES, writeSeal } from '@pacsflow/spool'
import { Status } from '../dimse/constants.js'
import type { CommitResult, Provenance, ReceiverSpool } from '../spool-port.js'
import { writeFileMeta } from './part10-meta.js'
import type { PreparedFiles } from './prepared-files.js'

/** How a C-STORE ended: the status we answer (PS3.4 Table B.2-1) and what the spool made of it. */
export interface StoreOutcome {
  readonly status: number
  readonly errorComment?: string
  readonly commit?: CommitResult
  /** Data set bytes received. */
  readonly bytes: number
}

export interface StoreRequest {
  readonly messageId: number
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  /** The accepted presentation context's transfer syntax. */
  readonly transferSyntaxUid: string
  readonly callingAet: string
  readonly provenance: Provenance
}

export interface StoreOperationOptions {
  readonly spool: ReceiverSpool
  readonly log: Logger
  /**
   * Bytes gathered before they are written out (default 256 KiB, at least 4 KiB): the most a
   * C-STORE holds in memory besides its head. The first batch is the head the spool parses the
   * header from; the file meta group is written straight into it.
   */
  readonly batchBytes?: number
  /** Where to take a file made ready in advance (else one is created when the C-STORE starts). */
  readonly prepared?: PreparedFiles
  /**
   * Is this the only association (asked as the object arrives and at commit time)? Then the
   * spool's fsyncs may block the event loop, and the head is written out as it fills, while the
   * sender still sends. With several, the event loop always has another sender to read, and the
   * head is written once full or at the end, in fewer calls. Default true.
   */
  readonly flushInline?: () => boolean
}

/**
 * The default batch, and so the head handed to the spool: the headers of nearly all objects fit
 * (Siemens classic ~96 KiB with its CSA headers); a longer one is read back from the file.
 */
const BATCH_BYTES = 256 * 1024
/**
 * Past the head, a run of at least this many bytes is written from the caller's buffer (the
 * receiver's read buffer) instead of being copied into a batch first: one copy less for most of a
 * large object's bytes. Within the head, this many bytes gathered are written out at once.
 */
const DIRECT_WRITE_BYTES = 64 * 1024
/** The smallest batch: the file meta group (under 500 bytes with 64-character UIDs) must fit in the head. */
const MIN_BATCH_BYTES = 4096

/**
 * Batch buffers of the default size, reused from object to object: a fresh one per object was
 * fresh memory to fault in, and garbage that made the collector run more often (measured: a full
 * collection every ~100 ms of receiving).
 */
const spareBuffers = {
  free: [] as Buffer[],
  take(size: number): Buffer {
    return (size === BATCH_BYTES ? this.free.pop() : undefined) ?? Buffer.allocUnsafe(size)
  },
  give(buffer: Buffer | undefined): void {
    if (buffer !== undefined && buffer.length === BATCH_BYTES && this.free.length < 16) this.free.push(buffer)
  },
}

/** PS3.5 6.2: a UI value has at most 64 characters; longer ones cannot even go into a file meta group safely. */
const MAX_UID_LENGTH = 64

/**
 * Receives one object. `write` takes the data set's bytes as they arrive and copies them into a
 * batch, written out when full (the head, which stays in memory until the commit, as it fills,
 * 64 KiB at a time), or, past the head, writes a long run as it is (the caller may reuse its buffer
 * as soon as `write` returns: the receiver reads the socket into one buffer it reuses); `end`
 * seals the object when its file was prepared, writes the rest, hands the file to `spool.commit`
 * with the first batch as its head, and resolves with the status to answer: Success only once the
 * spool says the object is durable (accepted, stored, duplicate or new version); 0xA700 Refused:
 * Out of Resources for a write or commit failure, which the sender may retry; 0xC000 Error: Cannot
 * understand for an object the spool quarantined (a UID that is not a DICOM UID, unreadable data),
 * which resending will not mend (PS3.4 B.2.3).
 *
 * The incoming file is written with synchronous calls on purpose: each is a copy into the page
 * cache (tens of microseconds for a batch), while an asynchronous call costs two thread hand-offs,
 * and on a busy host each hand-off waits for a time slice: measured, a third of the receiver's
 * throughput on one association. Reading stops while a batch is written: that is the backpressure,
 * so memory stays at two batches per association (the head and the current one) whatever the
 * object's size.
 */
export class StoreOperation {
  private path: string | undefined
  private fd: number | undefined
  /** The file came prepared, its name already durable: the object is sealed and answered once it is flushed (see end). */
  private sealable = false
  private failure: { status: number; comment: string } | undefined
  /** The file's first batch: written out when full, and kept for the spool to parse the header from. */
  private head: Buffer | undefined
  /** Bytes of the head that are the file's (all of it once the next batch has begun). */
  private headSize = 0
  /** While the head fills: how much of it is written out already (see enqueue). */
  private headWritten = 0
  /** The batch after the head, reused once written. */
  private batch: Buffer | undefined
  /** Bytes waiting in the current batch (the head until it is full). */
  private fill = 0
  /** Bytes written to the file, meta group included. */
  private written = 0
  private bytes = 0
  private finished = false

  constructor(
    readonly request: StoreRequest,
    private readonly options: StoreOperationOptions,
  ) {
    const refusal = refusalOf(request)
    if (refusal !== undefined) {
      this.failure = { status: Status.CannotUnderstand, comment: refusal }
      return
    }
    try {
      const prepared = options.prepared?.take()
      if (prepared === undefined) {
        this.path = options.spool.incomingPath(isValidUid(request.sopInstanceUid) ? request.sopInstanceUid : undefined)
        this.fd = openSync(this.path, 'wx')
      } else {
        this.path = prepared.path
        this.fd = prepared.fd
        this.sealable = true
      }
      this.head = spareBuffers.take(Math.max(MIN_BATCH_BYTES, options.batchBytes ?? BATCH_BYTES))
    } catch (error) {
      this.writeFailed(error as Error)
      return
    }
    this.fill = writeFileMeta(this.head, {
      sopClassUid: request.sopClassUid,
      sopInstanceUid: request.sopInstanceUid,
      transferSyntaxUid: request.transferSyntaxUid,
      sourceAet: request.callingAet,
    })
  }

  /** The next bytes of the data set (copied before this returns); after a write failure they are read and dropped. */
  write(bytes: Buffer): void {
    this.bytes += bytes.length
    this.enqueue(bytes)
  }

  /** The batch being filled: the head until it is full, then the reused one. */
  private current(): Buffer | undefined {
    if (this.head === undefined) return undefined
    if (this.headSize === 0) return this.head
    return (this.batch ??= spareBuffers.take(this.head.length))
  }

  private enqueue(bytes: Buffer): void {
    for (let at = 0; at < bytes.length && this.fd !== undefined; ) {
      // Past the head, a long run with nothing waiting before it goes straight to the file from the caller's buffer.
      if (this.headSize > 0 && this.fill === 0 && bytes.length - at >= DIRECT_WRITE_BYTES) {
        this.writeOut(bytes, at, bytes.length - at)
        return
      }
      const batch = this.current()
      if (batch === undefined) return
      const copied = bytes.copy(batch, this.fill, at)
      this.fill += copied
      at += copied
      if (this.fill === batch.length) this.flush()
    }
    // On one association the head is written out as it fills, a long run at a time, rather than
    // all at the end: its sender waits for the end, not for what is written while it still sends
    // (an object smaller than the head was otherwise written whole after its last fragment).
    if (this.headSize === 0 && this.head !== undefined && this.fill - this.headWritten >= DIRECT_WRITE_BYTES && (this.options.flushInline?.() ?? true)) {
      if (this.writeOut(this.head, this.headWritten, this.fill - this.headWritten)) this.headWritten = this.fill
    }
  }

  /**
   * Writes `length` bytes of `bytes` from `at` to the file (a write may take less than asked: the
   * rest goes in further calls). False when there is no file, or the write failed (the object is
   * then refused: see writeFailed).
   */
  private writeOut(bytes: Buffer, at: number, length: number): boolean {
    const fd = this.fd
    if (fd === undefined) return false
    try {
      for (let done = 0; done < length; ) done += writeSync(fd, bytes, at + done, length - done)
    } catch (error) {
      this.writeFailed(error as Error)
      return false
    }
    this.written += length
    return true
  }

  /** Writes the current batch out (of the head, what is not written yet). */
  private flush(): void {
    const batch = this.current()
    if (this.fd === undefined || batch === undefined || this.fill === 0) return
    const inHead = this.headSize === 0
    const from = inHead ? this.headWritten : 0
    const size = this.fill
    if (size > from && !this.writeOut(batch, from, size - from)) return
    this.fill = 0
    if (inHead) this.headSize = size
  }

  /**
   * The last fragment arrived: seal (a prepared file), write the rest, commit (the spool flushes
   * through our descriptor), close, and say what to answer. Never rejects. A sealed object is
   * answered once it is durable and identified, and the spool places it after (`commit.placed`).
   */
  async end(): Promise<StoreOutcome> {
    this.finished = true
    const sealed = this.sealable && this.failure === undefined && this.seal()
    this.flush()
    if (this.failure !== undefined || this.path === undefined) {
      this.closeFile()
      return this.failed()
    }
    try {
      const head = this.head === undefined ? undefined : { bytes: this.head.subarray(0, this.headSize), size: this.written }
      let commit: CommitResult
      try {
        const flushInline = this.options.flushInline?.() ?? true
        // The file stays open until the commit settles: the spool flushes it through our descriptor.
        const options = { flushInline, sealed, ...(this.fd === undefined ? {} : { fd: this.fd }), ...(head === undefined ? {} : { head }) }
        commit = await this.options.spool.commit(this.path, this.request.provenance, options)
      } finally {
        this.releaseBuffers()
        this.closeFile(true)
      }
      if (commit.status === 'quarantined') {
        const reason = commit.reason === undefined ? 'quarantined' : `${commit.reason.code}: ${commit.reason.message}`
        return { status: Status.CannotUnderstand, errorComment: reason, commit, bytes: this.bytes }
      }
      return { status: Status.Success, commit, bytes: this.bytes }
    } catch (error) {
      this.options.log.error({ err: error, sopInstanceUid: this.request.sopInstanceUid, path: this.path }, 'the spool could not commit a received object')
      this.failure = { status: Status.OutOfResources, comment: `spool: ${(error as Error).message}` }
      return this.failed()
    }
  }

  /**
   * Writes the spool's seal into the preamble: into the head, and over the file's first bytes too
   * when the head has been written out already (the head must stay the file's own bytes). False
   * when there is nothing to seal; a failed write refuses the object, as any write failure does.
   */
  private seal(): boolean {
    const { head, fd } = this
    if (head === undefined || fd === undefined) return false
    try {
      const waiting = this.headSize === 0 ? this.fill - this.headWritten : this.fill
      writeSeal(head, this.written + waiting, this.request.provenance)
      if (this.headSize > 0 || this.headWritten > 0) {
        for (let done = 0; done < SEAL_BYTES; ) done += writeSync(fd, head, done, SEAL_BYTES - done, done)
      }
      return true
    } catch (error) {
      this.writeFailed(error as Error)
      return false
    }
  }

  private releaseBuffers(): void {
    spareBuffers.give(this.head)
    spareBuffers.give(this.batch)
    this.head = undefined
    this.batch = undefined
    this.headSize = 0
    this.headWritten = 0
    this.fill = 0
  }

  /** The association ended before the last fragment: the partial file is removed, nothing is committed. */
  abort(): Promise<void> {
    if (!this.finished) {
      this.finished = true
      this.releaseBuffers()
      this.closeFile()
      this.removeFile()
    }
    return Promise.resolve()
  }

  /**
   * Closes the file, once. A failing close before the commit refuses the object; after the
   * commit (the spool has flushed, placed or quarantined it) it changes nothing and is logged.
   */
  private closeFile(afterCommit = false): void {
    const fd = this.fd
    this.fd = undefined
    if (fd === undefined) return
    try {
      closeSync(fd)
    } catch (error) {
      if (!afterCommit) this.writeFailed(error as Error)
      else this.options.log.warn({ err: error, sopInstanceUid: this.request.sopInstanceUid }, 'a received file could not be closed after its commit')
    }
  }

  private removeFile(): void {
    if (this.path === undefined) return
    try {
      rmSync(this.path, { force: true })
    } catch (error) {
      this.options.log.warn({ err: error, path: this.path }, 'a partial object could not be removed')
    }
  }

  private failed(): StoreOutcome {
    this.removeFile()
    const failure = this.failure ?? { status: Status.OutOfResources, comment: 'the file could not be written' }
    return { status: failure.status, errorComment: failure.comment, bytes: this.bytes }
  }

  private writeFailed(error: Error): void {
    this.options.log.error({ err: error, sopInstanceUid: this.request.sopInstanceUid, path: this.path }, 'a received object could not be written')
    this.failure ??= { status: Status.OutOfResources, comment: `write: ${(error as NodeJS.ErrnoException).code ?? error.message}` }
    this.releaseBuffers()
    if (this.fd !== undefined) {
      const fd = this.fd
      this.fd = undefined
      try {
        closeSync(fd)
      } catch {
        // already failing; the file is removed at the end
      }
    }
  }
}

/** Why a request is refused before anything is written, or undefined. */
function refusalOf(request: StoreRequest): string | undefined {
  if (request.sopClassUid === '' || request.sopInstanceUid === '') return 'the C-STORE-RQ lacks its Affected SOP Class or Instance UID'
  if (request.sopClassUid.length > MAX_UID_LENGTH || request.sopInstanceUid.length > MAX_UID_LENGTH) return 'a UID in the C-STORE-RQ is longer than 64 characters'
  return undefined
}

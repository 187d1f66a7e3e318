// One C-STORE being received: the data set streamed into the spool's incoming file behind its meta group, committed, answered.
import { closeSync, openSync, rmSync, writevSync } from 'node:fs'
import type { Logger } from '@pacsflow/core'
import { isValidUid } from '@pacsflow/imaging'
import { Status } from '../dimse/constants.js'
import type { CommitResult, Provenance, ReceiverSpool } from '../spool-port.js'
import { encodeFileMeta } from './part10-meta.js'
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
  /** Bytes gathered before they are written out (default 256 KiB): the most a C-STORE holds in memory. */
  readonly batchBytes?: number
  /** Where to take a file made ready in advance (else one is created when the C-STORE starts). */
  readonly prepared?: PreparedFiles
  /** Asked at commit time: may the spool's fsyncs block the event loop (true when this is the only association)? Default true. */
  readonly flushInline?: () => boolean
}

/**
 * How much of an object's start goes to the spool with it, so that its header is parsed from
 * memory: the headers of nearly all objects fit (Siemens classic ~96 KiB with its CSA headers);
 * a longer one is read back from the file.
 */
const HEAD_BYTES = 256 * 1024

/**
 * Buffers for the heads, reused from object to object: a fresh one per object was fresh memory
 * to fault in, and garbage that made the collector run more often (measured: a full collection
 * every ~100 ms of receiving).
 */
const spareHeads = {
  free: [] as Buffer[],
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(HEAD_BYTES)
  },
  give(buffer: Buffer): void {
    if (this.free.length < 8) this.free.push(buffer)
  },
}

/** PS3.5 6.2: a UI value has at most 64 characters; longer ones cannot even go into a file meta group safely. */
const MAX_UID_LENGTH = 64

/**
 * Receives one object. `write` takes the data set's bytes as they arrive (the socket's own
 * slices, never copied) and writes them out in batches of `batchBytes`; `end` writes the rest,
 * closes the file, hands it to `spool.commit` and resolves with the status to answer: Success
 * only once the spool says the object is durable (stored, duplicate or new version); 0xA700
 * Refused: Out of Resources for a write or commit failure, which the sender may retry; 0xC000
 * Error: Cannot understand for an object the spool quarantined (a UID that is not a DICOM UID,
 * unreadable data), which resending will not mend (PS3.4 B.2.3).
 *
 * The incoming file is written with synchronous calls on purpose: each is a copy into the page
 * cache (tens of microseconds for a batch), while an asynchronous call costs two thread hand-offs,
 * and on a busy host each hand-off waits for a time slice: measured, a third of the receiver's
 * throughput on one association. Reading stops while a batch is written: that is the backpressure,
 * so memory stays at one batch per association whatever the object's size.
 */
export class StoreOperation {
  private path: string | undefined
  private fd: number | undefined
  private failure: { status: number; comment: string } | undefined
  private batch: Buffer[] = []
  private batchSize = 0
  /** A copy of the file's first bytes (up to HEAD_BYTES), from which the spool parses the header. */
  private head: Buffer | undefined
  private headSize = 0
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
      }
      this.head = spareHeads.take()
    } catch (error) {
      this.writeFailed(error as Error)
      return
    }
    this.enqueue(
      encodeFileMeta({
        sopClassUid: request.sopClassUid,
        sopInstanceUid: request.sopInstanceUid,
        transferSyntaxUid: request.transferSyntaxUid,
        sourceAet: request.callingAet,
      }),
    )
  }

  /** The next bytes of the data set; after a write failure they are read and dropped. */
  write(bytes: Buffer): void {
    this.bytes += bytes.length
    this.enqueue(bytes)
  }

  private enqueue(bytes: Buffer): void {
    if (this.fd === undefined || bytes.length === 0) return
    if (this.head !== undefined && this.headSize < this.head.length) this.headSize += bytes.copy(this.head, this.headSize)
    this.batch.push(bytes)
    this.batchSize += bytes.length
    if (this.batchSize >= (this.options.batchBytes ?? 256 * 1024)) this.flush()
  }

  /** Writes the gathered bytes (writev may write less than asked: the rest goes in further calls). */
  private flush(): void {
    const fd = this.fd
    if (fd === undefined) return
    let parts = this.batch
    let left = this.batchSize
    this.written += left
    this.batch = []
    this.batchSize = 0
    try {
      while (left > 0) {
        let written = writevSync(fd, parts)
        left -= written
        while (written > 0 && parts.length > 0) {
          const first = parts[0]!
          if (written >= first.length) {
            written -= first.length
            parts = parts.slice(1)
          } else {
            parts = [first.subarray(written), ...parts.slice(1)]
            written = 0
          }
        }
      }
    } catch (error) {
      this.writeFailed(error as Error)
    }
  }

  /** The last fragment arrived: write the rest, commit (the spool flushes through our descriptor), close, and say what to answer. Never rejects. */
  async end(): Promise<StoreOutcome> {
    this.finished = true
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
        const options = { flushInline, ...(this.fd === undefined ? {} : { fd: this.fd }), ...(head === undefined ? {} : { head }) }
        commit = await this.options.spool.commit(this.path, this.request.provenance, options)
      } finally {
        this.releaseHead()
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

  private releaseHead(): void {
    if (this.head !== undefined) spareHeads.give(this.head)
    this.head = undefined
    this.headSize = 0
  }

  /** The association ended before the last fragment: the partial file is removed, nothing is committed. */
  abort(): Promise<void> {
    if (!this.finished) {
      this.finished = true
      this.batch = []
      this.releaseHead()
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
    this.batch = []
    this.batchSize = 0
    this.releaseHead()
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

// Incoming files made ready ahead of need, so that a C-STORE neither waits for the file system to make one nor for its name to be flushed.
import { closeSync, openSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { fsyncDir, type Logger } from '@pacsflow/core'
import type { ReceiverSpool } from '../spool-port.js'

/** An empty incoming file, open for writing, whose name is durable (incoming/ was flushed after it was made). */
export interface PreparedFile {
  readonly path: string
  readonly fd: number
}

/** After a failed preparation (disk full, permissions), none is tried for this long: C-STOREs create their files themselves. */
const RETRY_AFTER_MS = 5_000
/** Files made per batch, behind one flush of the folder. */
const DEFAULT_BATCH = 16

/**
 * Files for the next C-STOREs, made while the receiver waits for the network (after an answer is
 * written, while its sender prepares the next object): creating a file took 0.04-0.19 ms on the
 * development VM's ext4, on the critical path of a sender that waits for every answer.
 *
 * The files are empty. They used to be filled with zeros to the last object's size too, so that a
 * C-STORE wrote over pages already in the page cache; measured with a running (JIT-compiled)
 * receiver, the fill cost more CPU than it saved: in 6 interleaved pairs, on one association and on
 * four, every pair was faster without it relative to storescp (on four associations, 0.76-0.98 ms
 * of CPU per 227 KB object against 0.86-1.06).
 *
 * They are made in batches, and `incoming/` is flushed (in the thread pool) before a batch is
 * handed out, so that each file's name is durable: a C-STORE written into one can be sealed and
 * acknowledged as soon as the file itself is flushed (`CommitOptions.sealed` in @pacsflow/spool),
 * and a crash after that leaves it where the spool's recovery finds it.
 *
 * Files that were never used are removed by `close`; after a crash, the spool's recovery removes
 * whatever unsealed is left in `incoming/`, as it does for any object that was not acknowledged.
 */
export class PreparedFiles {
  private readonly ready: PreparedFile[] = []
  /** The batch being prepared, if any (one at a time). */
  private preparing: Promise<void> | undefined
  private closed = false
  private pausedUntil = 0
  private readonly batch: number

  constructor(
    private readonly spool: ReceiverSpool,
    private readonly log: Logger,
    /** A batch is started when fewer than this many are ready (asked each time: the receiver's depends on its associations). */
    private readonly spare: number | (() => number),
    /** Files made per batch, behind one flush of `incoming/` (default 16, at least 1). */
    batch = DEFAULT_BATCH,
  ) {
    this.batch = Math.max(1, Math.trunc(batch))
    this.refill()
  }

  /** How many files are ready now. */
  get readyCount(): number {
    return this.ready.length
  }

  /**
   * A ready file, or undefined (none ready yet, or preparation is failing): the caller creates its
   * own. Taking does not start the next batch: see {@link replenish}.
   */
  take(): PreparedFile | undefined {
    return this.ready.shift()
  }

  /**
   * Starts a batch when fewer than `spare` files are ready and none is under way. The receiver
   * calls it once a C-STORE's answer is written, while its sender reads the answer and sends the
   * next object: handing work to the thread pool costs the event loop tens of microseconds (seen
   * in a CPU profile, mostly waking a worker thread), which at the start of a C-STORE would delay it.
   */
  replenish(): void {
    this.refill()
  }

  /** Closes and removes the files nobody took, including those still being prepared (resolves once they are gone). */
  async close(): Promise<void> {
    this.closed = true
    for (const file of this.ready.splice(0)) this.discard(file)
    await this.preparing
  }

  private refill(): void {
    const spare = typeof this.spare === 'number' ? this.spare : this.spare()
    if (this.closed || this.preparing !== undefined || this.ready.length >= spare || Date.now() < this.pausedUntil) return
    this.preparing = this.prepareBatch()
      .then(
        (files) => {
          for (const file of files) {
            if (this.closed) this.discard(file)
            else this.ready.push(file)
          }
        },
        (error: unknown) => {
          this.pausedUntil = Date.now() + RETRY_AFTER_MS
          this.log.warn({ err: error }, `could not prepare an incoming file; C-STOREs create their own for ${RETRY_AFTER_MS / 1000} s`)
        },
      )
      .finally(() => (this.preparing = undefined))
  }

  /**
   * Creates `batch` files, then flushes `incoming/` once for all of them (in the thread pool): a
   * folder's flush is a write to the disk of its own, and one per file, in the pool while the
   * sender waited for the next object's flush, made that flush wait for it. The files are created
   * with synchronous calls, one after another (16 µs each, measured, against 38 µs of the
   * process's CPU for an asynchronous open: the thread pool's hand-offs cost more than the
   * creation); creating 16 at once in the pool's threads kept the folder busy for 8-15 ms, and
   * every inline fsync that fell in that time took over 5 ms; with several associations, whose
   * fsyncs queue in the pool ahead of each creation, C-STOREs found none ready and made their own.
   */
  private async prepareBatch(): Promise<PreparedFile[]> {
    const files: PreparedFile[] = []
    try {
      for (let k = 0; k < this.batch; k++) {
        const path = this.spool.incomingPath()
        files.push({ path, fd: openSync(path, 'wx') })
      }
      await fsyncDir(dirname(files[0]!.path), { inline: false })
      return files
    } catch (error) {
      for (const file of files) this.discard(file)
      throw error
    }
  }

  private discard(file: PreparedFile): void {
    try {
      closeSync(file.fd)
      rmSync(file.path, { force: true })
    } catch (error) {
      this.log.warn({ err: error, path: file.path }, 'an unused incoming file could not be removed')
    }
  }
}

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
 * They are handed out in batches, once `incoming/` has been flushed (in the thread pool) after the
 * batch's files were made, so that each file's name is durable: a C-STORE written into one can be
 * sealed and acknowledged as soon as the file itself is flushed (`CommitOptions.sealed` in
 * @pacsflow/spool), and a crash after that leaves it where the spool's recovery finds it.
 *
 * Files that were never used are removed by `close`; after a crash, the spool's recovery removes
 * whatever unsealed is left in `incoming/`, as it does for any object that was not acknowledged.
 */
export class PreparedFiles {
  private readonly ready: PreparedFile[] = []
  /** Made, their names not yet flushed: handed out once `incoming/` has been. */
  private unflushed: PreparedFile[] = []
  /** The flush of `incoming/` under way, if any (one at a time), and how many files it covers. */
  private flushing: Promise<void> | undefined
  private flushingCount = 0
  private closed = false
  private pausedUntil = 0
  private readonly batch: number

  constructor(
    private readonly spool: ReceiverSpool,
    private readonly log: Logger,
    /** The low mark (asked each time: the receiver's depends on its associations): see {@link replenish}. */
    private readonly spare: number | (() => number),
    /** Files behind one flush of `incoming/` (default 16, at least 1), kept on top of `spare`. */
    batch = DEFAULT_BATCH,
  ) {
    this.batch = Math.max(1, Math.trunc(batch))
    this.replenish()
  }

  /** How many files are ready now. */
  get readyCount(): number {
    return this.ready.length
  }

  /**
   * A ready file, or undefined (none ready yet, or preparation is failing): the caller creates its
   * own. Taking makes nothing: see {@link replenish}.
   */
  take(): PreparedFile | undefined {
    return this.ready.shift()
  }

  /**
   * Keeps `spare` + a batch of files ready or on their way. Below `spare`, it makes up the whole
   * difference at once (at the start, or when more associations arrive); otherwise it makes at
   * most two, so that what was taken is made again over the next answers. It flushes `incoming/`
   * for the files waiting once a batch of them has gathered, or sooner when fewer than half of
   * `spare` are ready.
   *
   * The receiver calls it once a C-STORE's answer is written, while its sender reads the answer
   * and sends the next object: one or two creations fit in that wait, where a batch of 16 at once
   * (0.6-1.4 ms measured on the development VM) delayed the next object every 16th time. The
   * folder's flush goes to the thread pool.
   */
  replenish(): void {
    if (this.closed || Date.now() < this.pausedUntil) return
    const spare = typeof this.spare === 'number' ? this.spare : this.spare()
    const target = spare + this.batch
    const held = this.ready.length + this.unflushed.length + this.flushingCount
    const make = held < spare ? target - held : Math.min(2, target - held)
    try {
      for (let k = 0; k < make; k++) {
        const path = this.spool.incomingPath()
        this.unflushed.push({ path, fd: openSync(path, 'wx') })
      }
    } catch (error) {
      this.pause(error)
    }
    const due = this.unflushed.length >= this.batch || this.ready.length < spare / 2
    if (this.flushing === undefined && this.unflushed.length > 0 && due) this.flush()
  }

  /** Closes and removes the files nobody took, including those still being flushed (resolves once they are gone). */
  async close(): Promise<void> {
    this.closed = true
    for (const file of this.ready.splice(0)) this.discard(file)
    for (const file of this.unflushed.splice(0)) this.discard(file)
    await this.flushing
  }

  /**
   * Flushes `incoming/` (in the thread pool) for the files waiting, then hands them out. One flush
   * for many files: a folder's flush is a write to the disk of its own, and one per file, in the
   * pool while the sender waited for the next object's flush, made that flush wait for it. The
   * files themselves are created with synchronous calls (16 µs each, measured, against 38 µs of
   * the process's CPU for an asynchronous open: the thread pool's hand-offs cost more than the
   * creation); creating 16 at once in the pool's threads kept the folder busy for 8-15 ms, and
   * every inline fsync that fell in that time took over 5 ms.
   */
  private flush(): void {
    const files = this.unflushed
    this.unflushed = []
    this.flushingCount = files.length
    this.flushing = fsyncDir(dirname(files[0]!.path), { inline: false })
      .then(
        () => {
          for (const file of files) {
            if (this.closed) this.discard(file)
            else this.ready.push(file)
          }
        },
        (error: unknown) => {
          for (const file of files) this.discard(file)
          this.pause(error)
        },
      )
      .finally(() => {
        this.flushing = undefined
        this.flushingCount = 0
      })
  }

  private pause(error: unknown): void {
    this.pausedUntil = Date.now() + RETRY_AFTER_MS
    this.log.warn({ err: error }, `could not prepare an incoming file; C-STOREs create their own for ${RETRY_AFTER_MS / 1000} s`)
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

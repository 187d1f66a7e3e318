// Incoming files made ready ahead of need: created in the thread pool, so a C-STORE does not wait for the file system to make one.
import { closeSync, open, rmSync } from 'node:fs'
import type { Logger } from '@pacsflow/core'
import type { ReceiverSpool } from '../spool-port.js'

/** An empty incoming file, open for writing. */
export interface PreparedFile {
  readonly path: string
  readonly fd: number
}

/** After a failed preparation (disk full, permissions), none is tried for this long: C-STOREs create their files themselves. */
const RETRY_AFTER_MS = 5_000

function openNew(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'wx', (error, fd) => (error === null ? resolve(fd) : reject(error))))
}

/**
 * Files for the next C-STOREs, created in libuv's thread pool while the receiver waits for the
 * network: creating a file took 0.04-0.19 ms on the development VM's ext4, on the critical path of
 * a sender that waits for every answer.
 *
 * The files are empty. They used to be filled with zeros to the last object's size too, so that a
 * C-STORE wrote over pages already in the page cache; measured with a running (JIT-compiled)
 * receiver, the fill cost more CPU than it saved: in 6 interleaved pairs, on one association and on
 * four, every pair was faster without it relative to storescp (on four associations, 0.76-0.98 ms
 * of CPU per 227 KB object against 0.86-1.06).
 *
 * Files that were never used are removed by `close`; after a crash, the spool's recovery removes
 * whatever is left in `incoming/`, as it does for any object that was not committed.
 */
export class PreparedFiles {
  private readonly ready: PreparedFile[] = []
  private readonly preparing = new Set<Promise<void>>()
  private closed = false
  private pausedUntil = 0

  constructor(
    private readonly spool: ReceiverSpool,
    private readonly log: Logger,
    /** How many files to keep ready (one per association expected at once). */
    private readonly spare: number,
  ) {
    this.refill()
  }

  /** How many files are ready now. */
  get readyCount(): number {
    return this.ready.length
  }

  /**
   * A ready file, or undefined (none ready yet, or preparation is failing): the caller creates its
   * own. Taking does not start the next one: see {@link replenish}.
   */
  take(): PreparedFile | undefined {
    return this.ready.shift()
  }

  /**
   * Starts preparing files until `spare` are ready or under way. The receiver calls it once a
   * C-STORE's answer is written, while its sender reads the answer and sends the next object:
   * handing the work to the thread pool costs the event loop 30-40 µs (measured, mostly waking a
   * worker thread), which at the start of a C-STORE would delay it.
   */
  replenish(): void {
    this.refill()
  }

  /** Closes and removes the files nobody took, including those still being prepared (resolves once they are gone). */
  async close(): Promise<void> {
    this.closed = true
    for (const file of this.ready.splice(0)) this.discard(file)
    await Promise.all([...this.preparing])
  }

  private refill(): void {
    if (this.closed || Date.now() < this.pausedUntil) return
    while (this.ready.length + this.preparing.size < this.spare) {
      const preparing: Promise<void> = this.prepare()
        .then(
          (file) => {
            if (this.closed) this.discard(file)
            else this.ready.push(file)
          },
          (error: unknown) => {
            this.pausedUntil = Date.now() + RETRY_AFTER_MS
            this.log.warn({ err: error }, `could not prepare an incoming file; C-STOREs create their own for ${RETRY_AFTER_MS / 1000} s`)
          },
        )
        .finally(() => this.preparing.delete(preparing))
      this.preparing.add(preparing)
    }
  }

  private async prepare(): Promise<PreparedFile> {
    const path = this.spool.incomingPath()
    return { path, fd: await openNew(path) }
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

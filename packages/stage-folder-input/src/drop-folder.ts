// The drop-folder watcher: finds files (fs.watch plus periodic scans), waits until they stop changing, moves them into the spool.
import { watch, type FSWatcher, type Stats } from 'node:fs'
import { lstat, readdir, rm, rmdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { isPacsflowError, PacsflowError, TEMP_SUFFIX, type Logger } from '@pacsflow/core'
import type { Spool } from '@pacsflow/spool'

export interface DropFolderOptions {
  readonly dir: string
  readonly stableMs: number
  readonly pollMs: number
  readonly concurrency: number
  readonly watch: boolean
}

/** A file seen in the folder: its size and mtime when last looked at, and when to look again. */
interface Candidate {
  readonly size: number
  readonly mtimeMs: number
  readonly checkAt: number
}

/**
 * Names that are another program's temporary file, renamed when complete: pacsflow's own
 * (`.x.pacsflow-tmp`), rsync's (`.name.AbC123`), browsers' and download tools' (`.part`,
 * `.crdownload`...). They are left alone; the final name is taken when it appears.
 */
const TEMPORARY = [/\.pacsflow-tmp$/, /^\..+\.[A-Za-z0-9]{6}$/, /\.(part|partial|crdownload|download|tmp)$/i]

export function isTemporaryName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX) || TEMPORARY.some((pattern) => pattern.test(name))
}

/** A DICOMDIR only indexes the files beside it (PS3.10 8.6): it holds no image, so it is consumed without a spool entry. */
export function isDicomdirName(name: string): boolean {
  return name.toUpperCase() === 'DICOMDIR'
}

/** When a hand-on of the folder fails for a reason other than a changing file, how long before trying that file again. */
const RETRY_FAILED_MS = 10_000

function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && codes.includes(code)
}

export class DropFolder {
  private readonly candidates = new Map<string, Candidate>()
  private readonly busy = new Set<string>()
  private readonly ingests = new Set<Promise<void>>()
  /** Paths named by fs.watch events, looked at in the next turn of the loop. */
  private readonly touched = new Set<string>()
  private readonly ignored = new Set<string>()
  /** Candidates whose last copy failed (I/O error): tried again later, but they do not hold studies back. */
  private readonly failing = new Set<string>()
  private scanned = false
  private wake: (() => void) | undefined

  constructor(
    private readonly options: DropFolderOptions,
    private readonly spool: Spool,
    private readonly log: Logger,
  ) {}

  /**
   * True while files are waiting to be taken (or being taken), and before the first scan: the
   * spool then holds studies back, so that a study is not handed on while its files are still
   * in the folder (after a restart, or when copying lags behind on a busy machine).
   */
  isBusy(): boolean {
    if (!this.scanned || this.ingests.size > 0) return true
    if (this.failing.size === 0) return this.candidates.size > 0
    for (const path of this.candidates.keys()) if (!this.failing.has(path)) return true
    return false
  }

  /**
   * Watches until `signal` aborts, then waits for the copies in progress. Rejects with
   * FOLDER_INPUT_UNAVAILABLE when the folder cannot be read (missing, unmounted).
   */
  async run(signal: AbortSignal): Promise<void> {
    const watcher = this.options.watch ? this.startWatch() : undefined
    try {
      await this.scan()
      let nextScan = Date.now() + this.options.pollMs
      while (!signal.aborted) {
        await this.lookAtTouched()
        if (Date.now() >= nextScan) {
          await this.scan()
          nextScan = Date.now() + this.options.pollMs
        }
        const nextCheck = this.startDue()
        await this.sleep(Math.min(nextScan, nextCheck) - Date.now(), signal)
      }
    } finally {
      watcher?.close()
      await Promise.allSettled([...this.ingests])
    }
  }

  private startWatch(): FSWatcher | undefined {
    try {
      const watcher = watch(this.options.dir, { recursive: true }, (_event, name) => {
        if (typeof name !== 'string') return
        this.touched.add(join(this.options.dir, name))
        this.wake?.()
      })
      // Watching can fail later (the folder removed, inotify limits): the periodic scan carries on.
      watcher.on('error', (error) => this.log.warn({ err: error, dir: this.options.dir }, 'fs.watch failed; relying on the periodic scan'))
      return watcher
    } catch (error) {
      this.log.warn({ err: error, dir: this.options.dir }, 'fs.watch is not available; relying on the periodic scan')
      return undefined
    }
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.touched.size > 0) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      signal.addEventListener('abort', done, { once: true })
      this.wake = done
    })
  }

  /** Records what a file looks like now; a change (or a new file) restarts its stability wait. */
  private observe(path: string, stats: Stats): void {
    if (stats.isSymbolicLink()) {
      // A link could point anywhere the service can read; only files put in the folder are taken.
      if (!this.ignored.has(path)) this.log.warn({ path }, 'symbolic link in the drop folder ignored')
      this.ignored.add(path)
      return
    }
    if (!stats.isFile()) return
    if (isTemporaryName(basename(path))) return
    const known = this.candidates.get(path)
    if (known === undefined || known.size !== stats.size || known.mtimeMs !== stats.mtimeMs) {
      this.candidates.set(path, { size: stats.size, mtimeMs: stats.mtimeMs, checkAt: Date.now() + this.options.stableMs })
    }
  }

  private async lookAtTouched(): Promise<void> {
    const paths = [...this.touched]
    this.touched.clear()
    for (const path of paths) {
      if (this.busy.has(path)) continue
      let stats: Stats
      try {
        stats = await lstat(path)
      } catch {
        this.candidates.delete(path)
        continue
      }
      if (stats.isDirectory()) await this.walk(path, [])
      else this.observe(path, stats)
    }
  }

  /** Every file under `dir` observed; folders collected (deepest last). A folder vanishing meanwhile is skipped. */
  private async walk(dir: string, folders: string[], seen?: Set<string>): Promise<void> {
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR') && dir !== this.options.dir) return
      throw error
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        folders.push(path)
        await this.walk(path, folders, seen)
      } else if (!this.busy.has(path)) {
        seen?.add(path)
        try {
          this.observe(path, await lstat(path))
        } catch {
          this.candidates.delete(path)
        }
      }
    }
  }

  /** The whole folder: new and changed files observed, vanished ones forgotten, empty folders removed. */
  private async scan(): Promise<void> {
    const folders: string[] = []
    const seen = new Set<string>()
    try {
      await this.walk(this.options.dir, folders, seen)
    } catch (error) {
      throw new PacsflowError('FOLDER_INPUT_UNAVAILABLE', `cannot read the drop folder ${this.options.dir}: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
        details: { dir: this.options.dir },
      })
    }
    for (const path of this.candidates.keys()) {
      if (seen.has(path) || this.busy.has(path)) continue
      this.candidates.delete(path)
      this.failing.delete(path)
    }
    this.scanned = true
    await this.removeEmptyFolders(folders)
  }

  /**
   * Removes folders left empty, deepest first, never the watched folder itself. A folder must have
   * been unchanged for `stableMs`: one just created by a copy still running is left for it.
   */
  private async removeEmptyFolders(folders: readonly string[]): Promise<void> {
    for (const folder of [...folders].reverse()) {
      try {
        const stats = await lstat(folder)
        if (Date.now() - stats.mtimeMs < this.options.stableMs) continue
        if ((await readdir(folder)).length > 0) continue
        await rmdir(folder)
        this.log.debug({ folder }, 'removed an empty folder from the drop folder')
      } catch {
        // Gone already, or filled meanwhile: leave it.
      }
    }
  }

  /** Starts copying every candidate whose stability wait is over (up to `concurrency` at once); returns when to look next. */
  private startDue(): number {
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const [path, candidate] of this.candidates) {
      if (this.busy.has(path)) continue
      if (candidate.checkAt > now) {
        next = Math.min(next, candidate.checkAt)
        continue
      }
      if (this.ingests.size >= this.options.concurrency) return now + 10
      this.busy.add(path)
      const ingest = this.ingest(path, candidate).finally(() => {
        this.busy.delete(path)
        this.ingests.delete(ingest)
        this.wake?.()
      })
      this.ingests.add(ingest)
    }
    return next
  }

  private async ingest(path: string, seen: Candidate): Promise<void> {
    try {
      const stats = await lstat(path)
      if (stats.size !== seen.size || stats.mtimeMs !== seen.mtimeMs) {
        this.observe(path, stats)
        return
      }
      if (isDicomdirName(basename(path))) {
        await rm(path, { force: true })
        this.candidates.delete(path)
        this.log.info({ path }, 'DICOMDIR consumed: it only indexes the files beside it')
        return
      }
      const result = await this.spool.ingestFile(path, { source: 'folder', origin: path })
      this.candidates.delete(path)
      this.failing.delete(path)
      this.log.debug({ path, status: result.status, stored: result.path }, 'file taken into the spool')
    } catch (error) {
      if (isErrno(error, 'ENOENT') || (isPacsflowError(error, 'SPOOL_SOURCE_CHANGED') && !(await exists(path)))) {
        this.candidates.delete(path)
        this.failing.delete(path)
        return
      }
      if (isPacsflowError(error, 'SPOOL_SOURCE_CHANGED')) {
        this.candidates.set(path, { ...seen, checkAt: Date.now() + this.options.stableMs, size: -1 })
        return
      }
      this.log.error({ err: error, path }, 'could not take the file into the spool; trying again later')
      this.failing.add(path)
      this.candidates.set(path, { ...seen, checkAt: Date.now() + RETRY_FAILED_MS })
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  )
}

// Crash-safe file writes: temporary name, flush, rename, flush the folder (invariant 1).
import { closeSync, fsync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface AtomicWriteOptions {
  /**
   * fsync the file before the rename and the folder after it, so the write survives power
   * loss, not only a crash of the process (default true).
   */
  readonly durable?: boolean
  /**
   * With `durable`, also fsync the folder after the rename (default true). Writers of many files
   * into one folder pass false and call {@link fsyncDir} once after the last.
   */
  readonly syncDir?: boolean
  /** Create the parent folder when missing (default true). */
  readonly mkdir?: boolean
  /** File mode of a new file (default 0o644). */
  readonly mode?: number
}

/** The suffix of temporary files; readers of a folder written this way skip these names. */
export const TEMP_SUFFIX = '.pacsflow-tmp'

/**
 * 48 random bits in hex for a temporary name. Math.random suffices: the name only has to differ
 * from other writers' (nothing is secret), and node:crypto would add ~6 ms to every short command.
 */
function tempTag(): string {
  return Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, '0')
}

/**
 * Writes `data` to `path` so that a reader, or a restart after a crash at any instant, sees
 * either the old file or the whole new one, never a part.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const durable = options.durable ?? true
  const folder = dirname(path)
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
  // A leading dot keeps folder watchers that ignore hidden files away from half-written data.
  const temp = join(folder, `.${basename(path)}.${tempTag()}${TEMP_SUFFIX}`)
  if (size <= DIRECT_WRITE_BYTES) {
    await writeDirect(path, temp, data, durable, options)
  } else {
    await writePooled(path, temp, data, durable, options)
  }
  if (durable && (options.syncDir ?? true)) await fsyncDir(folder)
}

/**
 * Files up to this size are written with direct calls, only the fsync going through libuv's thread
 * pool: a copy into the page cache takes microseconds, while each asynchronous call costs two
 * thread hand-offs that wait for a time slice on a busy host (measured: most of the time of a
 * series of small files). Larger files are written through the pool, so the event loop never
 * stalls on a big copy.
 */
const DIRECT_WRITE_BYTES = 1 << 20

async function writeDirect(path: string, temp: string, data: string | Uint8Array, durable: boolean, options: AtomicWriteOptions): Promise<void> {
  if (options.mkdir ?? true) mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(temp, 'w', options.mode ?? 0o644)
  try {
    if (typeof data === 'string') writeSync(fd, data)
    else for (let at = 0; at < data.byteLength; ) at += writeSync(fd, data, at, data.byteLength - at)
    if (durable) await fsyncFd(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(temp, { force: true })
    throw error
  }
  closeSync(fd)
  try {
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

async function writePooled(path: string, temp: string, data: string | Uint8Array, durable: boolean, options: AtomicWriteOptions): Promise<void> {
  if (options.mkdir ?? true) await mkdir(dirname(path), { recursive: true })
  const handle = await open(temp, 'w', options.mode ?? 0o644)
  try {
    await handle.writeFile(data)
    if (durable) await handle.sync()
  } catch (error) {
    await handle.close().catch(() => {})
    await rm(temp, { force: true })
    throw error
  }
  await handle.close()
  try {
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

/** Where one fsync runs (see {@link fsyncPlacement}). */
export interface FsyncOptions {
  /**
   * `false`: in libuv's thread pool, so the event loop serves other work meanwhile (a receiver
   * with several senders at once). Default: inline while the disk is fast, as `fsyncPlacement` says.
   */
  readonly inline?: boolean
}

/** Flushes a folder's entries (a rename or a new file in it) to disk. */
export function fsyncDir(folder: string, options?: FsyncOptions): Promise<void> {
  return fsyncPath(folder, 'r', options?.inline !== false)
}

/** Flushes a file's data (and the metadata needed to read it) to disk. */
export function fsyncFile(path: string, options?: FsyncOptions): Promise<void> {
  return fsyncPath(path, 'r+', options?.inline !== false)
}

/**
 * As {@link fsyncFile}, through a descriptor the caller already holds (and closes): a writer that
 * has just written the file saves opening it again by name.
 */
export function fsyncDescriptor(fd: number, options?: FsyncOptions): Promise<void> {
  return fsyncFd(fd, options?.inline !== false)
}

/**
 * Open and close of a local path are made directly (an asynchronous call costs two thread
 * hand-offs, each of which waits for a time slice on a busy host); the fsync runs where
 * {@link fsyncPlacement} says.
 */
async function fsyncPath(path: string, flags: 'r' | 'r+', mayInline: boolean): Promise<void> {
  const fd = openSync(path, flags)
  try {
    await fsyncFd(fd, mayInline)
  } finally {
    closeSync(fd)
  }
}

/**
 * Where fsyncs run. On a local SSD or a virtual disk an fsync takes tens of microseconds to a
 * fraction of a millisecond, and through libuv's thread pool the same call costs two thread
 * hand-offs on top, each waiting for a time slice on a busy host (measured on a 2-core VM: a file's
 * fsync 0.06 ms inline against 0.22–0.35 ms through the pool, a folder's 0.045 against 0.28). A
 * DICOM sender on one association waits for each of them. So fsyncs run inline, on the calling
 * thread, while they are fast. When about a third of the recent inline ones (an exponential
 * average over roughly the last {@link SLOW_AVERAGE_OVER}) took longer than
 * {@link INLINE_FSYNC_LIMIT_MS} (a spinning disk, network storage, a write-back storm), fsyncs go
 * through the pool for the next {@link POOL_FSYNC_MS}, so a slow disk stalls the event loop for a
 * few fsyncs in that period at most. A few slow ones among many fast ones (seen: 5-13 of 5-13 ms
 * among 1,500 while another thread created files in the same folder) do not: the pool would
 * then cost every fsync two thread hand-offs for the next 30 s.
 * `PACSFLOW_FSYNC_INLINE=0` keeps every fsync in the pool.
 */
export const fsyncPlacement = {
  /** Date.now() before which fsyncs go through the pool. */
  poolUntilMs: process.env.PACSFLOW_FSYNC_INLINE === '0' ? Number.POSITIVE_INFINITY : 0,
  /** The exponential average of "this inline fsync was slow" (0 or 1) over the recent ones. */
  slowShare: 0,
  /** Inline fsyncs that took too long, since the process started (a diagnostic). */
  slowInline: 0,
}

/** An inline fsync slower than this counts as slow. */
export const INLINE_FSYNC_LIMIT_MS = 5
/** The slow share is averaged over about this many inline fsyncs (its smoothing: 1/this)... */
export const SLOW_AVERAGE_OVER = 8
/** ...and at this share, fsyncs go to the thread pool (three slow ones in a row reach it from none)... */
export const SLOW_SHARE_TO_POOL = 0.3
/** ...for this long, before they are tried inline again. */
export const POOL_FSYNC_MS = 30_000

/** Records how long an inline fsync took (see {@link fsyncPlacement}). */
export function noteInlineFsync(ms: number, now: number = Date.now()): void {
  const slow = ms > INLINE_FSYNC_LIMIT_MS
  if (!slow && fsyncPlacement.slowShare === 0) return
  if (slow) fsyncPlacement.slowInline++
  const share = fsyncPlacement.slowShare + ((slow ? 1 : 0) - fsyncPlacement.slowShare) / SLOW_AVERAGE_OVER
  // Below a hundredth it is as good as none (and the fast path above applies again).
  fsyncPlacement.slowShare = share < 0.01 ? 0 : share
  if (share >= SLOW_SHARE_TO_POOL) {
    fsyncPlacement.poolUntilMs = Math.max(fsyncPlacement.poolUntilMs, now + POOL_FSYNC_MS)
    fsyncPlacement.slowShare = 0
  }
}

function fsyncFd(fd: number, mayInline = true): Promise<void> {
  if (mayInline && Date.now() >= fsyncPlacement.poolUntilMs) {
    const started = process.hrtime.bigint()
    try {
      fsyncSync(fd)
    } catch (error) {
      return Promise.reject(error as Error)
    }
    noteInlineFsync(Number(process.hrtime.bigint() - started) / 1e6)
    return Promise.resolve()
  }
  return new Promise((resolve, reject) => fsync(fd, (error) => (error === null ? resolve() : reject(error))))
}

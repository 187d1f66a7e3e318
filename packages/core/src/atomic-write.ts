// Crash-safe file writes: temporary name, flush, rename, flush the folder (invariant 1).
import { randomBytes } from 'node:crypto'
import { closeSync, fsync, openSync } from 'node:fs'
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
  if (options.mkdir ?? true) await mkdir(folder, { recursive: true })
  // A leading dot keeps folder watchers that ignore hidden files away from half-written data.
  const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`)
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
  if (durable && (options.syncDir ?? true)) await fsyncDir(folder)
}

/** Flushes a folder's entries (a rename or a new file in it) to disk. */
export function fsyncDir(folder: string): Promise<void> {
  return fsyncPath(folder, 'r')
}

/** Flushes a file's data (and the metadata needed to read it) to disk. */
export function fsyncFile(path: string): Promise<void> {
  return fsyncPath(path, 'r+')
}

/**
 * Only the fsync waits on the disk, so only it goes through libuv's thread pool: open and close
 * of a local path are made directly (an asynchronous call costs two thread hand-offs, each of
 * which waits for a time slice on a busy host; measured, most of a spool commit's latency).
 */
async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const fd = openSync(path, flags)
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error === null ? resolve() : reject(error))))
  } finally {
    closeSync(fd)
  }
}

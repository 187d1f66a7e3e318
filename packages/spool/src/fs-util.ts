// File-system steps the spool is built from: fsync, hard links, durable folders, trash.
import { randomBytes } from 'node:crypto'
import { constants, mkdirSync } from 'node:fs'
import { copyFile, link, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fsyncDir, PacsflowError, TEMP_SUFFIX, type FsyncOptions } from '@pacsflow/core'

/** True when `error` is a Node system error with one of these codes. */
export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && codes.includes(code)
}

/** A failed spool operation as the retryable `SPOOL_IO` (disk full, I/O error, permissions). */
export function spoolIoError(action: string, error: unknown, details: Record<string, unknown> = {}): PacsflowError {
  if (error instanceof PacsflowError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new PacsflowError('SPOOL_IO', `spool: ${action}: ${message}`, { cause: error, retryable: true, details })
}

export { fsyncDescriptor, fsyncFile } from '@pacsflow/core'

/**
 * Creates `path` (and missing parents up to `root`) and flushes each parent that gained a folder,
 * so the new folder survives power loss, not only the files later put in it.
 */
export async function mkdirDurable(path: string, root: string): Promise<void> {
  // Synchronous: a directory entry in the page cache (see placeNoClobber in commit.ts); the fsyncs wait on the disk.
  const first = mkdirSync(path, { recursive: true })
  if (first === undefined) return
  const created: string[] = []
  for (let folder = path; folder.length >= first.length; folder = dirname(folder)) created.push(folder)
  for (const folder of created.reverse()) {
    const parent = dirname(folder)
    if (relative(root, parent).startsWith('..')) continue
    await fsyncDir(parent)
  }
}

/**
 * Hard-links `source` at `target` (never replacing: EEXIST if taken). On a file system without
 * hard links, copies instead (exclusive create), so snapshots still work, at the cost of the space.
 */
export async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target)
  } catch (error) {
    if (!isErrno(error, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK')) throw error
    await copyFile(source, target, constants.COPYFILE_EXCL)
  }
}

/** Every regular file under `dir`, as paths relative to it with '/' separators, sorted; temporaries skipped; [] when missing. */
export async function filesUnder(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true })
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return []
    throw error
  }
  const files: string[] = []
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.endsWith(TEMP_SUFFIX)) continue
    files.push(relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
  }
  return files.sort()
}

/** Names in a folder, or [] when it does not exist. */
export async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return []
    throw error
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false
    throw error
  }
}

/**
 * Removes a tree so that a crash never leaves part of it where it counts: one rename into
 * `trash` (atomic), then the delete. Whatever a crash leaves in `trash` is emptied at the next start.
 */
export async function removeViaTrash(path: string, trash: string): Promise<void> {
  const parked = join(trash, `${Date.now()}-${randomBytes(4).toString('hex')}`)
  try {
    await rename(path, parked)
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return
    throw error
  }
  await fsyncDir(dirname(path))
  await rm(parked, { recursive: true, force: true })
}

/**
 * Flushes folders with group commit: a flush asked for while one of the same folder runs waits
 * for the next one, which serves everyone who asked meanwhile. Concurrent commits into one series
 * (several associations) then share flushes instead of queueing one each.
 */
export class FolderFlusher {
  private readonly folders = new Map<string, { running: Promise<void> | undefined; next: Promise<void> | undefined }>()

  flush(folder: string, options?: FsyncOptions): Promise<void> {
    let state = this.folders.get(folder)
    if (state === undefined) this.folders.set(folder, (state = { running: undefined, next: undefined }))
    const current = state
    if (current.running === undefined) {
      current.running = fsyncDir(folder, options).finally(() => {
        current.running = undefined
        if (current.next === undefined && this.folders.get(folder) === current) this.folders.delete(folder)
      })
      return current.running
    }
    // The running flush may have started before the caller's change: wait for a fresh one.
    current.next ??= current.running
      .catch(() => {})
      .then(() => {
        current.next = undefined
        return this.flush(folder, options)
      })
    return current.next
  }
}

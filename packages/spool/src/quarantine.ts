// Quarantine: files that are not usable DICOM are kept aside with a reason, never in a study tree.
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, rename, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { writeFileAtomic } from '@pacsflow/core'
import { fsyncFile, isErrno } from './fs-util.js'
import type { Provenance } from './types.js'

/** What `<name>.reason.json` holds. */
export interface QuarantineRecord {
  readonly code: string
  readonly message: string
  readonly provenance: Provenance
  /** The file's original name (from the provenance for objects written to `incoming/`). */
  readonly originalName?: string
  readonly at: string
}

function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80)
  return cleaned.length > 0 ? cleaned : 'object'
}

/** Moves `path` to `target`: a rename on the same file system, else a flushed copy and the original removed. */
async function moveFile(path: string, target: string): Promise<void> {
  try {
    await rename(path, target)
    return
  } catch (error) {
    if (!isErrno(error, 'EXDEV')) throw error
  }
  await copyFile(path, target, constants.COPYFILE_EXCL)
  await fsyncFile(target)
  await rm(path, { force: true })
}

/**
 * Puts a file (moved) or bytes (written) into `folder` as `<time>-<random>-<name>`, then writes
 * `<that>.reason.json` (flushing the folder). Returns the quarantined file's path.
 */
export async function quarantineInto(
  folder: string,
  input: string | Uint8Array,
  reason: { code: string; message: string },
  provenance: Provenance,
  originalName?: string,
): Promise<string> {
  const name = originalName ?? (typeof input === 'string' ? basename(input) : 'object')
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')
  const target = join(folder, `${stamp}-${randomBytes(3).toString('hex')}-${safeName(name)}`)
  if (typeof input === 'string') await moveFile(input, target)
  else await writeFileAtomic(target, input)
  const record: QuarantineRecord = {
    code: reason.code,
    message: reason.message,
    provenance,
    ...(originalName === undefined ? {} : { originalName }),
    at: new Date().toISOString(),
  }
  // Durable too (it flushes the folder, and with it the moved file's new name).
  await writeFileAtomic(`${target}.reason.json`, `${JSON.stringify(record, null, 1)}\n`)
  return target
}

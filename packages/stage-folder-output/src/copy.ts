// Copies one file into the output folder so that a watcher sees either nothing or the whole file, never a part.
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, link, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { PacsflowError, sameFileContent, TEMP_SUFFIX } from '@pacsflow/core'
import type { OutputFileStatus } from './types.js'

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** Writes the temporary copy: a leading dot and TEMP_SUFFIX keep watchers and pacsflow readers away from it. */
async function temporaryCopy(source: string, target: string, durable: boolean): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`)
  await copyFile(source, temp, constants.COPYFILE_EXCL)
  if (durable) {
    const handle = await open(temp, 'r+')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
  return temp
}

/**
 * Puts `temp` at `target` without replacing anything: link(2) fails with EEXIST if a file
 * appeared meanwhile, atomically. File systems without hard links (FAT on memory sticks, some
 * shares) get a check, then a rename: a file created between the two would be replaced.
 */
async function placeWithoutReplacing(temp: string, target: string): Promise<boolean> {
  try {
    await link(temp, target)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error
  }
  if (await exists(target)) return false
  await rename(temp, target)
  return true
}

/** Copies `source` to `target` (whose folder exists); never leaves a partial `target`. */
export async function copyInto(source: string, target: string, overwrite: boolean, durable: boolean): Promise<OutputFileStatus> {
  try {
    if (await exists(target)) {
      if (await sameFileContent(source, target)) return 'unchanged'
      if (!overwrite) return 'conflict'
    }
    const temp = await temporaryCopy(source, target, durable)
    try {
      if (overwrite) {
        const replaced = await exists(target)
        await rename(temp, target)
        return replaced ? 'overwritten' : 'written'
      }
      if (await placeWithoutReplacing(temp, target)) return 'written'
      return (await sameFileContent(source, target)) ? 'unchanged' : 'conflict'
    } finally {
      await rm(temp, { force: true })
    }
  } catch (error) {
    throw new PacsflowError('FOLDER_OUTPUT_WRITE_FAILED', `cannot write ${target}: ${(error as Error).message}`, {
      cause: error,
      retryable: true,
      details: { source, target },
    })
  }
}

/** Removes temporary files an interrupted earlier run left for these names in `folder`. */
export async function removeStaleTemporaries(folder: string, names: ReadonlySet<string>): Promise<void> {
  const entries = await readdir(folder).catch(() => [] as string[])
  for (const entry of entries) {
    if (!entry.startsWith('.') || !entry.endsWith(TEMP_SUFFIX)) continue
    const name = entry.slice(1, entry.length - TEMP_SUFFIX.length).replace(/\.[0-9a-f]{12}$/, '')
    if (names.has(name)) await rm(join(folder, entry), { force: true })
  }
}

// indexDicom: read the headers of many files concurrently; every file ends up indexed or reported as a problem.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { asDicomError } from './fail.js'
import { chunkBuffer, clockMs, FileReads } from './file-reader.js'
import { readInstance } from './header.js'
import type { DicomInstance } from './types.js'

/** Options of {@link indexDicom}. */
export interface IndexDicomOptions {
  /** Files read at once from slow storage (default 16); files in the page cache are read one after another (see FileReads). */
  readonly concurrency?: number
  /** Stops indexing: the promise rejects with ABORTED. */
  readonly signal?: AbortSignal
  /**
   * `'async'` (default): every read goes through the thread pool, so a service's event loop is
   * never blocked. `'auto'`: files that come back fast (the page cache) are read directly, in
   * bursts of at most 10 ms between yields, until storage proves slow; about 20 % faster for a
   * one-shot tool such as `pacsflow dicom2nifti`, which has nothing else to run meanwhile.
   */
  readonly io?: 'async' | 'auto'
}

/** A file that could not be indexed, with the coded error saying why. */
export interface IndexProblem {
  readonly path: string
  readonly error: PacsflowError
}

/** What {@link indexDicom} found. */
export interface DicomIndex {
  readonly instances: DicomInstance[]
  readonly problems: IndexProblem[]
}

/** How long the index may keep the event loop busy while it reads files directly. */
const YIELD_MS = 10

/** Temporary files pacsflow writes before an atomic rename: never input. */
const TEMP_SUFFIX = '.pacsflow-tmp'

/** Every regular file under `dir`, recursively, sorted, without pacsflow temporary files. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files: string[] = []
  // join(parent, name) normalises the whole path each time; a folder's normalised prefix is computed once
  // (joining a plain entry name to it is just appending it).
  let parent: string | undefined
  let prefix = ''
  for (const entry of entries) {
    if (entry.name.endsWith(TEMP_SUFFIX)) continue
    if (entry.parentPath !== parent) {
      parent = entry.parentPath
      prefix = join(parent, '_').slice(0, -1)
    }
    const path = prefix + entry.name
    // Symbolic links are followed to what they point at; folders are walked by readdir itself.
    if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile() === true)) files.push(path)
  }
  return files.sort()
}

async function pathsOf(input: Iterable<string> | string): Promise<Iterable<string>> {
  if (typeof input !== 'string') return input
  const stats = await stat(input).catch(() => undefined)
  return stats?.isDirectory() === true ? filesUnder(input) : [input]
}

function aborted(signal: AbortSignal): PacsflowError {
  return new PacsflowError('ABORTED', 'indexing DICOM files was aborted', { cause: signal.reason })
}

/**
 * Reads the header of every file in `paths` (or under a folder, recursively), `concurrency` at a
 * time. A file that cannot be indexed (not DICOM, truncated, hostile UIDs, undecodable pixel data,
 * unreadable) is reported in `problems` with its coded error, never thrown; only an abort rejects.
 * Instances keep the input order (sorted paths for a folder). Files ending in `.pacsflow-tmp` are skipped.
 */
export async function indexDicom(paths: Iterable<string> | string, options: IndexDicomOptions = {}): Promise<DicomIndex> {
  const { signal } = options
  // A function, so that the check is not narrowed away across the awaits below.
  const stopped = (): boolean => signal?.aborted === true
  if (signal !== undefined && stopped()) throw aborted(signal)
  const list = [...(await pathsOf(paths))].filter((path) => !path.endsWith(TEMP_SUFFIX))
  const results: (DicomInstance | IndexProblem | undefined)[] = new Array(list.length)
  let next = 0
  const reads = new FileReads(options.io === 'auto')
  let yielded = clockMs()
  const worker = async (): Promise<void> => {
    // Each worker reads file after file into its own buffer.
    const reading = { reuse: chunkBuffer(), reads }
    for (let index = next++; index < list.length; index = next++) {
      if (stopped()) return
      const path = list[index] as string
      try {
        results[index] = await readInstance(path, reading)
      } catch (error) {
        results[index] = { path, error: asDicomError(path, error) }
      }
      // Direct reads never wait for the event loop: let it run (timers, I/O, an abort) now and then.
      if (reads.direct && clockMs() - yielded > YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        yielded = clockMs()
      }
    }
  }
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 16, list.length))
  await Promise.all(Array.from({ length: concurrency }, worker))
  if (signal !== undefined && stopped()) throw aborted(signal)
  const instances: DicomInstance[] = []
  const problems: IndexProblem[] = []
  for (const result of results) {
    if (result === undefined) continue
    if ('error' in result) problems.push(result)
    else instances.push(result)
  }
  return { instances, problems }
}

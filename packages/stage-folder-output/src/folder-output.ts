// folderOutput(options): the sink stage that writes a series into a folder (memory stick, share) atomically.
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { defineStage, fsyncDir, PacsflowError, silentLogger, type Logger, type Stage } from '@pacsflow/core'
import { indexDicom, type DicomInstance, type IndexProblem } from '@pacsflow/imaging'
import { copyInto, removeStaleTemporaries } from './copy.js'
import { relativePath } from './layout.js'
import type { FolderLayout, FolderOutputInput, FolderOutputOptions, FolderOutputReceipt, OutputFile } from './types.js'

interface Resolved {
  readonly dir: string
  readonly layout: FolderLayout
  readonly overwrite: boolean
  readonly durable: boolean
  readonly concurrency: number
  readonly name: string
}

function invalid(message: string): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `folderOutput: ${message}`)
}

function resolveOptions(options: FolderOutputOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw invalid('options are required ({ dir })')
  if (typeof options.dir !== 'string' || options.dir.trim() === '') throw invalid('dir is required')
  const layout = options.layout ?? 'flat'
  if (layout !== 'flat' && layout !== 'patient-study-series') throw invalid("layout must be 'flat' or 'patient-study-series'")
  const concurrency = options.concurrency ?? 4
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw invalid('concurrency must be an integer in 1-64')
  for (const flag of ['overwrite', 'durable'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw invalid(`${flag} must be a boolean`)
  }
  return {
    dir: resolve(options.dir),
    layout,
    overwrite: options.overwrite ?? false,
    durable: options.durable ?? true,
    concurrency,
    name: options.name ?? 'folder-output',
  }
}

async function instancesOf(input: FolderOutputInput, signal: AbortSignal): Promise<{ instances: readonly DicomInstance[]; problems: readonly IndexProblem[] }> {
  if (typeof input === 'object' && input !== null) {
    if ('instances' in input) return { instances: input.instances, problems: [] }
    if ('series' in input) return { instances: input.series.flatMap((series) => series.instances), problems: [] }
    if ('files' in input && Array.isArray(input.files)) {
      const instances: DicomInstance[] = []
      const problems: IndexProblem[] = []
      for (const path of input.files) {
        const index = await indexDicom(path, { signal })
        instances.push(...index.instances)
        problems.push(...index.problems)
      }
      return { instances, problems }
    }
  }
  throw new PacsflowError('INVALID_OPTIONS', 'folderOutput input must be a DicomSeries, a DicomStudy or { files: string[] }')
}

export interface WriteContext {
  readonly signal?: AbortSignal
  readonly log?: Logger
  readonly progress?: (fraction: number, note?: string) => void
}

/** Plans every target first, so a hostile UID fails the job before anything is written. */
function plan(instances: readonly DicomInstance[], options: Resolved): { source: string; sopInstanceUid: string; target: string }[] {
  const seen = new Set<string>()
  const planned: { source: string; sopInstanceUid: string; target: string }[] = []
  for (const instance of instances) {
    const target = join(options.dir, relativePath(instance, options.layout))
    if (seen.has(target)) continue
    seen.add(target)
    planned.push({ source: instance.path, sopInstanceUid: instance.sopInstanceUid, target })
  }
  return planned
}

/**
 * Copies every instance of `input` into the folder and returns what happened to each. Throws
 * FOLDER_OUTPUT_EXISTS after writing the rest when different files already held some names
 * (and `overwrite` is off), DICOM_INVALID when an input file is not DICOM, UID_INVALID before
 * writing anything when a UID could escape the folder.
 */
export async function writeToFolder(input: FolderOutputInput, options: FolderOutputOptions, context: WriteContext = {}): Promise<FolderOutputReceipt> {
  return writeResolved(input, resolveOptions(options), context)
}

async function writeResolved(input: FolderOutputInput, options: Resolved, context: WriteContext): Promise<FolderOutputReceipt> {
  const signal = context.signal ?? new AbortController().signal
  const log = context.log ?? silentLogger
  const { instances, problems } = await instancesOf(input, signal)
  if (problems.length > 0) {
    const first = problems[0] as IndexProblem
    throw new PacsflowError(first.error.code, `${problems.length} input file(s) are not readable DICOM; first: ${first.error.message}`, {
      cause: first.error,
      details: { problems: problems.map((problem) => ({ path: problem.path, code: problem.error.code })) },
    })
  }
  const planned = plan(instances, options)
  const folders = new Map<string, Set<string>>()
  for (const { target } of planned) {
    const names = folders.get(dirname(target)) ?? new Set<string>()
    names.add(target.slice(dirname(target).length + 1))
    folders.set(dirname(target), names)
  }
  for (const [folder, names] of folders) {
    await mkdir(folder, { recursive: true })
    await removeStaleTemporaries(folder, names)
  }
  const files: OutputFile[] = new Array(planned.length)
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    for (let index = next++; index < planned.length; index = next++) {
      if (signal.aborted) throw new PacsflowError('ABORTED', 'writing to the folder was aborted', { cause: signal.reason })
      const { source, sopInstanceUid, target } = planned[index]!
      files[index] = { sopInstanceUid, source, path: target, status: await copyInto(source, target, options.overwrite, options.durable) }
      context.progress?.(++done / planned.length, `${done}/${planned.length} files`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency, planned.length) }, worker))
  if (options.durable) for (const folder of ancestorsOf(folders.keys(), options.dir)) await fsyncDir(folder)
  const receipt = receiptOf(options, files)
  log.info({ dir: options.dir, written: receipt.written, unchanged: receipt.unchanged, overwritten: receipt.overwritten }, 'folder output written')
  const conflicts = files.filter((file) => file.status === 'conflict')
  if (conflicts.length > 0) {
    throw new PacsflowError('FOLDER_OUTPUT_EXISTS', `${conflicts.length} file(s) in ${options.dir} already hold different data and were left alone (overwrite is off); first: ${conflicts[0]!.path}`, {
      details: { conflicts: conflicts.map(({ path, source }) => ({ path, source })), receipt },
    })
  }
  return receipt
}

/** The folders written into and every folder above them up to `root`: their new entries are flushed too. */
function ancestorsOf(folders: Iterable<string>, root: string): string[] {
  const all = new Set<string>()
  for (let folder of folders) {
    while (folder.startsWith(root) && !all.has(folder)) {
      all.add(folder)
      if (folder === root) break
      folder = dirname(folder)
    }
  }
  return [...all]
}

function receiptOf(options: Resolved, files: readonly OutputFile[]): FolderOutputReceipt {
  const count = (status: OutputFile['status']): number => files.filter((file) => file.status === status).length
  return { dir: options.dir, layout: options.layout, written: count('written'), unchanged: count('unchanged'), overwritten: count('overwritten'), files }
}

/**
 * The sink stage: copies the series into `dir` (flat, or Patient/Study/Series folders), each
 * file written under a temporary dot-name, flushed, then renamed, so a watcher on the folder
 * never sees half a file. Overwrites nothing unless `overwrite`. Throws INVALID_OPTIONS at once.
 */
export function folderOutput(options: FolderOutputOptions): Stage<FolderOutputInput, FolderOutputReceipt> {
  const resolved = resolveOptions(options)
  return defineStage<FolderOutputInput, FolderOutputReceipt>({
    name: resolved.name,
    run: (input, ctx) => writeResolved(input, resolved, { signal: ctx.signal, log: ctx.log, progress: (fraction, note) => ctx.progress(fraction, note) }),
  })
}


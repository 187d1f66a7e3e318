// Turns the stage's input (a series, a study, or paths) into the list of SOP instances to send.
import { stat } from 'node:fs/promises'
import { PacsflowError, type Logger } from '@pacsflow/core'
import { indexDicom, type DicomInstance, type IndexProblem } from '@pacsflow/imaging'
import type { StorescuInput } from './types.js'

/** One SOP instance to send: its file and the UIDs that route, negotiate and verify it. */
export interface SendItem {
  readonly path: string
  readonly sizeBytes: number
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  readonly transferSyntaxUid: string
  readonly studyInstanceUid: string
  readonly seriesInstanceUid: string
}

export interface ResolvedInput {
  readonly items: readonly SendItem[]
  /** Files that could not be read as DICOM: reported as failed, never sent. */
  readonly problems: readonly IndexProblem[]
}

function toItem(instance: DicomInstance): SendItem {
  return {
    path: instance.path,
    sizeBytes: instance.sizeBytes,
    sopClassUid: instance.sopClassUid,
    sopInstanceUid: instance.sopInstanceUid,
    transferSyntaxUid: instance.transferSyntaxUid,
    studyInstanceUid: instance.studyInstanceUid,
    seriesInstanceUid: instance.seriesInstanceUid,
  }
}

/** The instances of the input, in its order; a SOP Instance UID met twice is sent once. */
export async function resolveInput(input: StorescuInput, signal: AbortSignal | undefined, log: Logger): Promise<ResolvedInput> {
  const { instances, problems } = await instancesOf(input, signal)
  const seen = new Map<string, string>()
  const items: SendItem[] = []
  for (const instance of instances) {
    const first = seen.get(instance.sopInstanceUid)
    if (first !== undefined) {
      log.warn({ sopInstanceUid: instance.sopInstanceUid, path: instance.path, first }, 'two files carry the same SOP Instance UID; sending the first only')
      continue
    }
    seen.set(instance.sopInstanceUid, instance.path)
    items.push(toItem(instance))
  }
  return { items, problems }
}

async function instancesOf(
  input: StorescuInput,
  signal: AbortSignal | undefined,
): Promise<{ instances: readonly DicomInstance[]; problems: readonly IndexProblem[] }> {
  if (typeof input !== 'object' || input === null) {
    throw new PacsflowError('INVALID_OPTIONS', 'storescu input must be a DicomSeries, a DicomStudy or { files: string[] }')
  }
  if ('instances' in input) return { instances: input.instances, problems: [] }
  if ('series' in input) return { instances: input.series.flatMap((series) => series.instances), problems: [] }
  if ('files' in input && Array.isArray(input.files)) return indexPaths(input.files, signal)
  throw new PacsflowError('INVALID_OPTIONS', 'storescu input must be a DicomSeries, a DicomStudy or { files: string[] }')
}

/** Indexes files and folders (recursively); a path that does not exist is a problem, not a throw. */
async function indexPaths(
  paths: readonly string[],
  signal: AbortSignal | undefined,
): Promise<{ instances: DicomInstance[]; problems: IndexProblem[] }> {
  const instances: DicomInstance[] = []
  const problems: IndexProblem[] = []
  const files: string[] = []
  const options = signal === undefined ? {} : { signal }
  for (const path of paths) {
    const stats = await stat(path).catch(() => undefined)
    if (stats?.isDirectory() === true) {
      const index = await indexDicom(path, options)
      instances.push(...index.instances)
      problems.push(...index.problems)
    } else {
      files.push(path)
    }
  }
  if (files.length > 0) {
    const index = await indexDicom(files, options)
    instances.push(...index.instances)
    problems.push(...index.problems)
  }
  return { instances, problems }
}

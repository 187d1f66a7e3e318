// folderInput's options, checked at once (INVALID_OPTIONS) with their defaults.
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { assertStageName, PacsflowError } from '@pacsflow/core'
import { resolveCompletion, type ResolvedCompletion, type Retention, type Spool } from '@pacsflow/spool'
import type { FolderInputOptions } from './types.js'

export interface ResolvedFolderInput {
  readonly dir: string
  readonly spool: string | Spool
  readonly name: string
  readonly stableMs: number
  readonly pollMs: number
  readonly concurrency: number
  readonly watch: boolean
  readonly retention: Retention
  readonly completion: ResolvedCompletion
}

function invalid(message: string): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `folderInput: ${message}`)
}

function milliseconds(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw invalid(`${name} must be a number of milliseconds >= ${min}`)
  return value
}

/** True when `inner` is `outer` or lies inside it. */
export function isInside(inner: string, outer: string): boolean {
  const path = relative(outer, inner)
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path))
}

export function resolveFolderInput(options: FolderInputOptions): ResolvedFolderInput {
  if (typeof options !== 'object' || options === null) throw invalid('options ({ dir, spool }) are required')
  if (typeof options.dir !== 'string' || options.dir.trim() === '') throw invalid('dir (the folder to watch) is required')
  const spool = options.spool
  const spoolDir = typeof spool === 'string' ? spool : spool?.dir
  if (typeof spoolDir !== 'string' || spoolDir.trim() === '') throw invalid('spool (a folder or a spool) is required')
  const dir = resolve(options.dir)
  if (isInside(resolve(spoolDir), dir) || isInside(dir, resolve(spoolDir))) {
    throw invalid(`the spool (${spoolDir}) and the watched folder (${dir}) must not contain each other`)
  }
  const name = options.name ?? 'folder-input'
  assertStageName(name, 'source')
  const concurrency = options.concurrency ?? 4
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw invalid('concurrency must be an integer in 1-64')
  if (options.watch !== undefined && typeof options.watch !== 'boolean') throw invalid('watch must be a boolean')
  const retention = options.retention ?? 'keep'
  if (retention !== 'keep' && retention !== 'delete') throw invalid("retention must be 'keep' or 'delete'")
  return {
    dir,
    spool: typeof spool === 'string' ? resolve(spool) : spool,
    name,
    stableMs: milliseconds(options.stableMs, 'stableMs', 2_000, 0),
    pollMs: milliseconds(options.pollMs, 'pollMs', 5_000, 10),
    concurrency,
    watch: options.watch ?? true,
    retention,
    completion: resolveCompletion(options),
  }
}

// createSpool: the durable store both input stages put received DICOM into (checked UIDs, de-duplicated, quarantined junk).
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, mkdir, open, rm, stat } from 'node:fs/promises'
import { basename, join, resolve, sep } from 'node:path'
import { PacsflowError, silentLogger, TEMP_SUFFIX, type Logger } from '@pacsflow/core'
import { commitInto, type ArrivalEvent } from './commit.js'
import type { CompletionTracker } from './completion.js'
import { FolderFlusher, isErrno, namesIn, spoolIoError } from './fs-util.js'
import { Folder, SpoolLayout } from './layout.js'
import { KeyedMutex } from './mutex.js'
import { quarantineInto } from './quarantine.js'
import { readSeal, SEAL_BYTES } from './seal.js'
import type { CommitOptions, CommitResult, Provenance, Spool, SpoolOptions } from './types.js'

/** What the spool shares with the Source that reads it (not part of the public `Spool`). */
export interface SpoolCore {
  readonly layout: SpoolLayout
  readonly log: Logger
  /** Serialises everything that touches one study tree: commits, hand-ons, settlements. */
  readonly studyLock: KeyedMutex
  /** Told about every instance stored (or stored as a new version). */
  readonly arrivals: Set<(event: ArrivalEvent) => void>
  /** Group-committed folder flushes for commits. */
  readonly flusher: FolderFlusher
  /** Series folders commits have made or found, so that the next commit into one skips its mkdir (see `place` in commit.ts). */
  readonly seriesFolders: Set<string>
  /** The open source reading this spool now, by name (one at a time; a newer open of the same name takes over). */
  reader: { readonly name: string; readonly tracker: CompletionTracker; readonly wake: () => void } | undefined
}

const cores = new WeakMap<Spool, SpoolCore>()
// One Spool per folder and process: a second createSpool must not "recover" (delete) objects the
// first is still writing to incoming/, and commits of both must share the study locks.
const opened = new Map<string, Promise<Spool>>()

/** The internals of a spool made by createSpool; INVALID_OPTIONS for any other object. */
export function spoolCore(spool: Spool): SpoolCore {
  const core = cores.get(spool)
  if (core === undefined) throw new PacsflowError('INVALID_OPTIONS', 'spoolSource needs a spool made by createSpool()')
  return core
}

/**
 * Lets go of a spool: the next createSpool for its folder opens it afresh (and recovers, as after
 * a restart). Call it when nothing writes to the spool any more, e.g. in tests that simulate a restart.
 */
export function closeSpool(spool: Spool): void {
  if (opened.get(spool.dir) !== undefined) opened.delete(spool.dir)
  const core = cores.get(spool)
  if (core !== undefined) core.arrivals.clear()
}

/**
 * Opens (creating when missing) the spool folder `options.dir` and recovers from a crash:
 *
 * - sealed objects left in `incoming/` (`CommitOptions.sealed`) whose seal gives the file's size
 *   are committed: a receiver may have acknowledged them before they were placed (one already
 *   placed, whose incoming name the crash kept, is found a duplicate of itself and dropped);
 * - other objects left in `incoming/` are removed. Each was either stored already (the incoming
 *   name goes only after the series folder holding the new one is flushed) or never acknowledged:
 *   a DIMSE receiver answers success only after `commit` resolved, and the folder input removes an
 *   original only after its copy was committed, so the sender (or the drop folder) still holds
 *   each of them and sends it again. Committing a complete-looking leftover would be correct too,
 *   but a truncated compressed object cannot always be told from a complete one, and removing
 *   never is wrong;
 * - trees half-deleted in `trash/` and half-made snapshots in `jobs/` are removed.
 *
 * Study trees are not scanned here: `spoolSource` does that when it opens. Within one process,
 * the same folder gives the same Spool. A spool folder belongs to one process at a time.
 */
export async function createSpool(options: SpoolOptions): Promise<Spool> {
  if (typeof options !== 'object' || options === null || typeof options.dir !== 'string' || options.dir.trim() === '') {
    throw new PacsflowError('INVALID_OPTIONS', 'createSpool: options.dir (the spool folder) is required')
  }
  const dir = resolve(options.dir)
  const existing = opened.get(dir)
  if (existing !== undefined) return existing
  const pending = openSpool(dir, options.log ?? silentLogger)
  opened.set(dir, pending)
  pending.catch(() => opened.delete(dir))
  return pending
}

async function openSpool(dir: string, log: Logger): Promise<Spool> {
  const layout = new SpoolLayout(dir)
  let sealed: SealedLeftover[]
  try {
    for (const name of Object.keys(Folder) as (keyof typeof Folder)[]) await mkdir(layout.folder(name), { recursive: true })
    sealed = await recover(layout, log)
  } catch (error) {
    throw spoolIoError(`cannot open ${dir}`, error)
  }
  const core: SpoolCore = { layout, log, studyLock: new KeyedMutex(), arrivals: new Set(), flusher: new FolderFlusher(), seriesFolders: new Set(), reader: undefined }
  await commitSealed(core, sealed)
  const spool: Spool = {
    dir,
    incomingPath: (hint) => incomingPath(layout, hint),
    commit: (path, provenance, options) => commitChecked(core, path, provenance, options),
    ingestFile: (path, provenance) => ingestFile(core, path, provenance),
    quarantine: (input, reason, provenance) =>
      quarantineInto(layout.folder('quarantine'), input, reason, provenance).catch((error: unknown) => {
        throw spoolIoError('cannot quarantine', error)
      }),
  }
  cores.set(spool, core)
  log.info({ spool: dir }, 'spool opened')
  return spool
}

interface SealedLeftover {
  readonly path: string
  readonly provenance: Provenance
}

/**
 * Cleans up after a crash: unsealed objects in incoming/ are removed (see createSpool), sealed
 * whole ones are returned to be committed, and trash and half-made snapshots are removed.
 */
async function recover(layout: SpoolLayout, log: Logger): Promise<SealedLeftover[]> {
  const incoming = layout.folder('incoming')
  const sealed: SealedLeftover[] = []
  let removed = 0
  for (const name of await namesIn(incoming)) {
    const path = join(incoming, name)
    const seal = await sealOf(path)
    if (seal !== undefined) {
      sealed.push({ path, provenance: seal.provenance })
      continue
    }
    await rm(path, { recursive: true, force: true })
    removed++
  }
  if (removed > 0) {
    log.warn({ count: removed }, 'removed unsealed objects a crash left in incoming/ (none was acknowledged without being stored in its study folder; senders still hold the rest)')
  }
  const trash = layout.folder('trash')
  for (const name of await namesIn(trash)) await rm(join(trash, name), { recursive: true, force: true })
  const jobs = layout.folder('jobs')
  for (const name of await namesIn(jobs)) {
    if (name.startsWith('.') || name.endsWith(TEMP_SUFFIX)) await rm(join(jobs, name), { recursive: true, force: true })
  }
  return sealed
}

/** The seal of a whole incoming object: a valid one whose size is the file's (a partial file's is not). */
async function sealOf(path: string): Promise<ReturnType<typeof readSeal>> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    // A folder, or gone: not an object.
    if (isErrno(error, 'EISDIR', 'ENOENT')) return undefined
    throw error
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile() || stats.size < SEAL_BYTES) return undefined
    const preamble = new Uint8Array(SEAL_BYTES)
    const { bytesRead } = await handle.read(preamble, 0, SEAL_BYTES, 0)
    const seal = bytesRead === SEAL_BYTES ? readSeal(preamble) : undefined
    return seal?.size === stats.size ? seal : undefined
  } finally {
    await handle.close()
  }
}

/**
 * Commits what a crash left sealed in incoming/: objects that were durable and identified, and
 * perhaps acknowledged, before they were placed. One that cannot be committed now (an I/O error)
 * stays for the next opening.
 */
async function commitSealed(core: SpoolCore, sealed: readonly SealedLeftover[]): Promise<void> {
  if (sealed.length === 0) return
  let committed = 0
  for (const { path, provenance } of sealed) {
    try {
      await commitInto(core, path, provenance)
      committed++
    } catch (error) {
      core.log.error({ err: error, path }, 'a sealed object left in incoming/ by a crash could not be committed; it stays there for the next opening')
    }
  }
  core.log.warn({ count: committed, of: sealed.length }, 'committed the sealed objects a crash left in incoming/ (received, perhaps acknowledged, not yet placed)')
}

/**
 * Incoming names are unique without a random draw per file (26 µs each, measured, on a receiver's
 * critical path): a random tag drawn once per process, and a counter.
 */
const incomingNames = { tag: randomBytes(6).toString('hex'), next: 0 }

function incomingPath(layout: SpoolLayout, hint?: string): string {
  const tail = hint === undefined ? '' : `-${hint.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 60)}`
  const serial = (incomingNames.next++).toString(36)
  return join(layout.folder('incoming'), `${Date.now().toString(36)}-${incomingNames.tag}-${serial}${tail}`)
}

function commitChecked(core: SpoolCore, path: string, provenance: Provenance, options?: CommitOptions): Promise<CommitResult> {
  const absolute = resolve(path)
  if (!absolute.startsWith(core.layout.folder('incoming') + sep)) {
    return Promise.reject(
      new PacsflowError('INVALID_OPTIONS', `commit takes a path from spool.incomingPath() (use ingestFile for other files): ${path}`),
    )
  }
  return commitInto(core, absolute, provenance, options)
}

/**
 * Copies a file into `incoming/` (a reflink where the file system can), commits the copy, and
 * removes the original only then. A file that changed during the copy is not taken
 * (SPOOL_SOURCE_CHANGED): it is still being written.
 */
async function ingestFile(core: SpoolCore, path: string, provenance: Provenance): Promise<CommitResult> {
  const original = resolve(path)
  const temp = incomingPath(core.layout, basename(original))
  const origin: Provenance = provenance.origin === undefined ? { ...provenance, origin: original } : provenance
  let committed = false
  try {
    const before = await stat(original)
    await copyFile(original, temp, constants.COPYFILE_FICLONE)
    const after = await stat(original)
    if (before.size !== after.size || before.mtimeMs !== after.mtimeMs) {
      throw new PacsflowError('SPOOL_SOURCE_CHANGED', `${original} changed while it was copied; it is still being written`, {
        retryable: true,
        details: { path: original },
      })
    }
    const result = await commitInto(core, temp, origin)
    committed = true
    await rm(original, { force: true })
    return result
  } catch (error) {
    if (!committed) await rm(temp, { force: true }).catch(() => {})
    if (error instanceof PacsflowError) throw error
    if (isErrno(error, 'ENOENT') && !committed) {
      throw new PacsflowError('SPOOL_SOURCE_CHANGED', `${original} disappeared before it was copied`, { cause: error, details: { path: original } })
    }
    throw spoolIoError(`cannot ingest ${original}`, error, { path: original })
  }
}

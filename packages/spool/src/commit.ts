// commit: one received object from incoming/ into its study tree: header checked, de-duplicated, durable.
import { existsSync, linkSync, renameSync, unlinkSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { isValidUid, readDicomIdentity } from '@pacsflow/imaging'
import { isPacsflowError, PacsflowError, sameFileContent } from '@pacsflow/core'
import { fsyncDescriptor, fsyncFile, isErrno, mkdirDurable, spoolIoError } from './fs-util.js'
import { readHeaderExtras } from './header-extras.js'
import { instanceFileName } from './layout.js'
import { quarantineInto } from './quarantine.js'
import type { SpoolCore } from './spool.js'
import type { CommitOptions, CommitResult, Provenance } from './types.js'

/** An instance that entered a study tree (stored, or stored as a new version). */
export interface ArrivalEvent {
  readonly studyInstanceUid: string
  readonly seriesInstanceUid: string
  readonly sopInstanceUid: string
  readonly status: 'stored' | 'new-version'
  readonly path: string
  /** Date.now() when it became durable. */
  readonly atMs: number
}

interface Identity {
  readonly studyInstanceUid: string
  readonly seriesInstanceUid: string
  readonly sopInstanceUid: string
}

type Identified = { readonly ok: true; readonly identity: Identity } | { readonly ok: false; readonly code: string; readonly message: string }

/** System errors that mean "the disk failed", not "the file is not DICOM". */
const IO_CODES = ['EIO', 'ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'ENOMEM', 'EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ESTALE']

function causeIsIo(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && depth < 4; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (isErrno(cause, ...IO_CODES)) return true
  }
  return false
}

/**
 * Who the object is: its Study/Series/SOP Instance UIDs from readDicomIdentity, which also
 * refuses what a pipeline cannot use (not Part 10, truncated pixel data, UIDs that are not DICOM
 * UIDs) as the header index does, without building the rest of the instance. An object in a
 * transfer syntax nothing here decodes is still stored as received: its UIDs come from dcmjs.
 * An I/O error rejects (the caller answers a failure; nothing is quarantined).
 */
async function identify(path: string, options: CommitOptions | undefined): Promise<Identified> {
  try {
    // Direct reads: the object was just written, so it is in the page cache (or its head is still in memory).
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = await readDicomIdentity(path, {
      direct: true,
      ...(options?.head === undefined ? {} : { head: options.head }),
    })
    return { ok: true, identity: { studyInstanceUid, seriesInstanceUid, sopInstanceUid } }
  } catch (error) {
    if (causeIsIo(error)) {
      throw new PacsflowError('SPOOL_IO', `spool: cannot read ${path}: ${(error as Error).message}`, { cause: error, retryable: true, details: { path } })
    }
    const coded = isPacsflowError(error) ? error : new PacsflowError('DICOM_INVALID', String(error))
    if (coded.code === 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX') {
      const extras = await readHeaderExtras(path)
      const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = extras ?? {}
      if (studyInstanceUid !== undefined && seriesInstanceUid !== undefined && sopInstanceUid !== undefined) {
        return { ok: true, identity: { studyInstanceUid, seriesInstanceUid, sopInstanceUid } }
      }
    }
    return { ok: false, code: coded.code, message: coded.message }
  }
}

/**
 * Puts `source` at `target` unless a file is there: link(2) refuses atomically (EEXIST). Says
 * 'linked' (the incoming name stays until the caller has flushed the target's folder: see
 * `settle`), 'moved', or false (taken). Without hard links: a check, then a rename (under the
 * study lock). Synchronous calls: these change only directory entries (microseconds on a local
 * disk), while an asynchronous call costs two thread hand-offs, each of which waits for a time
 * slice on a busy host; measured, they were most of a commit's latency, which a sender on one
 * association waits for.
 */
function placeNoClobber(source: string, target: string): 'linked' | 'moved' | false {
  try {
    linkSync(source, target)
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false
    if (!isErrno(error, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK')) throw error
    if (existsSync(target)) return false
    renameSync(source, target)
    return 'moved'
  }
  return 'linked'
}

/** The most series folders remembered as existing; past it the memory starts afresh. */
const KNOWN_SERIES_FOLDERS = 4096

/**
 * Under the study lock: the first free `<SOP>[.vN].dcm`, unless one of them already holds these bytes.
 * A series folder made or found once is not made again (mkdir, and the stat a recursive mkdir adds,
 * on every commit); if it has gone since (the study was handed on and settled), the link says
 * ENOENT, and the folder is made again.
 */
async function place(core: SpoolCore, path: string, identity: Identity, seriesDir: string): Promise<{ result: CommitResult; linked: boolean }> {
  const { sopInstanceUid } = identity
  const known = core.seriesFolders
  if (!known.has(seriesDir)) await makeSeriesFolder(core, seriesDir)
  let remade = false
  for (let version = 1; ; ) {
    const target = join(seriesDir, instanceFileName(sopInstanceUid, version))
    let placed: 'linked' | 'moved' | false
    try {
      placed = placeNoClobber(path, target)
    } catch (error) {
      // Once: ENOENT again means the object itself is gone.
      if (remade || !isErrno(error, 'ENOENT') || !known.delete(seriesDir)) throw error
      remade = true
      await makeSeriesFolder(core, seriesDir)
      continue
    }
    if (placed !== false) return { result: { status: version === 1 ? 'stored' : 'new-version', path: target, ...identity }, linked: placed === 'linked' }
    if (await sameFileContent(path, target)) {
      await rm(path, { force: true })
      return { result: { status: 'duplicate', path: target, ...identity }, linked: false }
    }
    version++
  }
}

/** The object's second name, in incoming/, once it is durable in its series folder: a failure leaves a name that recovery drops, so it is logged, not thrown. */
function removeIncomingName(core: SpoolCore, path: string): void {
  try {
    unlinkSync(path)
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) core.log.warn({ err: error, path }, 'a stored object keeps its incoming name; the spool drops it when next opened')
  }
}

async function makeSeriesFolder(core: SpoolCore, seriesDir: string): Promise<void> {
  await mkdirDurable(seriesDir, core.layout.dir)
  if (core.seriesFolders.size >= KNOWN_SERIES_FOLDERS) core.seriesFolders.clear()
  core.seriesFolders.add(seriesDir)
}

/**
 * The body of `Spool.commit` (see types.ts). The object is flushed before it is linked into the
 * tree, and the series folder after, so 'stored' means durable; a duplicate waits for the same
 * flush, since the copy it matched may have been placed a moment ago by a concurrent commit.
 * A sealed object (`options.sealed`) is 'accepted' once it is flushed and identified: it is
 * durable in incoming/ already, and is placed in the tree on the next turn of the event loop.
 */
export async function commitInto(core: SpoolCore, path: string, provenance: Provenance, options?: CommitOptions): Promise<CommitResult> {
  const { layout, log } = core
  // The flush does not depend on the header, so it starts first: inline on a fast disk, or in the
  // thread pool while the header is parsed here (a quarantined file's flush is wasted, and rare).
  const inline = { inline: options?.flushInline !== false }
  const flushing = (options?.fd === undefined ? fsyncFile(path, inline) : fsyncDescriptor(options.fd, inline)).then(
    () => undefined,
    (error: unknown) => error,
  )
  const identified = await identify(path, options)
  const flushed = await flushing
  if (!identified.ok) {
    const reason = { code: identified.code, message: identified.message }
    const originalName = provenance.origin === undefined ? undefined : basename(provenance.origin)
    let quarantined: string
    try {
      quarantined = await quarantineInto(layout.folder('quarantine'), path, reason, provenance, originalName)
    } catch (error) {
      throw spoolIoError(`cannot quarantine ${path}`, error)
    }
    log.warn({ code: reason.code, origin: provenance.origin, source: provenance.source, quarantined }, `quarantined: ${reason.message}`)
    return { status: 'quarantined', path: quarantined, reason }
  }
  const { identity } = identified
  // The header reader already refuses these; checked again because they become folder names.
  for (const uid of [identity.studyInstanceUid, identity.seriesInstanceUid, identity.sopInstanceUid]) {
    if (!isValidUid(uid)) throw new PacsflowError('UID_INVALID', `refusing ${JSON.stringify(uid)} as a folder name`)
  }
  if (flushed !== undefined) throw spoolIoError(`cannot store ${path}`, flushed, { ...identity })
  if (options?.sealed !== true) return settle(core, path, identity, provenance, inline)
  const accepted: CommitResult = { status: 'accepted', path, ...identity }
  // After the caller's continuation (a receiver answers its sender first): setImmediate runs once
  // the current callbacks and their promises are done. The folder's flush runs where the caller
  // asked: inline, while one sender prepares its next object, cost less CPU than through the pool.
  const placed = new Promise<CommitResult>((resolve) => {
    setImmediate(() => {
      settle(core, path, identity, provenance, inline).then(resolve, (error: unknown) => {
        log.error(
          { err: error, path, study: identity.studyInstanceUid, sop: identity.sopInstanceUid },
          'an accepted object could not be put in its study tree; it stays, sealed, in incoming/ and is committed when the spool is next opened',
        )
        resolve(accepted)
      })
    })
  })
  return { ...accepted, placed }
}

/**
 * Puts a flushed, identified object in its study tree (durable: the series folder flushed), tells
 * the arrival listeners, and says where it went. The incoming name is removed only once the new
 * one is flushed: a file system without a journal (ext4 without one, FAT) writes directory changes
 * back in any order, and a crash that kept the removal but not the link would lose an object its
 * sender was told is stored. A crash in between leaves the object under both names, and the
 * spool's recovery drops the incoming one (a sealed object is committed again and found a
 * duplicate; an unsealed one is removed).
 */
async function settle(core: SpoolCore, path: string, identity: Identity, provenance: Provenance, inline: { inline: boolean }): Promise<CommitResult> {
  const { layout, log } = core
  let result: CommitResult
  try {
    const seriesDir = join(layout.study(identity.studyInstanceUid), identity.seriesInstanceUid)
    const placed = await core.studyLock.run(identity.studyInstanceUid, () => place(core, path, identity, seriesDir))
    result = placed.result
    await core.flusher.flush(seriesDir, inline)
    if (placed.linked) removeIncomingName(core, path)
  } catch (error) {
    throw spoolIoError(`cannot store ${path}`, error, { ...identity })
  }
  const fields = { study: identity.studyInstanceUid, sop: identity.sopInstanceUid, source: provenance.source, origin: provenance.origin }
  if (result.status === 'duplicate') log.info(fields, 'duplicate instance dropped (same SOP Instance UID, same bytes)')
  else if (result.status === 'new-version') log.warn({ ...fields, path: result.path }, 'instance received again with different bytes: kept as a new version')
  if (result.status === 'stored' || result.status === 'new-version') {
    const event: ArrivalEvent = { ...identity, status: result.status, path: result.path, atMs: Date.now() }
    for (const listener of core.arrivals) {
      try {
        listener(event)
      } catch (error) {
        log.error({ err: error }, 'an arrival listener failed')
      }
    }
  }
  return result
}

// The spool's public shape, fixed first so both input stages can be written against it.
import type { Logger, Source } from '@pacsflow/core'
import type { DicomHead, DicomStudy } from '@pacsflow/imaging'

/** What happens to instances that arrive for a study already handed on. */
export type LatePolicy = 'new-job' | 'ignore' | 'error'

/** What happens to a study's files once its job is acknowledged. */
export type Retention = 'keep' | 'delete'

export interface SpoolOptions {
  /** The spool folder: `<dir>/<StudyUID>/<SeriesUID>/<SOPUID>.dcm`, plus `incoming/`, `quarantine/`, `done/`, `failed/`. */
  readonly dir: string
  readonly log?: Logger
}

/** Where one offered object ended. */
export type CommitStatus =
  /** Stored under its UIDs (durable: fsynced and renamed). */
  | 'stored'
  /** Same SOPInstanceUID, same bytes as a stored instance: dropped. */
  | 'duplicate'
  /** Same SOPInstanceUID, different bytes: stored beside the first as a new version (logged). */
  | 'new-version'
  /** Not DICOM, unreadable, or a UID that is not a valid DICOM UID: moved to `quarantine/` with a `.reason.json`. */
  | 'quarantined'
  /**
   * A sealed object (`CommitOptions.sealed`), durable and identified, still in `incoming/`: it is put
   * in its study tree next (`CommitResult.placed` says where it ended), or, after a crash, when the
   * spool is next opened.
   */
  | 'accepted'

export interface CommitResult {
  readonly status: CommitStatus
  /** Final path (in the study tree, or in quarantine). */
  readonly path: string
  readonly studyInstanceUid?: string
  readonly seriesInstanceUid?: string
  readonly sopInstanceUid?: string
  /** Coded reason, for `quarantined`. */
  readonly reason?: { readonly code: string; readonly message: string }
  /**
   * For `accepted`: where the object ended once placed (stored, duplicate, new version). Never
   * rejects: if it cannot be placed (an I/O error, logged), it resolves with the accepted result,
   * and the object, still sealed in `incoming/`, is committed when the spool is next opened.
   */
  readonly placed?: Promise<CommitResult>
}

/** Who delivered an object; recorded in quarantine reasons and logs. */
export interface Provenance {
  /** e.g. `'folder'`, `'dimse'`. */
  readonly source: string
  /** The original path (folder input) or the calling AE title and peer address (DIMSE). */
  readonly origin?: string
}

export interface Spool {
  readonly dir: string
  /**
   * A fresh path in `<dir>/incoming/` (same file system as the study tree) where a source writes
   * an object before `commit`: e.g. the DIMSE receiver streams a C-STORE into it.
   */
  incomingPath(hint?: string): string
  /**
   * Takes a complete Part 10 file at an incoming path (written and closed by the caller): reads its
   * header, validates the UIDs (`isValidUid`), de-duplicates, fsyncs, renames it into the study tree,
   * fsyncs the folder, and tells the completion tracker. Resolves only once the object is durable;
   * rejects (never resolves 'stored') on an I/O error, so a receiver can answer a failure status.
   * A sealed object (`options.sealed`) resolves 'accepted' once durable, before it is placed.
   */
  commit(incomingPath: string, provenance: Provenance, options?: CommitOptions): Promise<CommitResult>
  /** Copies an outside file into `incoming/`, fsyncs it, commits it; removes the original only after. */
  ingestFile(path: string, provenance: Provenance): Promise<CommitResult>
  /** Moves a file (or writes bytes) into `quarantine/` with `<name>.reason.json`. */
  quarantine(input: string | Uint8Array, reason: { code: string; message: string }, provenance: Provenance): Promise<string>
}

/** How `Spool.commit` may shorten its work. */
export interface CommitOptions {
  /**
   * The file's first bytes and its size, when the caller still holds them because it has just
   * written them (the DIMSE receiver): the header is parsed from them instead of being read back
   * from disk, whenever they reach the pixel data. They must be exactly the file's own bytes.
   */
  readonly head?: DicomHead
  /**
   * `false`: the fsyncs run in libuv's thread pool, so the event loop serves other senders while
   * the disk works (a receiver with several associations at once). Default: on the calling
   * thread while the disk is fast (`fsyncPlacement` in @pacsflow/core), which answers one waiting
   * sender soonest.
   */
  readonly flushInline?: boolean
  /**
   * An open descriptor of the file, when the caller has just written it and still holds it: the
   * flush goes through it instead of opening the file again by name. The caller keeps it open
   * until `commit` settles, and closes it.
   */
  readonly fd?: number
  /**
   * The caller wrote the seal (`writeSeal`) into the object's preamble before asking for the
   * commit, and the incoming file's name is durable (its folder was flushed after the file was
   * created). The commit then resolves, with status `'accepted'`, as soon as the object is flushed
   * and identified: it can no longer be lost. Placing it in the study tree (link, de-duplication,
   * the folder's flush) follows on the next turn of the event loop, after the caller has answered
   * its sender. A crash in between leaves it sealed in `incoming/`, and the next `createSpool`
   * commits it from there, while unsealed leftovers (never acknowledged) are removed as before.
   * A quarantined object is quarantined before the commit resolves, as without the seal.
   */
  readonly sealed?: boolean
}

export interface CompletionOptions {
  /** A study is complete this long after its last instance arrived (default 60 000 ms; Orthanc's StableAge). */
  readonly quietPeriodMs?: number
  /** Hand a study on at the latest this long after its first instance, even if instances keep arriving (default 30 min). */
  readonly maxWaitMs?: number
  /** Hand a study on at once when every series announces its instance count and all have arrived (default true). */
  readonly earlyCompletion?: boolean
  /**
   * With early completion: how long nothing must arrive after the last announced instance (default
   * 2000 ms, at most `quietPeriodMs`), so that a study is not handed on between two series sent
   * back to back. (Added after the interface was fixed; additive.)
   */
  readonly earlyGraceMs?: number
  /** Default `'new-job'`: the study is handed on again with everything it now holds. */
  readonly latePolicy?: LatePolicy
}

export interface SpoolSourceOptions extends CompletionOptions {
  /** Source name (e.g. `'folder-input'`). */
  readonly name: string
  /** After ack: `'keep'` moves the study to `done/` (default), `'delete'` removes it. */
  readonly retention?: Retention
  /**
   * While this returns true, the source that feeds the spool is still taking files in (a drop
   * folder with files waiting to be copied, a receiver in the middle of an association): studies
   * are not handed on by the quiet period or early completion, only by `maxWaitMs`. Polled about
   * every 100 ms while something is pending. (Added after the interface was fixed; additive.)
   */
  readonly isReceiving?: () => boolean
}

/** A spool and the Source that yields its complete studies; the input stages build on this. */
export type SpoolSource = Source<DicomStudy>

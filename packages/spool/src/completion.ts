// Study completion: when a study that is still receiving instances counts as complete. Pure logic, any clock.
import { PacsflowError } from '@pacsflow/core'
import type { CompletionOptions, LatePolicy } from './types.js'

export interface ResolvedCompletion {
  readonly quietPeriodMs: number
  readonly maxWaitMs: number
  readonly earlyCompletion: boolean
  readonly earlyGraceMs: number
  readonly latePolicy: LatePolicy
}

export const DEFAULT_QUIET_PERIOD_MS = 60_000
export const DEFAULT_MAX_WAIT_MS = 30 * 60_000
export const DEFAULT_EARLY_GRACE_MS = 2_000

function duration(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new PacsflowError('INVALID_OPTIONS', `${name} must be a number of milliseconds >= 0, got ${String(value)}`)
  }
  return value
}

/** Defaults and checks (INVALID_OPTIONS). */
export function resolveCompletion(options: CompletionOptions = {}): ResolvedCompletion {
  const quietPeriodMs = duration(options.quietPeriodMs, 'quietPeriodMs', DEFAULT_QUIET_PERIOD_MS)
  const maxWaitMs = duration(options.maxWaitMs, 'maxWaitMs', Math.max(DEFAULT_MAX_WAIT_MS, quietPeriodMs))
  if (maxWaitMs < quietPeriodMs) {
    throw new PacsflowError('INVALID_OPTIONS', `maxWaitMs (${maxWaitMs}) must not be shorter than quietPeriodMs (${quietPeriodMs})`)
  }
  const earlyGraceMs = duration(options.earlyGraceMs, 'earlyGraceMs', Math.min(DEFAULT_EARLY_GRACE_MS, quietPeriodMs))
  const latePolicy = options.latePolicy ?? 'new-job'
  if (latePolicy !== 'new-job' && latePolicy !== 'ignore' && latePolicy !== 'error') {
    throw new PacsflowError('INVALID_OPTIONS', `latePolicy must be 'new-job', 'ignore' or 'error', got ${JSON.stringify(latePolicy)}`)
  }
  if (options.earlyCompletion !== undefined && typeof options.earlyCompletion !== 'boolean') {
    throw new PacsflowError('INVALID_OPTIONS', 'earlyCompletion must be a boolean')
  }
  return { quietPeriodMs, maxWaitMs, earlyCompletion: options.earlyCompletion ?? true, earlyGraceMs, latePolicy }
}

/** Why a study counts as complete. */
export type CompletionReason = 'expected' | 'quiet' | 'max-wait'

export interface SeriesProgress {
  /** Distinct SOP instances received. */
  readonly received: number
  /** What the headers announce (ImagesInAcquisition), when they do. */
  readonly expected?: number
}

export interface StudyProgress {
  /** When the first instance not yet handed on arrived. */
  readonly firstArrivalMs: number
  /** When the last one arrived. */
  readonly lastArrivalMs: number
  readonly series: readonly SeriesProgress[]
}

/**
 * When the study counts as complete, and why: the earliest of
 * - `expected`: every series announces its count and holds exactly that many instances, and
 *   nothing arrived for `earlyGraceMs` (a sender pushing a study sends its series back to back;
 *   the grace keeps a study from being handed on between two of them). More instances than
 *   announced means the announcement does not count what this series holds: the quiet period rules;
 * - `quiet`: nothing arrived for `quietPeriodMs` (Orthanc's StableAge, mercure's series timeout);
 * - `max-wait`: `maxWaitMs` after the first instance, even if instances keep arriving.
 */
export function completionTime(progress: StudyProgress, options: ResolvedCompletion): { atMs: number; reason: CompletionReason } {
  const candidates: { atMs: number; reason: CompletionReason }[] = []
  const announced = progress.series.length > 0 && progress.series.every((s) => s.expected !== undefined && s.received === s.expected)
  if (options.earlyCompletion && announced) candidates.push({ atMs: progress.lastArrivalMs + options.earlyGraceMs, reason: 'expected' })
  candidates.push({ atMs: progress.lastArrivalMs + options.quietPeriodMs, reason: 'quiet' })
  candidates.push({ atMs: progress.firstArrivalMs + options.maxWaitMs, reason: 'max-wait' })
  return candidates.reduce((best, next) => (next.atMs < best.atMs ? next : best))
}

interface TrackedStudy {
  /** Instance files (`<series>/<file>`) not yet handed on, with their arrival times. */
  readonly pending: Map<string, number>
  /** Instance files already in a snapshot (a late event for one of them is not an arrival). */
  readonly handed: Set<string>
  readonly series: Map<string, { readonly sops: Set<string>; expected?: number }>
  /** Not before this time (after a failed hand-on). */
  deferredUntilMs: number
}

/**
 * The completion state of every study in a spool, fed with arrivals (from commits, or from the
 * scan at start) and asked which studies are complete at a given time. No timers, no I/O.
 */
export class CompletionTracker {
  private readonly studies = new Map<string, TrackedStudy>()

  constructor(private readonly options: ResolvedCompletion) {}

  private study(uid: string): TrackedStudy {
    let study = this.studies.get(uid)
    if (study === undefined) {
      study = { pending: new Map(), handed: new Set(), series: new Map(), deferredUntilMs: 0 }
      this.studies.set(uid, study)
    }
    return study
  }

  /**
   * An instance file entered the study tree. Returns true when its series is new to the tracker
   * (the caller may then look up the series' expected count).
   */
  arrival(study: string, series: string, sop: string, file: string, atMs: number): boolean {
    const tracked = this.study(study)
    let known = tracked.series.get(series)
    const isNew = known === undefined
    if (known === undefined) tracked.series.set(series, (known = { sops: new Set() }))
    known.sops.add(sop)
    if (!tracked.handed.has(file) && !tracked.pending.has(file)) tracked.pending.set(file, atMs)
    return isNew
  }

  /** Files already handed on (at start, from the newest snapshot of a generation still in flight). */
  markHanded(study: string, files: Iterable<string>): void {
    const tracked = this.study(study)
    for (const file of files) {
      tracked.handed.add(file)
      tracked.pending.delete(file)
    }
  }

  setExpected(study: string, series: string, expected: number): void {
    const known = this.studies.get(study)?.series.get(series)
    if (known !== undefined) known.expected = expected
  }

  /** These files left the tree without being handed on (late instances ignored or refused). */
  discard(study: string, files: Iterable<string>): void {
    const tracked = this.studies.get(study)
    if (tracked !== undefined) for (const file of files) tracked.pending.delete(file)
  }

  /** Nothing of the study is pending any more (its tree holds nothing new). */
  clearPending(study: string): void {
    this.studies.get(study)?.pending.clear()
  }

  /** The study's tree is gone (settled): forget it. */
  forget(study: string): void {
    this.studies.delete(study)
  }

  /** A hand-on failed: try again no earlier than `untilMs`. */
  defer(study: string, untilMs: number): void {
    const tracked = this.studies.get(study)
    if (tracked !== undefined) tracked.deferredUntilMs = untilMs
  }

  /** Studies with instances not yet handed on. */
  pendingStudies(): number {
    let count = 0
    for (const tracked of this.studies.values()) if (tracked.pending.size > 0) count++
    return count
  }

  pendingFiles(study: string): number {
    return this.studies.get(study)?.pending.size ?? 0
  }

  progress(study: string): StudyProgress | undefined {
    const tracked = this.studies.get(study)
    if (tracked === undefined || tracked.pending.size === 0) return undefined
    let first = Number.POSITIVE_INFINITY
    let last = Number.NEGATIVE_INFINITY
    for (const at of tracked.pending.values()) {
      if (at < first) first = at
      if (at > last) last = at
    }
    const series = [...tracked.series.values()].map((s) => ({ received: s.sops.size, ...(s.expected === undefined ? {} : { expected: s.expected }) }))
    return { firstArrivalMs: first, lastArrivalMs: last, series }
  }

  /**
   * When the study becomes complete. `held`: a source is still taking files in, so only the
   * maximum wait counts (the quiet period and early completion wait until it is done).
   */
  private dueAt(uid: string, held: boolean): { atMs: number; reason: CompletionReason } | undefined {
    const progress = this.progress(uid)
    if (progress === undefined) return undefined
    const when = held ? { atMs: progress.firstArrivalMs + this.options.maxWaitMs, reason: 'max-wait' as const } : completionTime(progress, this.options)
    const deferred = this.studies.get(uid)!.deferredUntilMs
    return when.atMs >= deferred ? when : { atMs: deferred, reason: when.reason }
  }

  /** Studies with pending instances that are complete at `nowMs`, earliest first (see dueAt for `held`). */
  due(nowMs: number, held = false): { study: string; reason: CompletionReason }[] {
    const out: { study: string; reason: CompletionReason; atMs: number }[] = []
    for (const uid of this.studies.keys()) {
      const when = this.dueAt(uid, held)
      if (when !== undefined && when.atMs <= nowMs) out.push({ study: uid, ...when })
    }
    return out.sort((a, b) => a.atMs - b.atMs).map(({ study, reason }) => ({ study, reason }))
  }

  /** When the next study becomes complete (undefined: none pending). */
  nextDueMs(held = false): number | undefined {
    let next: number | undefined
    for (const uid of this.studies.keys()) {
      const when = this.dueAt(uid, held)
      if (when !== undefined && (next === undefined || when.atMs < next)) next = when.atMs
    }
    return next
  }

  /** The files of a new snapshot were handed on: they are no longer pending. */
  handedOn(study: string, files: Iterable<string>): void {
    this.markHanded(study, files)
    const tracked = this.studies.get(study)
    if (tracked !== undefined) tracked.deferredUntilMs = 0
  }
}

// spoolSource: the Source that yields each complete study of a spool, again after a restart until it is settled.
import { basename, join } from 'node:path'
import {
  assertStageName,
  defineSource,
  PacsflowError,
  type Delivery,
  type Logger,
  type SourceContext,
} from '@pacsflow/core'
import { groupStudy, indexDicom, isValidUid, type DicomStudy } from '@pacsflow/imaging'
import type { ArrivalEvent } from './commit.js'
import { CompletionTracker, resolveCompletion, type CompletionReason, type ResolvedCompletion } from './completion.js'
import { exists, filesUnder, namesIn, spoolIoError } from './fs-util.js'
import { generationsInFlight, handOnStudy, instanceFiles, settleGeneration, type Settlement } from './generations.js'
import { readHeaderExtras } from './header-extras.js'
import { generationName, parseGenerationName } from './layout.js'
import { spoolCore, type SpoolCore } from './spool.js'
import { readStudyState, writeStudyState } from './study-state.js'
import type { Retention, Spool, SpoolSource, SpoolSourceOptions } from './types.js'
import { Wakeup } from './wakeup.js'

/** How long a study whose hand-on failed (an I/O error) waits before the next try. */
const RETRY_HAND_ON_MS = 5_000
/** How often `isReceiving` is asked again while it holds studies back. */
const HELD_POLL_MS = 100

/**
 * The Source of a spool's complete studies. Each yielded `Delivery<DicomStudy>` has the id
 * `<StudyInstanceUID>.g<N>` (N: the generation, 1 the first time a study is handed on) and its
 * files are a snapshot (hard links) in `jobs/<id>/`, valid until it is acknowledged or rejected
 * whatever arrives meanwhile. On open, the spool is scanned: every generation handed on and not
 * settled is yielded again with the same id, and studies still receiving wait a full quiet period
 * from the open. One source reads a spool at a time.
 */
export function spoolSource(spool: Spool, options: SpoolSourceOptions): SpoolSource {
  const core = spoolCore(spool)
  if (typeof options !== 'object' || options === null) throw new PacsflowError('INVALID_OPTIONS', 'spoolSource: options ({ name }) are required')
  assertStageName(options.name, 'source')
  const completion = resolveCompletion(options)
  const retention: Retention = options.retention ?? 'keep'
  if (retention !== 'keep' && retention !== 'delete') {
    throw new PacsflowError('INVALID_OPTIONS', `retention must be 'keep' or 'delete', got ${JSON.stringify(retention)}`)
  }
  if (options.isReceiving !== undefined && typeof options.isReceiving !== 'function') {
    throw new PacsflowError('INVALID_OPTIONS', 'isReceiving must be a function')
  }
  const reader = new SpoolReader(core, options.name, completion, retention, options.isReceiving)
  return defineSource<DicomStudy>({ name: options.name, open: (ctx) => reader.open(ctx) })
}

/** Reads one spool for one source; each `open` scans the spool, then hands studies on as they complete. */
class SpoolReader {
  constructor(
    private readonly core: SpoolCore,
    private readonly name: string,
    private readonly completion: ResolvedCompletion,
    private readonly retention: Retention,
    private readonly receiving: (() => boolean) | undefined,
  ) {}

  private isReceiving(): boolean {
    try {
      return this.receiving?.() === true
    } catch {
      return false
    }
  }

  async *open(ctx: SourceContext): AsyncGenerator<Delivery<DicomStudy>> {
    const { core } = this
    if (core.reader !== undefined && core.reader.name !== this.name) {
      throw new PacsflowError('SPOOL_BUSY', `spool ${core.layout.dir} is already read by source '${core.reader.name}'`)
    }
    // The runner may open again after a failure without waiting for the old iteration to end, and a
    // source may make a new spoolSource per open: the newest open of the same name wins.
    const tracker = new CompletionTracker(this.completion)
    const wakeup = new Wakeup()
    const token = { name: this.name, tracker, wake: () => wakeup.notify() }
    core.reader?.wake()
    core.reader = token
    const current = (): boolean => core.reader === token
    const log = ctx.log
    const lookup = (study: string, series: string, path: string): void => this.lookupExpected(tracker, wakeup, study, series, path)
    const listener = (event: ArrivalEvent): void => {
      const file = `${event.seriesInstanceUid}/${basename(event.path)}`
      if (tracker.arrival(event.studyInstanceUid, event.seriesInstanceUid, event.sopInstanceUid, file, event.atMs)) {
        lookup(event.studyInstanceUid, event.seriesInstanceUid, event.path)
      }
      wakeup.notify()
    }
    core.arrivals.add(listener)
    try {
      const inFlight = await this.scan(tracker, lookup)
      log.info({ spool: core.layout.dir, inFlight: inFlight.length, receiving: tracker.pendingStudies() }, 'spool scanned')
      for (const { study, generation } of inFlight) {
        if (ctx.signal.aborted || !current()) return
        const delivery = await this.deliveryFor(study, generation, ctx, log)
        if (delivery !== undefined) yield delivery
      }
      while (!ctx.signal.aborted && current()) {
        const held = this.isReceiving()
        const due = tracker.due(Date.now(), held)
        for (const { study, reason } of due) {
          if (ctx.signal.aborted || !current()) return
          const delivery = await this.handOn(tracker, study, reason, ctx, log)
          if (delivery !== undefined) yield delivery
        }
        if (due.length > 0) continue
        const next = tracker.nextDueMs(held)
        // While held, look again soon: the quiet period may already be over when receiving stops.
        const until = held && tracker.nextDueMs() !== undefined ? Math.min(next ?? Infinity, Date.now() + HELD_POLL_MS) : next
        await wakeup.wait(until, ctx.signal)
      }
    } finally {
      core.arrivals.delete(listener)
      if (current()) core.reader = undefined
    }
  }

  /** Reads the announced instance count of a new series (ImagesInAcquisition) in the background. */
  private lookupExpected(tracker: CompletionTracker, wakeup: Wakeup, study: string, series: string, path: string): void {
    if (!this.completion.earlyCompletion) return
    void readHeaderExtras(path).then((extras) => {
      if (extras?.imagesInAcquisition === undefined) return
      tracker.setExpected(study, series, extras.imagesInAcquisition)
      wakeup.notify()
    })
  }

  /**
   * Rebuilds the tracker from the disk: every instance of a study tree that is not in the newest
   * snapshot of its study is pending, as if it arrived now. Returns the generations in flight.
   */
  private async scan(tracker: CompletionTracker, lookup: (study: string, series: string, path: string) => void): Promise<{ study: string; generation: number }[]> {
    const { layout, studyLock } = this.core
    const inFlight: { study: string; generation: number }[] = []
    const studies = new Set<string>()
    for (const name of await namesIn(layout.folder('jobs'))) {
      const parsed = parseGenerationName(name)
      if (parsed !== undefined) studies.add(parsed.studyInstanceUid)
    }
    for (const name of await namesIn(layout.dir)) if (isValidUid(name)) studies.add(name)
    const now = Date.now()
    for (const study of [...studies].sort()) {
      await studyLock.run(study, async () => {
        const generations = await generationsInFlight(layout, study)
        const latest = generations.at(-1)
        const state = await readStudyState(layout, study)
        if (latest !== undefined && latest > state.generation) await writeStudyState(layout, { ...state, generation: latest })
        if (latest !== undefined) tracker.markHanded(study, instanceFiles(await filesUnder(layout.snapshot(study, latest))).map((f) => f.file))
        for (const f of instanceFiles(await filesUnder(layout.study(study)))) {
          if (tracker.arrival(study, f.series, f.sop, f.file, now)) lookup(study, f.series, join(layout.study(study), f.file))
        }
        for (const generation of generations) inFlight.push({ study, generation })
      })
    }
    return inFlight
  }

  private async handOn(tracker: CompletionTracker, study: string, reason: CompletionReason, ctx: SourceContext, log: Logger): Promise<Delivery<DicomStudy> | undefined> {
    const { core } = this
    let outcome
    try {
      outcome = await core.studyLock.run(study, async () => {
        const result = await handOnStudy(core, study, this.completion.latePolicy)
        if (result.kind === 'handed') tracker.handedOn(study, result.files)
        else if (result.kind === 'nothing') tracker.clearPending(study)
        else if (result.treeRemoved) tracker.forget(study)
        else tracker.discard(study, result.files)
        return result
      })
    } catch (error) {
      log.error({ err: error, study }, 'could not hand the study on; trying again shortly')
      tracker.defer(study, Date.now() + RETRY_HAND_ON_MS)
      return undefined
    }
    if (outcome.kind === 'ignored') log.warn({ study, files: outcome.files.length }, "late instances ignored (latePolicy 'ignore')")
    if (outcome.kind === 'refused') log.error({ study, files: outcome.files.length, path: outcome.path }, "late instances moved to failed/ (latePolicy 'error')")
    if (outcome.kind !== 'handed') return undefined
    log.info({ study, generation: outcome.generation, reason, files: outcome.files.length, restored: outcome.restored }, 'study complete: handed on')
    return this.deliveryFor(study, outcome.generation, ctx, log)
  }

  /** The delivery of a snapshot: its newest version of each instance, indexed and grouped. */
  private async deliveryFor(study: string, generation: number, ctx: SourceContext, log: Logger): Promise<Delivery<DicomStudy> | undefined> {
    const { layout } = this.core
    const dir = layout.snapshot(study, generation)
    // Settled meanwhile (a delivery of an earlier open acknowledged between the scan and now).
    if (!(await exists(dir))) return undefined
    const newest = new Map<string, { file: string; version: number }>()
    for (const f of instanceFiles(await filesUnder(dir))) {
      const key = `${f.series}/${f.sop}`
      const seen = newest.get(key)
      if (seen === undefined || f.version > seen.version) newest.set(key, { file: f.file, version: f.version })
    }
    const { instances, problems } = await indexDicom([...newest.values()].map((f) => join(dir, f.file)), { signal: ctx.signal })
    for (const problem of problems) log.warn({ study, path: problem.path, code: problem.error.code }, `instance left out of the study: ${problem.error.message}`)
    const id = generationName(study, generation)
    if (instances.length === 0) {
      const error = new PacsflowError('SPOOL_STUDY_UNREADABLE', `study ${study} (generation ${generation}): no instance could be read`, { details: { study, generation } })
      log.error({ study, generation }, error.message)
      await this.settle(study, generation, { kind: 'reject', error })
      return undefined
    }
    return {
      id,
      value: groupStudy(instances),
      ack: () => this.settle(study, generation, { kind: 'ack', retention: this.retention }),
      reject: (error) => this.settle(study, generation, { kind: 'reject', error }),
    }
  }

  private async settle(study: string, generation: number, settlement: Settlement): Promise<void> {
    const { core } = this
    try {
      const result = await core.studyLock.run(study, async () => {
        const settled = await settleGeneration(core, study, generation, settlement)
        // The tracker of whichever open reads the spool now (deliveries outlive the open that yielded them).
        if (settled?.treeRemoved === true) core.reader?.tracker.forget(study)
        return settled
      })
      if (result !== undefined) {
        core.log.info({ study, generation, outcome: settlement.kind, source: this.name }, settlement.kind === 'ack' ? 'study acknowledged' : 'study rejected: kept in failed/')
      }
    } catch (error) {
      throw spoolIoError(`cannot settle ${generationName(study, generation)}`, error)
    }
  }
}

// Which spool deliveries a query/retrieve source may hand on: only a study whose retrieve finished, with everything it brought.
import { serializeError, type Delivery, type Logger, type SerializedError } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import type { RetrieveCounts } from './retrieve.js'

type Phase = 'retrieving' | 'retrieved' | 'failed' | 'done'

interface StudyEntry {
  phase: Phase
  /** SOP instances of this study the spool took during this run (stored, new version or duplicate). */
  readonly arrived: Set<string>
  counts?: RetrieveCounts
  error?: Error
  /** A delivery that came before the retrieve finished (or short of what arrived): not handed on yet. */
  held: Delivery<DicomStudy> | undefined
  /** With a short delivery after the retrieve finished: when to hand it on anyway. */
  shortDeadline: number | undefined
}

function instanceCount(study: DicomStudy): number {
  return study.series.reduce((sum, series) => sum + series.instances.length, 0)
}

/**
 * The bookkeeping between the spool's Source and the retrieves. A study of this run is handed on
 * once its retrieve finished and the spool delivered it with at least every instance that arrived;
 * a delivery made before that is held, and a newer generation supersedes it (the older one is
 * acknowledged: the newer holds all of it). A failed retrieve's partial study is rejected (it stays
 * in the spool's failed/). Deliveries of studies this run does not retrieve (left from an earlier
 * run) are handed on as they come, once planning is done.
 */
export class RetrieveBoard {
  private readonly studies = new Map<string, StudyEntry>()
  private planned = false
  private readonly unplanned: Delivery<DicomStudy>[] = []
  private readonly ready: Delivery<DicomStudy>[] = []
  private wake: (() => void) | undefined
  private dirty = false

  constructor(
    private readonly log: Logger,
    /** How long a short delivery waits for a newer generation (the spool's quiet period and a margin). */
    private readonly shortWaitMs: number,
  ) {}

  /** The studies this run retrieves are known (every C-FIND done). */
  plan(studyUids: readonly string[]): void {
    for (const uid of studyUids) if (!this.studies.has(uid)) this.studies.set(uid, { phase: 'retrieving', arrived: new Set(), held: undefined, shortDeadline: undefined })
    this.planned = true
    for (const delivery of this.unplanned.splice(0)) this.offer(delivery)
    this.notify()
  }

  /** An instance of `studyUid` reached the spool (from the receiver's onStore). */
  arrived(studyUid: string, sopInstanceUid: string): void {
    this.studies.get(studyUid)?.arrived.add(sopInstanceUid)
  }

  arrivedCount(studyUid: string): number {
    return this.studies.get(studyUid)?.arrived.size ?? 0
  }

  retrieved(studyUid: string, counts: RetrieveCounts): void {
    const entry = this.studies.get(studyUid)
    if (entry === undefined || entry.phase !== 'retrieving') return
    entry.phase = 'retrieved'
    entry.counts = counts
    this.evaluate(studyUid, entry)
  }

  failed(studyUid: string, error: Error): void {
    const entry = this.studies.get(studyUid)
    if (entry === undefined || entry.phase === 'done') return
    entry.phase = entry.arrived.size === 0 && entry.held === undefined ? 'done' : 'failed'
    entry.error = error
    this.evaluate(studyUid, entry)
  }

  /** A delivery from the spool's Source. */
  offer(delivery: Delivery<DicomStudy>): void {
    if (!this.planned) {
      this.unplanned.push(delivery)
      return
    }
    const studyUid = delivery.value.studyInstanceUid
    const entry = this.studies.get(studyUid)
    if (entry === undefined || entry.phase === 'done') {
      this.handOn(delivery)
      return
    }
    const superseded = entry.held
    if (superseded !== undefined && superseded.id !== delivery.id) {
      this.log.info({ study: studyUid, superseded: superseded.id, by: delivery.id }, 'a delivery made before the retrieve finished is superseded by a newer one')
      void superseded.ack().catch((error: unknown) => this.log.error({ err: error, delivery: superseded.id }, 'could not settle a superseded delivery'))
    }
    entry.held = delivery
    entry.shortDeadline = undefined
    this.evaluate(studyUid, entry)
  }

  private evaluate(studyUid: string, entry: StudyEntry): void {
    const held = entry.held
    if (held === undefined) return
    if (entry.phase === 'failed') {
      entry.phase = 'done'
      entry.held = undefined
      const error = entry.error ?? new Error('the retrieve failed')
      this.log.warn({ study: studyUid, delivery: held.id, code: (error as { code?: string }).code }, 'study of a failed retrieve rejected: it stays in the spool, in failed/')
      void held.reject(error).catch((settleError: unknown) => this.log.error({ err: settleError, delivery: held.id }, 'could not reject a delivery'))
      this.notify()
      return
    }
    if (entry.phase !== 'retrieved') return
    const have = instanceCount(held.value)
    if (have >= entry.arrived.size) return this.release(studyUid, entry, held)
    // Short: a newer generation with the rest should follow; if none does, the rest was unreadable.
    entry.shortDeadline ??= Date.now() + this.shortWaitMs
    if (Date.now() >= entry.shortDeadline) {
      this.log.warn({ study: studyUid, delivery: held.id, instances: have, arrived: entry.arrived.size }, 'study handed on with fewer instances than arrived (the rest is unreadable)')
      this.release(studyUid, entry, held)
    }
  }

  private release(studyUid: string, entry: StudyEntry, held: Delivery<DicomStudy>): void {
    entry.phase = 'done'
    entry.held = undefined
    this.log.info({ study: studyUid, delivery: held.id, instances: instanceCount(held.value), ...entry.counts }, 'retrieved study handed on')
    this.handOn(held)
  }

  private handOn(delivery: Delivery<DicomStudy>): void {
    this.ready.push(delivery)
    this.notify()
  }

  /** Deliveries to yield now. */
  take(): Delivery<DicomStudy>[] {
    for (const [uid, entry] of this.studies) if (entry.shortDeadline !== undefined) this.evaluate(uid, entry)
    return this.ready.splice(0)
  }

  /**
   * Every study of this run handed on, rejected, or failed with nothing received, and every
   * delivery handed on also taken. A study released while the source waited at a `yield` (the
   * runner busy with the previous study) is 'done' but still in `ready`: without the second check
   * the source ended there and that study was never yielded.
   */
  get finished(): boolean {
    return this.planned && this.ready.length === 0 && [...this.studies.values()].every((entry) => entry.phase === 'done')
  }

  /** Waits for a change (or the next short deadline, or the signal). */
  async changed(signal: AbortSignal): Promise<void> {
    if (this.dirty) {
      this.dirty = false
      return
    }
    const deadlines = [...this.studies.values()].flatMap((entry) => (entry.shortDeadline === undefined ? [] : [entry.shortDeadline]))
    const wait = deadlines.length === 0 ? undefined : Math.max(0, Math.min(...deadlines) - Date.now())
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.dirty = false
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.wake = undefined
        resolve()
      }
      const timer = wait === undefined ? undefined : setTimeout(done, wait)
      signal.addEventListener('abort', done, { once: true })
      this.wake = done
    })
  }

  notify(): void {
    this.dirty = true
    this.wake?.()
  }

  /** The per-study outcome for reports. */
  outcome(studyUid: string): { counts?: RetrieveCounts; error?: SerializedError } {
    const entry = this.studies.get(studyUid)
    return {
      ...(entry?.counts === undefined ? {} : { counts: entry.counts }),
      ...(entry?.error === undefined ? {} : { error: serializeError(entry.error) }),
    }
  }
}

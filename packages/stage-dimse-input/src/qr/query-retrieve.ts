// queryRetrieve: a Source fed with accession numbers: C-FIND each, C-MOVE (or C-GET) its studies into the spool, yield each once complete.
import { backoffDelay, defineSource, isAbortError, PacsflowError, resolveRetry, serializeError, sleep, toPacsflowError } from '@pacsflow/core'
import type { Delivery, Logger, SerializedError, Source, SourceContext } from '@pacsflow/core'
import type { DicomStudy } from '@pacsflow/imaging'
import { createSpool, resolveCompletion, spoolSource, type CompletionOptions, type Retention, type Spool } from '@pacsflow/spool'
import { checkAet, resolveScpOptions, type StoreScpOptions } from '../scp/options.js'
import { startStoreScp, type StoreScp } from '../scp/server.js'
import type { StoreEvent } from '../scp/stats.js'
import { findStudies, type QueryOptions, type StudyMatch } from './find.js'
import { resolvePeer, type PacsAddress } from './peer.js'
import { RetrieveBoard } from './retrieve-board.js'
import { getStudy, moveStudy, type RetrieveCounts } from './retrieve.js'

export interface QueryRetrieveOptions extends Omit<CompletionOptions, 'latePolicy'> {
  readonly pacs: PacsAddress
  /** Our AE title for C-FIND, C-MOVE and C-GET (and, by default, the receiver's). */
  readonly aet: string
  /** The studies to bring: each accession number is looked up (C-FIND, STUDY level) and every matching study retrieved. */
  readonly accessionNumbers: readonly string[]
  /** 'move' (default): C-MOVE to our receiver, which the PACS must know; 'get': C-GET on the query association. */
  readonly method?: 'move' | 'get'
  /** For 'move': the receiver the source starts (port required; aet defaults to `aet`). */
  readonly receiver?: Omit<StoreScpOptions, 'spool' | 'log' | 'aet'> & { readonly aet?: string }
  /** The spool folder (opened when the source opens) or an open `Spool`; one source reads a spool at a time. */
  readonly spool: string | Spool
  /** The source's name (default 'query-retrieve'). */
  readonly name?: string
  readonly retention?: Retention
  /** Per request: connect, negotiate, and between-PDU limit (default 60000 ms). */
  readonly timeoutMs?: number
  /** Tries per C-FIND and per retrieve for retryable failures (default 3). */
  readonly attempts?: number
  /** Called once per accession number with what happened to it. */
  readonly onRetrieve?: (report: RetrieveReport) => void
}

/** What became of one accession number. */
export interface RetrieveReport {
  readonly accessionNumber: string
  /** The C-FIND failed, or found nothing (QR_NOT_FOUND). */
  readonly error?: SerializedError
  readonly studies: readonly { readonly studyInstanceUid: string; readonly counts?: RetrieveCounts; readonly error?: SerializedError }[]
}

/** Default quiet period: the retrieve's end is known, so the spool need not wait a minute for stragglers. */
const DEFAULT_QR_QUIET_MS = 5_000

interface Plan {
  readonly accessionNumber: string
  readonly studies: readonly StudyMatch[]
  readonly error?: Error
}

async function withRetries<T>(attempts: number, signal: AbortSignal, log: Logger, what: string, work: () => Promise<T>): Promise<T> {
  const policy = resolveRetry({ maxAttempts: attempts, initialDelayMs: 1000, maxDelayMs: 30_000 })
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      const coded = toPacsflowError(error)
      if (!coded.retryable || attempt >= attempts || signal.aborted) throw coded
      const delay = backoffDelay(policy, attempt)
      log.warn({ code: coded.code, attempt, retryInMs: delay }, `${what} failed, trying again: ${coded.message}`)
      await sleep(delay, signal)
    }
  }
}

function checkOptions(options: QueryRetrieveOptions): { method: 'move' | 'get'; destination: string | undefined } {
  if (typeof options !== 'object' || options === null) throw new PacsflowError('INVALID_OPTIONS', 'queryRetrieve: options are required')
  resolvePeer(options.pacs, options.aet, options.timeoutMs)
  resolveCompletion(options)
  const method = options.method ?? 'move'
  if (method !== 'move' && method !== 'get') throw new PacsflowError('INVALID_OPTIONS', "method must be 'move' or 'get'")
  const list = options.accessionNumbers
  if (!Array.isArray(list) || list.some((value) => typeof value !== 'string' || value.trim() === '' || value.includes('\\'))) {
    throw new PacsflowError('INVALID_OPTIONS', 'accessionNumbers must be a list of non-empty accession numbers')
  }
  const attempts = options.attempts ?? 3
  if (!Number.isInteger(attempts) || attempts < 1) throw new PacsflowError('INVALID_OPTIONS', 'attempts must be an integer >= 1')
  if (typeof options.spool !== 'string' && typeof (options.spool as Partial<Spool> | undefined)?.commit !== 'function') {
    throw new PacsflowError('INVALID_OPTIONS', 'queryRetrieve: spool must be a folder or a Spool from createSpool()')
  }
  if (method === 'get') return { method, destination: undefined }
  if (options.receiver === undefined) throw new PacsflowError('INVALID_OPTIONS', "method 'move' needs receiver ({ port, ... }): the SCP the PACS sends to")
  const destination = checkAet(options.receiver.aet ?? options.aet, 'receiver.aet')
  resolveScpOptions({ ...options.receiver, aet: destination, spool: { dir: '', incomingPath: () => '', commit: () => Promise.reject(new Error('unused')) } })
  return { method, destination }
}

/**
 * A `Source<DicomStudy>` for "download these studies": on `open`, every accession number is
 * looked up (C-FIND), then each study found is retrieved, by C-MOVE to a receiver the source
 * runs (the default) or by C-GET, into the spool. A study is yielded once its retrieve finished
 * and the spool holds all it brought (see RetrieveBoard); the source ends when every study is
 * yielded or has failed. Failures are coded errors in `onRetrieve` reports and the log
 * (QR_NOT_FOUND, QR_FIND_FAILED, QR_RETRIEVE_FAILED, QR_NOT_RECEIVED, QR_CONNECTION_FAILED...);
 * the partial study of a failed retrieve is rejected into the spool's failed/. Retryable
 * failures are tried `attempts` times. Throws INVALID_OPTIONS at once for bad options.
 */
export function queryRetrieve(options: QueryRetrieveOptions): Source<DicomStudy> {
  const { method, destination } = checkOptions(options)
  const name = options.name ?? 'query-retrieve'
  const attempts = options.attempts ?? 3
  const completion: CompletionOptions = {
    quietPeriodMs: options.quietPeriodMs ?? DEFAULT_QR_QUIET_MS,
    latePolicy: 'new-job',
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
    ...(options.earlyCompletion === undefined ? {} : { earlyCompletion: options.earlyCompletion }),
    ...(options.earlyGraceMs === undefined ? {} : { earlyGraceMs: options.earlyGraceMs }),
  }
  const quietPeriodMs = resolveCompletion(completion).quietPeriodMs

  async function* open(ctx: SourceContext): AsyncGenerator<Delivery<DicomStudy>> {
    const log = ctx.log
    const spool = typeof options.spool === 'string' ? await createSpool({ dir: options.spool, log }) : options.spool
    const board = new RetrieveBoard(log, quietPeriodMs + 10_000)
    const inner = new AbortController()
    const stop = (): void => inner.abort(ctx.signal.reason)
    ctx.signal.addEventListener('abort', stop, { once: true })
    const onStore = (event: StoreEvent): void => {
      const study = event.commit?.studyInstanceUid
      if (event.status === 0 && study !== undefined) board.arrived(study, event.sopInstanceUid)
    }
    let scp: StoreScp | undefined
    let failure: unknown
    let working = true
    const studies = spoolSource(spool, { name, ...completion, ...(options.retention === undefined ? {} : { retention: options.retention }) })
    try {
      if (method === 'move') scp = await startStoreScp({ ...options.receiver!, aet: destination!, spool, log, onStore })
      const pump = (async () => {
        for await (const delivery of studies.open({ signal: inner.signal, log })) board.offer(delivery)
      })().catch((error: unknown) => {
        if (!inner.signal.aborted) failure = error
        board.notify()
      })
      const work = retrieveAll({ options, method, destination, attempts, board, spool, onStore, signal: inner.signal, log })
        .catch((error: unknown) => {
          if (!isAbortError(error)) failure = error
        })
        .finally(() => {
          working = false
          board.notify()
        })
      try {
        for (;;) {
          for (const delivery of board.take()) yield delivery
          if (failure !== undefined) throw failure
          if ((!working && board.finished) || ctx.signal.aborted) break
          await board.changed(inner.signal)
        }
      } finally {
        inner.abort()
        await Promise.allSettled([pump, work])
      }
    } finally {
      ctx.signal.removeEventListener('abort', stop)
      await scp?.close()
    }
  }

  return defineSource<DicomStudy>({ name, open })
}

interface RetrieveRun {
  readonly options: QueryRetrieveOptions
  readonly method: 'move' | 'get'
  readonly destination: string | undefined
  readonly attempts: number
  readonly board: RetrieveBoard
  readonly spool: Spool
  readonly onStore: (event: StoreEvent) => void
  readonly signal: AbortSignal
  readonly log: Logger
}

/** Every C-FIND first (so the board knows which studies are this run's), then each study's retrieve, one at a time. */
async function retrieveAll(run: RetrieveRun): Promise<void> {
  const { options, signal, log } = run
  const query: QueryOptions = { pacs: options.pacs, aet: options.aet, signal, log, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) }
  const plans: Plan[] = []
  for (const accessionNumber of options.accessionNumbers) {
    try {
      const studies = await withRetries(run.attempts, signal, log, `C-FIND of accession ${accessionNumber}`, () => findStudies({ accessionNumber }, query))
      if (studies.length === 0) throw new PacsflowError('QR_NOT_FOUND', `no study with accession number ${accessionNumber} on ${options.pacs.aet}`, { details: { accessionNumber } })
      plans.push({ accessionNumber, studies })
    } catch (error) {
      if (signal.aborted) throw error
      plans.push({ accessionNumber, studies: [], error: toPacsflowError(error) })
    }
  }
  run.board.plan(plans.flatMap((plan) => plan.studies.map((study) => study.studyInstanceUid)))
  const seen = new Set<string>()
  for (const plan of plans) {
    for (const study of plan.studies) {
      if (seen.has(study.studyInstanceUid)) continue
      seen.add(study.studyInstanceUid)
      await retrieveOne(run, query, study.studyInstanceUid)
    }
    report(run, plan)
  }
}

async function retrieveOne(run: RetrieveRun, query: QueryOptions, studyUid: string): Promise<void> {
  const { board, signal, log } = run
  try {
    const counts = await withRetries(run.attempts, signal, log, `retrieve of study ${studyUid}`, async () => {
      const counts =
        run.method === 'move'
          ? await moveStudy(studyUid, { ...query, destinationAet: run.destination! })
          : await getStudy(studyUid, { ...query, spool: run.spool, onStore: run.onStore })
      const arrived = board.arrivedCount(studyUid)
      if (arrived < counts.completed + counts.warning) {
        throw new PacsflowError('QR_NOT_RECEIVED', `the PACS sent ${counts.completed + counts.warning} instance(s) of study ${studyUid}, ${arrived} reached the spool: does its node for '${run.destination ?? run.options.aet}' point at this receiver?`, {
          details: { studyInstanceUid: studyUid, ...counts, arrived },
        })
      }
      return counts
    })
    board.retrieved(studyUid, counts)
  } catch (error) {
    if (signal.aborted) throw error
    const coded = toPacsflowError(error)
    log.error({ code: coded.code, study: studyUid }, `retrieve failed: ${coded.message}`)
    board.failed(studyUid, coded)
  }
}

function report(run: RetrieveRun, plan: Plan): void {
  const result: RetrieveReport = {
    accessionNumber: plan.accessionNumber,
    ...(plan.error === undefined ? {} : { error: serializeError(plan.error) }),
    studies: plan.studies.map((study) => ({ studyInstanceUid: study.studyInstanceUid, ...run.board.outcome(study.studyInstanceUid) })),
  }
  if (plan.error !== undefined) run.log.error({ accessionNumber: plan.accessionNumber, code: result.error?.code }, `accession ${plan.accessionNumber}: ${plan.error.message}`)
  try {
    run.options.onRetrieve?.(result)
  } catch (error) {
    run.log.error({ err: error }, 'onRetrieve failed')
  }
}

// Runs one job's remaining stages: resources, timeouts, retries with backoff, a checkpoint after each stage.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PacsflowError, serializeError, toPacsflowError } from './errors.js'
import type { EventHub } from './events.js'
import { MAX_RECORDED_ERRORS, type JobRecord, type JobStore } from './job-store.js'
import type { Logger } from './logger.js'
import type { ResourcePool } from './resource-pool.js'
import { backoffDelay, resolveRetry, sleep, type ResolvedRetry } from './retry.js'
import type { AnyStage, RetryOptions, StageContext } from './stage.js'

/** Per-stage settings a site gives the runner, overriding what the stage declares. */
export interface StageOverrides {
  readonly retry?: RetryOptions
  readonly timeoutMs?: number
}

export interface ExecutionDeps {
  readonly stages: readonly AnyStage[]
  readonly store: JobStore
  readonly events: EventHub
  readonly resources: ResourcePool
  readonly log: Logger
  readonly retry: (stage: AnyStage) => ResolvedRetry
  readonly timeoutMs: (stage: AnyStage) => number | undefined
  readonly maxResumes: number
  readonly progressIntervalMs: number
}

/** Thrown when the job's signal aborted: the job stays pending in the store, to resume later. */
export class JobInterrupted extends Error {
  override readonly name = 'JobInterrupted'
}

type StageOutcome =
  | { readonly ok: true; readonly output: unknown; readonly attempts: number; readonly durationMs: number }
  | { readonly ok: false; readonly error: PacsflowError }

/**
 * Runs `record` from its first unfinished stage to the end and returns the final record
 * (`done` or `failed`, already saved). Throws `JobInterrupted` when `signal` aborts.
 */
export async function executeJob(
  initial: JobRecord,
  signal: AbortSignal,
  deps: ExecutionDeps,
  resumed: boolean,
): Promise<JobRecord> {
  let record = reconcile(initial, deps)
  if (resumed && record.checkpoints.length < deps.stages.length) {
    const stage = deps.stages[record.checkpoints.length]!.name
    const count = (record.crashResumes?.stage === stage ? record.crashResumes.count : 0) + 1
    if (count > deps.maxResumes) {
      const error = new PacsflowError(
        'JOB_CRASH_LOOP',
        `job ${record.id} was resumed at stage '${stage}' ${count} times: the stage seems to crash the process; fix it, then retry the job by id`,
        { stage, jobId: record.id, details: { resumes: count, maxResumes: deps.maxResumes } },
      )
      return fail(record, stage, error, deps)
    }
    record = { ...record, crashResumes: { stage, count }, updatedAt: new Date().toISOString() }
    await deps.store.save(record)
  }

  while (record.checkpoints.length < deps.stages.length) {
    const index = record.checkpoints.length
    const stage = deps.stages[index]!
    const input = index === 0 ? record.input : record.checkpoints[index - 1]!.output
    const outcome = await runStage(stage, index, input, () => record, (next) => (record = next), signal, deps)
    if (!outcome.ok) {
      const error = new PacsflowError('STAGE_FAILED', `stage '${stage.name}' failed: ${outcome.error.message}`, {
        cause: outcome.error,
        stage: stage.name,
        jobId: record.id,
        stageCode: outcome.error.code,
        retryable: outcome.error.retryable,
      })
      return fail(record, stage.name, error, deps)
    }
    const now = new Date().toISOString()
    const last = index === deps.stages.length - 1
    record = {
      ...record,
      checkpoints: [
        ...record.checkpoints,
        { stage: stage.name, output: outcome.output, attempts: outcome.attempts, durationMs: outcome.durationMs, finishedAt: now },
      ],
      updatedAt: now,
      ...(last ? { status: 'done' as const, output: outcome.output, finishedAt: now } : {}),
    }
    // The last checkpoint and the job's completion are one write.
    await deps.store.save(record)
  }
  deps.events.emit({
    type: 'job:done',
    jobId: record.id,
    durationMs: Date.now() - Date.parse(record.createdAt),
    output: record.output,
  })
  return record
}

async function runStage(
  stage: AnyStage,
  index: number,
  input: unknown,
  current: () => JobRecord,
  update: (record: JobRecord) => void,
  jobSignal: AbortSignal,
  deps: ExecutionDeps,
): Promise<StageOutcome> {
  const retry = deps.retry(stage)
  const timeoutMs = deps.timeoutMs(stage)
  const jobId = current().id
  const workDir = join(deps.store.workDir(jobId), `${String(index).padStart(2, '0')}-${stage.name}`)

  for (let attempt = 1; ; attempt++) {
    if (jobSignal.aborted) throw new JobInterrupted('job interrupted before the stage started')
    let lease
    try {
      lease = await deps.resources.acquire(stage.resources ?? {}, jobSignal)
    } catch {
      throw new JobInterrupted('job interrupted while waiting for resources')
    }
    const started = performance.now()
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)
    const signal = timeout === undefined ? jobSignal : AbortSignal.any([jobSignal, timeout])
    const log = deps.log.child({ jobId, stage: stage.name, attempt })
    deps.events.emit({ type: 'stage:start', jobId, stage: stage.name, index, attempt })
    let retryInMs: number
    try {
      await mkdir(workDir, { recursive: true })
      // The timeout (or the job's abort) may fire while the folder is made on a slow disk: a stage is
      // never started on a signal that is already aborted (one that only listens for 'abort' would
      // wait for ever; the runner's timeout test hung that way in about one run in twenty).
      signal.throwIfAborted()
      const ctx: StageContext = {
        jobId,
        stage: stage.name,
        attempt,
        signal,
        workDir,
        log,
        slots: lease.slots,
        progress: progressReporter(jobId, stage.name, index, deps),
      }
      const output = checkpointable(await stage.run(input, ctx), stage.name)
      const durationMs = performance.now() - started
      deps.events.emit({ type: 'stage:end', jobId, stage: stage.name, index, attempt, durationMs, outcome: 'ok' })
      return { ok: true, output, attempts: attempt, durationMs }
    } catch (thrown) {
      const durationMs = performance.now() - started
      if (jobSignal.aborted) {
        deps.events.emit({ type: 'stage:end', jobId, stage: stage.name, index, attempt, durationMs, outcome: 'aborted' })
        throw new JobInterrupted(`stage '${stage.name}' interrupted`)
      }
      const error =
        timeout?.aborted === true
          ? new PacsflowError('STAGE_TIMEOUT', `stage '${stage.name}' ran past its ${timeoutMs} ms limit`, {
              cause: thrown,
              retryable: true,
              stage: stage.name,
            })
          : toPacsflowError(thrown)
      const willRetry = attempt < retry.maxAttempts && (retry.retryOn?.(error) ?? error.retryable)
      const delay = willRetry ? backoffDelay(retry, attempt) : undefined
      deps.events.emit({
        type: 'stage:end',
        jobId,
        stage: stage.name,
        index,
        attempt,
        durationMs,
        outcome: willRetry ? 'retry' : 'failed',
        error: serializeError(error),
        ...(delay === undefined ? {} : { retryInMs: delay }),
      })
      log.warn({ err: error, code: error.code, retryInMs: delay }, `stage attempt failed: ${error.message}`)
      const record = current()
      const errors = [...record.errors, { stage: stage.name, attempt, error: serializeError(error), at: new Date().toISOString() }]
      update({ ...record, errors: errors.slice(-MAX_RECORDED_ERRORS), updatedAt: new Date().toISOString() })
      if (delay === undefined) return { ok: false, error }
      retryInMs = delay
      // Failed attempts are rare: record each one durably so a crash during backoff keeps the count.
      await deps.store.save(current())
    } finally {
      lease.release()
    }
    try {
      await sleep(retryInMs, jobSignal)
    } catch {
      throw new JobInterrupted('job interrupted during retry backoff')
    }
  }
}

async function fail(record: JobRecord, stage: string, error: PacsflowError, deps: ExecutionDeps): Promise<JobRecord> {
  const now = new Date().toISOString()
  const failed: JobRecord = { ...record, status: 'failed', error: serializeError(error), updatedAt: now, finishedAt: now }
  await deps.store.save(failed)
  deps.log.error({ err: error, jobId: record.id, stage, code: error.code, stageCode: error.stageCode }, error.message)
  deps.events.emit({ type: 'job:failed', jobId: record.id, stage, error: serializeError(error) })
  return failed
}

/**
 * Keeps the checkpoints that still match the pipeline's stages (a site may have changed its
 * pipeline between a crash and the restart); later stages run again.
 */
function reconcile(record: JobRecord, deps: ExecutionDeps): JobRecord {
  const names = deps.stages.map((stage) => stage.name)
  let kept = 0
  while (kept < record.checkpoints.length && record.checkpoints[kept]!.stage === names[kept]) kept++
  if (kept < record.checkpoints.length) {
    deps.log.warn(
      { jobId: record.id, kept, dropped: record.checkpoints.slice(kept).map((c) => c.stage) },
      'the pipeline changed since this job started: later stages run again',
    )
  }
  return { ...record, stages: names, checkpoints: record.checkpoints.slice(0, kept) }
}

/**
 * Invariant 2: what passes between stages is JSON. The next stage gets the value as a
 * resumed job would (Dates become strings), so a resumed run behaves like an uninterrupted one.
 */
function checkpointable(output: unknown, stage: string): unknown {
  if (output === undefined) return undefined
  let text: string | undefined
  try {
    text = JSON.stringify(output)
  } catch (error) {
    throw new PacsflowError('OUTPUT_NOT_SERIALIZABLE', `stage '${stage}' returned a value that is not JSON-serialisable`, {
      cause: error,
      stage,
    })
  }
  if (text === undefined) {
    throw new PacsflowError('OUTPUT_NOT_SERIALIZABLE', `stage '${stage}' returned a ${typeof output}, which JSON cannot hold`, {
      stage,
    })
  }
  return JSON.parse(text)
}

function progressReporter(
  jobId: string,
  stage: string,
  index: number,
  deps: ExecutionDeps,
): (fraction: number, note?: string) => void {
  let lastAt = Number.NEGATIVE_INFINITY
  let lastNote: string | undefined
  return (fraction, note) => {
    const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
    const now = performance.now()
    // A stage may report per slice; keep the event stream readable.
    if (now - lastAt < deps.progressIntervalMs && clamped !== 1 && note === lastNote) return
    lastAt = now
    lastNote = note
    deps.events.emit({
      type: 'stage:progress',
      jobId,
      stage,
      index,
      fraction: clamped,
      ...(note === undefined ? {} : { note }),
    })
  }
}

// The runner: pulls deliveries from a source, runs each as a durable job, resumes after a crash, acks when done.
import { nodeCrypto } from './builtins.js'
import { deserializeError, PacsflowError, serializeError, toPacsflowError } from './errors.js'
import { EventHub, type EventOf, type EventStreamOptions, type RunnerEvent, type RunnerEventType } from './events.js'
import { executeJob, JobInterrupted, type StageOverrides } from './job-execution.js'
import type { JobRecord, JobStore } from './job-store.js'
import { silentLogger, type Logger } from './logger.js'
import type { Pipeline } from './pipeline.js'
import { ResourcePool } from './resource-pool.js'
import { backoffDelay, resolveRetry, sleep } from './retry.js'
import type { AnyStage, Delivery, ResourceRequest, RetryOptions, Source } from './stage.js'

export interface RunnerOptions<In, Out> {
  readonly pipeline: Pipeline<In, Out>
  /** Where jobs are kept: `fileJobStore(dir)` in a service, `memoryJobStore()` in tests. */
  readonly store: JobStore
  /** Where jobs come from; optional when the runner is only used through `run()`. */
  readonly source?: Source<In>
  /** Jobs running at once (default 1). Jobs waiting for a resource slot count as running. */
  readonly concurrency?: number
  /** Default retry policy for every stage (a stage's own `retry`, then `stages[name].retry`, win). */
  readonly retry?: RetryOptions
  /** Named resource slots, e.g. `{ gpu: 2 }`; stages that declare resources queue for them. */
  readonly resources?: ResourceRequest
  /** Per-stage settings by stage name, overriding the stage's own. */
  readonly stages?: Readonly<Record<string, StageOverrides>>
  /** Where the runner and the stages log (default: silent). */
  readonly log?: Logger
  /** Restarts that may find a job in the same stage before it fails `JOB_CRASH_LOOP` (default 5). */
  readonly maxResumes?: number
  /** Least time between two `stage:progress` events of one stage, in ms (default 100). */
  readonly progressIntervalMs?: number
}

export interface RunOptions {
  /** The job id (default: a random UUID). Running the same id again returns the stored result. */
  readonly jobId?: string
  /** Cancels this run; the job stays pending in the store. */
  readonly signal?: AbortSignal
}

export interface Runner<In, Out> {
  /** Resumes unfinished jobs from the store, then pulls deliveries from the source. */
  start(): Promise<void>
  /**
   * Stops gracefully: aborts every running stage's signal, waits for stages to return, and
   * leaves unfinished jobs pending in the store to resume at the next start.
   */
  stop(): Promise<void>
  /** Runs one input through the pipeline as a durable job and returns the output; throws `STAGE_FAILED`. */
  run(input: In, options?: RunOptions): Promise<Out>
  /** Runs a failed job again from the stage that failed; resolves with its final record. */
  retryJob(id: string): Promise<JobRecord>
  /** Resolves once the source has ended and no job is running. */
  idle(): Promise<void>
  /** Listens to events of one type (or `'*'`); returns the unsubscribe function. */
  on<T extends RunnerEventType>(type: T | '*', listener: (event: EventOf<T>) => void): () => void
  /** The events from now on as an async iterator (ends at `stop()` or when `signal` aborts). */
  events(options?: EventStreamOptions): AsyncIterableIterator<RunnerEvent>
  readonly store: JobStore
}

/**
 * The job id of a delivery: readable (its id, made safe for a folder name) and unique (a
 * hash of the full id), and the same after a restart, so a redelivery finds its job.
 */
export function jobIdFor(deliveryId: string): string {
  const readable = deliveryId.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100)
  const hash = nodeCrypto().createHash('sha256').update(deliveryId).digest('hex').slice(0, 12)
  return readable.length > 0 ? `${readable}-${hash}` : hash
}

type State = 'new' | 'running' | 'stopping' | 'stopped'

interface InFlight<In> {
  readonly promise: Promise<JobRecord | undefined>
  readonly deliveries: Delivery<In>[]
}

/** Creates a runner; options are checked at once (`INVALID_OPTIONS`). */
export function createRunner<In, Out>(options: RunnerOptions<In, Out>): Runner<In, Out> {
  const { pipeline, store, source } = options
  const log = options.log ?? silentLogger
  const concurrency = options.concurrency ?? 1
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new PacsflowError('INVALID_OPTIONS', `concurrency must be an integer >= 1, got ${concurrency}`)
  }
  if (pipeline === undefined || !Array.isArray(pipeline.stages) || store === undefined) {
    throw new PacsflowError('INVALID_OPTIONS', 'createRunner needs a pipeline and a store')
  }
  const resources = new ResourcePool(options.resources ?? {})
  const overrides = options.stages ?? {}
  const retries = new Map<AnyStage, ReturnType<typeof resolveRetry>>()
  for (const stage of pipeline.stages) {
    resources.check(stage.resources ?? {}, `stage '${stage.name}'`)
    retries.set(stage, resolveRetry(options.retry, stage.retry, overrides[stage.name]?.retry))
  }
  for (const name of Object.keys(overrides)) {
    if (!pipeline.stages.some((stage) => stage.name === name)) {
      throw new PacsflowError('INVALID_OPTIONS', `stages.${name}: the pipeline has no stage named '${name}'`)
    }
  }

  const events = new EventHub(log)
  const controller = new AbortController()
  const jobSlots = new ResourcePool({ job: concurrency })
  const inFlight = new Map<string, InFlight<In>>()
  const idleWaiters: (() => void)[] = []
  const slotWaiters: (() => void)[] = []
  let state: State = 'new'
  let sourceDone = source === undefined
  let pump: Promise<void> | undefined

  const deps = {
    stages: pipeline.stages,
    store,
    events,
    resources,
    log,
    retry: (stage: AnyStage) => retries.get(stage)!,
    timeoutMs: (stage: AnyStage) => overrides[stage.name]?.timeoutMs ?? stage.timeoutMs,
    maxResumes: options.maxResumes ?? 5,
    progressIntervalMs: options.progressIntervalMs ?? 100,
  }

  const settled = (): void => {
    for (const wake of slotWaiters.splice(0)) wake()
    if (sourceDone && inFlight.size === 0) for (const wake of idleWaiters.splice(0)) wake()
  }

  /** Runs a job in a job slot; settles its deliveries when it ends. Resolves undefined if interrupted. */
  const launch = (record: JobRecord, delivery: Delivery<In> | undefined, resumed: boolean, signal?: AbortSignal): InFlight<In> => {
    const jobSignal = signal === undefined ? controller.signal : AbortSignal.any([controller.signal, signal])
    const deliveries = delivery === undefined ? [] : [delivery]
    const promise = (async () => {
      let final: JobRecord | undefined
      try {
        const lease = await jobSlots.acquire({ job: 1 }, jobSignal)
        try {
          final = await executeJob(record, jobSignal, deps, resumed)
        } finally {
          lease.release()
        }
      } catch (error) {
        if (error instanceof JobInterrupted || jobSignal.aborted) {
          log.info({ jobId: record.id }, 'job interrupted; it stays pending and resumes at the next start')
        } else {
          // The store itself failed (disk full, permissions): the job stays pending on disk.
          log.error({ err: error, jobId: record.id }, 'job could not be recorded; it stays pending')
        }
      } finally {
        inFlight.delete(record.id)
      }
      if (final !== undefined) await settleDeliveries(final, deliveries.splice(0))
      settled()
      return final
    })()
    const entry = { promise, deliveries }
    inFlight.set(record.id, entry)
    return entry
  }

  const settleDeliveries = async (record: JobRecord, deliveries: readonly Delivery<In>[]): Promise<void> => {
    for (const delivery of deliveries) {
      try {
        if (record.status === 'done') await delivery.ack()
        else if (record.status === 'failed') await delivery.reject(deserializeError(record.error!))
      } catch (error) {
        log.error({ err: error, jobId: record.id, deliveryId: delivery.id }, 'the source failed to settle a delivery; it will be delivered again')
      }
    }
  }

  const newRecord = (id: string, input: In, deliveryId?: string): JobRecord => {
    const now = new Date().toISOString()
    return {
      id,
      ...(deliveryId === undefined ? {} : { deliveryId }),
      status: 'pending',
      input,
      stages: pipeline.stages.map((stage) => stage.name),
      checkpoints: [],
      errors: [],
      createdAt: now,
      updatedAt: now,
    }
  }

  const handleDelivery = async (delivery: Delivery<In>): Promise<void> => {
    const jobId = jobIdFor(delivery.id)
    const running = inFlight.get(jobId)
    if (running !== undefined) {
      running.deliveries.push(delivery)
      return
    }
    const { record, created } = await store.create(newRecord(jobId, delivery.value, delivery.id))
    const raced = inFlight.get(jobId)
    if (raced !== undefined) raced.deliveries.push(delivery)
    else if (created) {
      events.emit({ type: 'job:queued', jobId, deliveryId: delivery.id })
      launch(record, delivery, false)
    } else if (record.status === 'pending') launch(record, delivery, true)
    else {
      log.info({ jobId, deliveryId: delivery.id, status: record.status }, 'delivered again after its job ended; settling it')
      await settleDeliveries(record, [delivery])
    }
  }

  const waitForSlot = async (): Promise<void> => {
    while (inFlight.size >= concurrency && !controller.signal.aborted) {
      await new Promise<void>((resolve) => slotWaiters.push(resolve))
    }
  }

  const pumpSource = async (src: Source<In>): Promise<void> => {
    let failures = 0
    while (!controller.signal.aborted) {
      let iterator: AsyncIterator<Delivery<In>> | undefined
      try {
        iterator = src.open({ signal: controller.signal, log: log.child({ source: src.name }) })[Symbol.asyncIterator]()
        for (;;) {
          await waitForSlot()
          const next = await untilAborted(iterator.next(), controller.signal)
          if (next === undefined) break
          if (next.done === true) {
            sourceDone = true
            settled()
            return
          }
          failures = 0
          await handleDelivery(next.value)
        }
      } catch (error) {
        if (controller.signal.aborted) break
        failures++
        const retryInMs = backoffDelay(resolveRetry({ initialDelayMs: 1000, maxDelayMs: 60_000 }), failures)
        const wrapped = new PacsflowError('SOURCE_FAILED', `source '${src.name}' failed: ${toPacsflowError(error).message}`, {
          cause: error,
          retryable: true,
        })
        log.error({ err: wrapped, retryInMs }, wrapped.message)
        events.emit({ type: 'source:error', source: src.name, error: serializeError(wrapped), retryInMs })
        await sleep(retryInMs, controller.signal).catch(() => {})
      } finally {
        // The source ends its pending read through the signal; do not wait for it here.
        void Promise.resolve(iterator?.return?.()).catch(() => {})
      }
    }
  }

  const runner: Runner<In, Out> = {
    store,
    async start() {
      if (state !== 'new') throw new PacsflowError('RUNNER_STATE', `start() on a runner that is ${state}`)
      state = 'running'
      const pending = await store.list({ status: ['pending'] })
      for (const record of pending) {
        if (inFlight.has(record.id)) continue
        const next = pipeline.stages[record.checkpoints.length]?.name ?? pipeline.stages[0]!.name
        events.emit({ type: 'job:resumed', jobId: record.id, stage: next, reason: 'restart' })
        launch(record, undefined, true)
      }
      if (source !== undefined) pump = pumpSource(source)
      log.info({ resumed: pending.length, concurrency, source: source?.name }, 'runner started')
    },

    async stop() {
      if (state === 'stopped') return
      state = 'stopping'
      controller.abort(new PacsflowError('ABORTED', 'the runner is stopping'))
      settled()
      await pump
      await Promise.allSettled([...inFlight.values()].map((entry) => entry.promise))
      sourceDone = true
      settled()
      events.close()
      state = 'stopped'
      log.info({}, 'runner stopped')
    },

    async run(input, runOptions = {}) {
      if (state === 'stopping' || state === 'stopped') {
        throw new PacsflowError('RUNNER_STATE', `run() on a runner that is ${state}`)
      }
      const jobId = runOptions.jobId ?? nodeCrypto().randomUUID()
      const { record, created } = await store.create(newRecord(jobId, input))
      let final: JobRecord | undefined = record
      if (record.status === 'pending') {
        if (created) events.emit({ type: 'job:queued', jobId })
        const entry = inFlight.get(jobId) ?? launch(record, undefined, !created, runOptions.signal)
        final = await entry.promise
      }
      if (final === undefined || final.status === 'pending') {
        throw new PacsflowError('ABORTED', `job ${jobId} was interrupted; it stays pending in the store`, { jobId })
      }
      if (final.status === 'failed') throw deserializeError(final.error!)
      return final.output as Out
    },

    async retryJob(id) {
      if (state === 'stopping' || state === 'stopped') {
        throw new PacsflowError('RUNNER_STATE', `retryJob() on a runner that is ${state}`)
      }
      const running = inFlight.get(id)
      if (running !== undefined) {
        throw new PacsflowError('JOB_STATE', `job ${id} is running`, { jobId: id })
      }
      const record = await store.get(id)
      if (record === undefined) throw new PacsflowError('JOB_NOT_FOUND', `no job ${id} in the store`, { jobId: id })
      if (record.status !== 'failed') {
        throw new PacsflowError('JOB_STATE', `job ${id} is ${record.status}; only a failed job can be retried`, { jobId: id })
      }
      const { error: _error, finishedAt: _finishedAt, crashResumes: _resumes, ...rest } = record
      const reset: JobRecord = { ...rest, status: 'pending', updatedAt: new Date().toISOString() }
      await store.save(reset)
      const stage = pipeline.stages[reset.checkpoints.length]?.name ?? pipeline.stages[0]!.name
      events.emit({ type: 'job:resumed', jobId: id, stage, reason: 'retry' })
      const final = await (inFlight.get(id) ?? launch(reset, undefined, false)).promise
      return final ?? (await store.get(id))!
    },

    idle() {
      if (sourceDone && inFlight.size === 0) return Promise.resolve()
      return new Promise<void>((resolve) => idleWaiters.push(resolve))
    },

    on: (type, listener) => events.on(type, listener),
    events: (streamOptions) => events.stream(streamOptions),
  }
  return runner
}

/** Resolves with the promise's value, or with undefined as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

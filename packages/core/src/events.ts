// The runner's lifecycle as a typed discriminated union, delivered to listeners and async iterators.
import type { SerializedError } from './errors.js'
import type { Logger } from './logger.js'

interface EventBase {
  /** Milliseconds since the epoch. */
  readonly at: number
}

/** A job was created: from a new delivery, `run()`, or a retry by id. */
export interface JobQueuedEvent extends EventBase {
  readonly type: 'job:queued'
  readonly jobId: string
  readonly deliveryId?: string
}
/** An unfinished job was picked up again (after a restart, or `retryJob`). */
export interface JobResumedEvent extends EventBase {
  readonly type: 'job:resumed'
  readonly jobId: string
  /** The first unfinished stage, where the job continues. */
  readonly stage: string
  readonly reason: 'restart' | 'retry'
}
export interface StageStartEvent extends EventBase {
  readonly type: 'stage:start'
  readonly jobId: string
  readonly stage: string
  /** Position of the stage in the pipeline, from 0. */
  readonly index: number
  readonly attempt: number
}
export interface StageProgressEvent extends EventBase {
  readonly type: 'stage:progress'
  readonly jobId: string
  readonly stage: string
  readonly index: number
  /** In [0, 1]. */
  readonly fraction: number
  readonly note?: string
}
export interface StageEndEvent extends EventBase {
  readonly type: 'stage:end'
  readonly jobId: string
  readonly stage: string
  readonly index: number
  readonly attempt: number
  readonly durationMs: number
  /** `ok`; `retry` (failed, another attempt follows after `retryInMs`); `failed`; `aborted` (runner stopped). */
  readonly outcome: 'ok' | 'retry' | 'failed' | 'aborted'
  readonly retryInMs?: number
  readonly error?: SerializedError
}
export interface JobDoneEvent extends EventBase {
  readonly type: 'job:done'
  readonly jobId: string
  /** From the job's creation to its end, restarts included. */
  readonly durationMs: number
  readonly output: unknown
}
export interface JobFailedEvent extends EventBase {
  readonly type: 'job:failed'
  readonly jobId: string
  readonly stage: string
  readonly error: SerializedError
}
/** The source failed; the runner opens it again after `retryInMs`. */
export interface SourceErrorEvent extends EventBase {
  readonly type: 'source:error'
  readonly source: string
  readonly error: SerializedError
  readonly retryInMs: number
}

/** Everything the runner reports. Switch on `type`. */
export type RunnerEvent =
  | JobQueuedEvent
  | JobResumedEvent
  | StageStartEvent
  | StageProgressEvent
  | StageEndEvent
  | JobDoneEvent
  | JobFailedEvent
  | SourceErrorEvent

export type RunnerEventType = RunnerEvent['type']
/** The event of one type, e.g. `EventOf<'stage:end'>`. */
export type EventOf<T extends RunnerEventType> = Extract<RunnerEvent, { type: T }>

/** Distributive omit, so that each member of the union keeps its own fields. */
export type EventInit = RunnerEvent extends infer E ? (E extends RunnerEvent ? Omit<E, 'at'> : never) : never

export interface EventStreamOptions {
  /** Ends the iteration when aborted. */
  readonly signal?: AbortSignal
  /** Events held for a slow consumer before the oldest are dropped (default 10000). */
  readonly bufferSize?: number
}

/** Fans events out to listeners and iterators; a failing listener is logged, never fatal. */
export class EventHub {
  readonly #listeners = new Set<(event: RunnerEvent) => void>()
  readonly #log: Logger

  constructor(log: Logger) {
    this.#log = log
  }

  emit(init: EventInit): void {
    const event = { ...init, at: Date.now() } as RunnerEvent
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        this.#log.error({ err: error, event: event.type }, 'event listener threw; the runner goes on')
      }
    }
  }

  /** Calls `listener` for events of `type` (or every event for `'*'`); returns the unsubscribe function. */
  on<T extends RunnerEventType>(type: T | '*', listener: (event: EventOf<T>) => void): () => void {
    const wrapped = (event: RunnerEvent): void => {
      if (type === '*' || event.type === type) listener(event as EventOf<T>)
    }
    this.#listeners.add(wrapped)
    return () => this.#listeners.delete(wrapped)
  }

  /** The events from now on as an async iterator; ends when `signal` aborts or `close()` is called. */
  stream(options: EventStreamOptions = {}): AsyncIterableIterator<RunnerEvent> {
    const bufferSize = options.bufferSize ?? 10_000
    const buffer: RunnerEvent[] = []
    let wake: (() => void) | undefined
    let ended = options.signal?.aborted ?? false
    const end = (): void => {
      ended = true
      unsubscribe()
      this.#closers.delete(end)
      wake?.()
    }
    const unsubscribe = this.on('*', (event) => {
      buffer.push(event)
      if (buffer.length > bufferSize) buffer.shift()
      wake?.()
    })
    this.#closers.add(end)
    options.signal?.addEventListener('abort', end, { once: true })

    const iterator: AsyncIterableIterator<RunnerEvent> = {
      next: async () => {
        while (buffer.length === 0 && !ended) {
          await new Promise<void>((resolve) => (wake = resolve))
          wake = undefined
        }
        const event = buffer.shift()
        return event === undefined ? { done: true, value: undefined } : { done: false, value: event }
      },
      return: async () => {
        end()
        buffer.length = 0
        return { done: true, value: undefined }
      },
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  readonly #closers = new Set<() => void>()

  /** Ends every open stream (after the events already buffered). */
  close(): void {
    for (const end of [...this.#closers]) end()
  }
}

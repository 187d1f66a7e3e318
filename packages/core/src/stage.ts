// The contracts every pacsflow package is written against: Stage, Source, Delivery and their contexts.
import { PacsflowError } from './errors.js'
import type { Logger } from './logger.js'

/** Named resource slots a stage needs while it runs, e.g. `{ gpu: 1 }`. */
export type ResourceRequest = Readonly<Record<string, number>>

/** Retry with exponential backoff, for errors marked retryable. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 disables retries). */
  readonly maxAttempts?: number
  /** Delay before the second attempt, in ms (default 1000). */
  readonly initialDelayMs?: number
  /** Upper bound of any delay, in ms (default 30000). */
  readonly maxDelayMs?: number
  /** Growth of the delay per attempt (default 2). */
  readonly factor?: number
  /** Randomise each delay within [delay/2, delay] so retries of many jobs spread out (default true). */
  readonly jitter?: boolean
  /** Decides which errors are retried (default: `error.retryable`). */
  readonly retryOn?: (error: PacsflowError) => boolean
}

/** What the runner hands a stage for one attempt of one job. */
export interface StageContext {
  /** The job this attempt belongs to. */
  readonly jobId: string
  /** The stage's name, as in the pipeline. */
  readonly stage: string
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number
  /**
   * Aborted when the runner stops, the caller cancels or the stage's `timeoutMs` passes.
   * Hand it to every child process, socket and long loop; stop promptly when it fires.
   */
  readonly signal: AbortSignal
  /**
   * A folder private to this job and stage. It survives restarts, so a resumed stage can
   * find (and skip) work it finished before a crash. Bulk data (DICOM, NIfTI) lives here.
   */
  readonly workDir: string
  /** Structured logger, already bound to the job and stage. */
  readonly log: Logger
  /** Slot indices held for each declared resource, e.g. `{ gpu: [0] }` (a GPU's device index). */
  readonly slots: Readonly<Record<string, readonly number[]>>
  /** Reports progress in [0, 1], with an optional note; the runner turns it into events. */
  progress(fraction: number, note?: string): void
}

/**
 * One step of a pipeline: takes a JSON-serialisable descriptor, does its work (files go to
 * `ctx.workDir`) and returns the next descriptor. Made by a factory named after the
 * package, which validates its options at once: `qsmxt(options)` returns `{ name: 'qsmxt', run }`.
 *
 * `run` is a function-valued property (not a method) so that TypeScript checks its input
 * contravariantly: a stage that expects a different input is a compile error in `pipe`.
 */
export interface Stage<in In, out Out> {
  /** Unique within a pipeline; letters, digits, `.`, `_`, `-` (it names the stage's workDir). */
  readonly name: string
  /** Resource slots held while `run` executes; the runner queues the stage until they are free. */
  readonly resources?: ResourceRequest
  /** Retry policy for this stage (overrides the runner's default). */
  readonly retry?: RetryOptions
  /** Each attempt's time limit in ms; on expiry `ctx.signal` aborts and the attempt fails `STAGE_TIMEOUT`. */
  readonly timeoutMs?: number
  readonly run: (input: In, ctx: StageContext) => Promise<Out>
}

/** Any stage, whatever its types (`any` is the one type both variance positions accept). */
export type AnyStage = Stage<any, any>

/** The input type a stage accepts. */
export type StageInput<S> = S extends Stage<infer In, unknown> ? In : never
/** The output type a stage returns. */
export type StageOutput<S> = S extends Stage<never, infer Out> ? Out : never

/** What the runner hands a source when it opens it. */
export interface SourceContext {
  /** Aborted when the runner stops: end the iteration promptly (even while waiting for input). */
  readonly signal: AbortSignal
  readonly log: Logger
}

/**
 * One unit of work from a source. Its `id` must be stable across restarts: a delivery that
 * was not acknowledged is delivered again with the same id, and the runner matches it to its
 * job instead of starting a second one.
 */
export interface Delivery<out T> {
  readonly id: string
  readonly value: T
  /** Called once the whole pipeline finished for this delivery; the source may then let go of it. */
  ack(): Promise<void>
  /** Called when the job failed for good; the source keeps the input where a person can look. */
  reject(error: Error): Promise<void>
}

/**
 * Where jobs come from (a drop folder, a DICOM receiver). `open` yields deliveries until
 * its signal aborts; on restart it yields every unacknowledged delivery again.
 */
export interface Source<out Out> {
  readonly name: string
  readonly open: (ctx: SourceContext) => AsyncIterable<Delivery<Out>>
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Throws `INVALID_OPTIONS` unless `name` can name a stage (and so a folder). */
export function assertStageName(name: unknown, what = 'stage'): asserts name is string {
  if (typeof name !== 'string' || !namePattern.test(name)) {
    throw new PacsflowError(
      'INVALID_OPTIONS',
      `${what} name ${JSON.stringify(name)} is invalid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { details: { name } },
    )
  }
}

/**
 * Identity helper for writing a stage with full type inference (Hono's `createMiddleware`);
 * also checks the name and the declared resources at once.
 *
 * ```ts
 * const double = defineStage({ name: 'double', run: async (n: number) => n * 2 })
 * ```
 */
export function defineStage<In, Out>(stage: Stage<In, Out>): Stage<In, Out> {
  assertStageName(stage.name)
  if (typeof stage.run !== 'function') {
    throw new PacsflowError('INVALID_OPTIONS', `stage '${stage.name}' has no run function`)
  }
  for (const [resource, count] of Object.entries(stage.resources ?? {})) {
    if (!Number.isInteger(count) || count < 1) {
      throw new PacsflowError(
        'INVALID_OPTIONS',
        `stage '${stage.name}' asks for ${String(count)} '${resource}' slots: use a positive integer`,
      )
    }
  }
  if (stage.timeoutMs !== undefined && !(stage.timeoutMs > 0)) {
    throw new PacsflowError('INVALID_OPTIONS', `stage '${stage.name}' timeoutMs must be > 0`)
  }
  return stage
}

/** Identity helper for writing a source with full type inference. */
export function defineSource<Out>(source: Source<Out>): Source<Out> {
  assertStageName(source.name, 'source')
  return source
}

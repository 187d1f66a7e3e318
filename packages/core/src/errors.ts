// One error type for the whole SDK: a literal `code`, an ES2022 `cause`, and what the runner adds.

/**
 * Every error code pacsflow can raise, with what it means. Packages add their own codes by
 * declaration merging, so `PacsflowErrorCode` stays one literal union across the SDK:
 *
 * ```ts
 * declare module '@pacsflow/core' {
 *   interface PacsflowErrorCodes { NIFTI_INVALID: 'the file is not a readable NIfTI-1/2 image' }
 * }
 * ```
 */
export interface PacsflowErrorCodes {
  /** A factory or `createRunner` was given options it cannot work with. */
  INVALID_OPTIONS: 'options are invalid'
  /** A stage failed; `stageCode` keeps the stage's own code, `cause` the original error. */
  STAGE_FAILED: 'a stage failed'
  /** A stage ran past its `timeoutMs`; its signal was aborted. Retryable. */
  STAGE_TIMEOUT: 'a stage timed out'
  /** A stage returned a value that is not JSON-serialisable (invariant 2). */
  OUTPUT_NOT_SERIALIZABLE: 'a stage output cannot be checkpointed'
  /** Work stopped because its signal was aborted (runner stopped, caller cancelled). */
  ABORTED: 'aborted'
  /** One or more branches of a `fanOut` failed; `details.failures` names them. */
  FAN_OUT_FAILED: 'a fan-out branch failed'
  /** A job was resumed after a crash at the same stage more often than `maxResumes`. */
  JOB_CRASH_LOOP: 'a job keeps crashing the process'
  /** No job with that id is in the store. */
  JOB_NOT_FOUND: 'no such job'
  /** The job is not in a state that allows the operation (e.g. retrying a finished job). */
  JOB_STATE: 'the job is in the wrong state'
  /** A job record on disk cannot be read. */
  JOB_STORE_CORRUPT: 'a job record is unreadable'
  /** The runner is not in a state that allows the operation (e.g. `run` after `stop`). */
  RUNNER_STATE: 'the runner is in the wrong state'
  /** The source failed while yielding deliveries. */
  SOURCE_FAILED: 'the source failed'
  /** A thrown value that was not a `PacsflowError`. */
  UNKNOWN: 'an unexpected error'
}

/** The literal union of every error code (see {@link PacsflowErrorCodes}). */
export type PacsflowErrorCode = keyof PacsflowErrorCodes

export interface PacsflowErrorOptions {
  readonly cause?: unknown
  /** Whether trying the same work again may succeed (the runner retries only these). */
  readonly retryable?: boolean
  /** The stage the error belongs to. */
  readonly stage?: string
  /** The job the error belongs to. */
  readonly jobId?: string
  /** For `STAGE_FAILED`: the code the stage itself raised. */
  readonly stageCode?: PacsflowErrorCode
  /** Structured context for logs and for people (JSON-serialisable). */
  readonly details?: Readonly<Record<string, unknown>>
}

/** The JSON form of an error, as the job store keeps it and events carry it. */
export interface SerializedError {
  readonly name: string
  readonly code: PacsflowErrorCode
  readonly message: string
  readonly retryable: boolean
  readonly stage?: string
  readonly jobId?: string
  readonly stageCode?: PacsflowErrorCode
  readonly details?: Readonly<Record<string, unknown>>
  readonly stack?: string
  readonly cause?: SerializedError
}

/** The one error class of pacsflow. Test with `isPacsflowError(e, 'CODE')`. */
export class PacsflowError extends Error {
  override readonly name: string = 'PacsflowError'
  readonly code: PacsflowErrorCode
  readonly retryable: boolean
  readonly stage: string | undefined
  readonly jobId: string | undefined
  readonly stageCode: PacsflowErrorCode | undefined
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: PacsflowErrorCode, message: string, options: PacsflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryable = options.retryable ?? false
    this.stage = options.stage
    this.jobId = options.jobId
    this.stageCode = options.stageCode
    this.details = options.details
  }

  toJSON(): SerializedError {
    return serializeError(this)
  }
}

/** True when `value` is a `PacsflowError`, optionally with the given code. */
export function isPacsflowError(value: unknown, code?: PacsflowErrorCode): value is PacsflowError {
  return value instanceof PacsflowError && (code === undefined || value.code === code)
}

/** True for the errors an `AbortSignal` produces (`AbortError`, `TimeoutError`) and `ABORTED`. */
export function isAbortError(value: unknown): boolean {
  if (isPacsflowError(value, 'ABORTED')) return true
  return value instanceof Error && (value.name === 'AbortError' || value.name === 'TimeoutError')
}

/**
 * Any thrown value as a `PacsflowError`: a `PacsflowError` is returned as is, an abort
 * becomes `ABORTED`, anything else `UNKNOWN` with the original as `cause` (tRPC's
 * `getTRPCErrorFromUnknown`).
 */
export function toPacsflowError(value: unknown): PacsflowError {
  if (value instanceof PacsflowError) return value
  if (isAbortError(value)) {
    return new PacsflowError('ABORTED', messageOf(value), { cause: value })
  }
  return new PacsflowError('UNKNOWN', messageOf(value), { cause: value })
}

/** An error (of any kind) as JSON, causes included, for the job store and events. */
export function serializeError(value: unknown, depth = 0): SerializedError {
  const error = toPacsflowError(value)
  const original = value instanceof Error ? value : error
  const cause = error === value ? error.cause : value instanceof Error ? value.cause : undefined
  return {
    name: original.name,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.stage === undefined ? {} : { stage: error.stage }),
    ...(error.jobId === undefined ? {} : { jobId: error.jobId }),
    ...(error.stageCode === undefined ? {} : { stageCode: error.stageCode }),
    ...(error.details === undefined ? {} : { details: error.details }),
    ...(original.stack === undefined ? {} : { stack: original.stack }),
    ...(cause === undefined || depth >= 8 ? {} : { cause: serializeError(cause, depth + 1) }),
  }
}

/** A stored error back as a `PacsflowError` (the stack is the original one). */
export function deserializeError(data: SerializedError): PacsflowError {
  const error = new PacsflowError(data.code, data.message, {
    retryable: data.retryable,
    ...(data.stage === undefined ? {} : { stage: data.stage }),
    ...(data.jobId === undefined ? {} : { jobId: data.jobId }),
    ...(data.stageCode === undefined ? {} : { stageCode: data.stageCode }),
    ...(data.details === undefined ? {} : { details: data.details }),
    ...(data.cause === undefined ? {} : { cause: deserializeError(data.cause) }),
  })
  if (data.stack !== undefined) error.stack = data.stack
  return error
}

function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

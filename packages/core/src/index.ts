// @pacsflow/core: contracts, typed composition, the durable runner, job stores, events, logging and errors.
export {
  assertStageName,
  defineSource,
  defineStage,
  type AnyStage,
  type Delivery,
  type ResourceRequest,
  type RetryOptions,
  type Source,
  type SourceContext,
  type Stage,
  type StageContext,
  type StageInput,
  type StageOutput,
} from './stage.js'
export { nodeCrypto, nodeZlib } from './builtins.js'
export { pipeline, type Pipeline, type PipelineInput, type PipelineOutput } from './pipeline.js'
export { fanOut, type FanOutInput, type FanOutOptions, type FanOutOutput } from './fan-out.js'
export { createRunner, jobIdFor, type RunOptions, type Runner, type RunnerOptions } from './runner.js'
export type { StageOverrides } from './job-execution.js'
export {
  MAX_RECORDED_ERRORS,
  memoryJobStore,
  type AttemptError,
  type Checkpoint,
  type JobFilter,
  type JobRecord,
  type JobStatus,
  type JobStore,
  type MemoryJobStoreOptions,
} from './job-store.js'
export { fileJobStore, type FileJobStoreOptions } from './file-job-store.js'
export {
  EventHub,
  type EventInit,
  type EventOf,
  type EventStreamOptions,
  type JobDoneEvent,
  type JobFailedEvent,
  type JobQueuedEvent,
  type JobResumedEvent,
  type RunnerEvent,
  type RunnerEventType,
  type SourceErrorEvent,
  type StageEndEvent,
  type StageProgressEvent,
  type StageStartEvent,
} from './events.js'
export {
  deserializeError,
  isAbortError,
  isPacsflowError,
  PacsflowError,
  serializeError,
  toPacsflowError,
  type PacsflowErrorCode,
  type PacsflowErrorCodes,
  type PacsflowErrorOptions,
  type SerializedError,
} from './errors.js'
export { jsonLogger, silentLogger, type JsonLoggerOptions, type LogFn, type Logger, type LogLevel } from './logger.js'
export { fsyncDescriptor, fsyncDir, fsyncFile, fsyncPlacement, TEMP_SUFFIX, writeFileAtomic, type AtomicWriteOptions, type FsyncOptions } from './atomic-write.js'
export { sameFileContent } from './file-compare.js'
export { ResourcePool, type Lease } from './resource-pool.js'
export { backoffDelay, defaultRetry, resolveRetry, sleep, type ResolvedRetry } from './retry.js'

// @pacsflow/spool: the durable spool both input stages share, study completion, and the Source of complete studies.
export type { SpoolErrorCode } from './errors.js'
export { closeSpool, createSpool } from './spool.js'
export { spoolSource } from './source.js'
export {
  CompletionTracker,
  completionTime,
  resolveCompletion,
  DEFAULT_EARLY_GRACE_MS,
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_QUIET_PERIOD_MS,
  type CompletionReason,
  type ResolvedCompletion,
  type SeriesProgress,
  type StudyProgress,
} from './completion.js'
export { Folder, generationName, parseGenerationName } from './layout.js'
export { readSeal, SEAL_BYTES, writeSeal } from './seal.js'
export type { QuarantineRecord } from './quarantine.js'
export type { StudyState } from './study-state.js'
export type {
  CommitOptions,
  CommitResult,
  CommitStatus,
  CompletionOptions,
  LatePolicy,
  Provenance,
  Retention,
  Spool,
  SpoolOptions,
  SpoolSource,
  SpoolSourceOptions,
} from './types.js'
export { version } from './version.js'

// The error codes of @pacsflow/spool, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** Reading or writing the spool failed (disk full, I/O error, permissions): nothing was stored. Retryable. */
    SPOOL_IO: 'the spool could not be written'
    /** A file changed while `ingestFile` copied it (still being written): nothing was stored; try again once it is stable. */
    SPOOL_SOURCE_CHANGED: 'the file changed while it was copied'
    /** Instances arrived for a study already handed on, under `latePolicy: 'error'`; they were moved to `failed/`. */
    SPOOL_LATE_INSTANCES: 'instances arrived after their study was handed on'
    /** A study's files could not form a study (none readable): it was moved to `failed/` without a job. */
    SPOOL_STUDY_UNREADABLE: 'no instance of the study could be read'
    /** Another source is already reading this spool folder in this process. */
    SPOOL_BUSY: 'the spool is already being read by another source'
  }
}

/** Every code this package raises. */
export type SpoolErrorCode = Extract<PacsflowErrorCode, `SPOOL_${string}`>

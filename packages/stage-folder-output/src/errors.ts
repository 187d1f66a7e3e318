// The error codes of @pacsflow/stage-folder-output, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** A different file already has an output's name, and `overwrite` is off: it was left as it was. */
    FOLDER_OUTPUT_EXISTS: 'a different file is already in the output folder'
    /** Copying into the output folder failed (full, read-only, removed). Retryable. */
    FOLDER_OUTPUT_WRITE_FAILED: 'the output folder could not be written'
  }
}

/** Every code this package raises. */
export type FolderOutputErrorCode = Extract<PacsflowErrorCode, `FOLDER_OUTPUT_${string}`>

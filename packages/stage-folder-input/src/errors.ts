// The error codes of @pacsflow/stage-folder-input, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** The watched folder is missing or unreadable (a share not mounted, a stick pulled out). The runner reopens the source with backoff. */
    FOLDER_INPUT_UNAVAILABLE: 'the watched folder cannot be read'
  }
}

/** Every code this package raises. */
export type FolderInputErrorCode = Extract<PacsflowErrorCode, `FOLDER_INPUT_${string}`>

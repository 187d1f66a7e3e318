// The error codes of @pacsflow/stage-qsmxt, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** A tool, its container runtime (apptainer, docker) or its image is not installed or not found. */
    QSMXT_TOOL_MISSING: 'an external tool is not installed'
    /** A tool's version cannot be told from its output, or the version is one this stage does not drive. */
    QSMXT_TOOL_VERSION: 'an external tool has an unsupported version'
    /** A tool exited with a non-zero status or was killed; `details.logTail` holds the end of its output. */
    QSMXT_TOOL_FAILED: 'an external tool failed'
    /** A tool exited 0 but did not write what its documentation says it writes (or wrote it unreadable). */
    QSMXT_TOOL_OUTPUT: 'an external tool wrote no usable output'
    /** A registration transform file (ITK .mat, elastix TransformParameters) cannot be read. */
    QSMXT_TRANSFORM: 'a registration transform cannot be read'
  }
}

/** Every code this package raises (besides INVALID_OPTIONS, ABORTED and imaging's QSM_INPUT). */
export type QsmxtErrorCode = Extract<PacsflowErrorCode, `QSMXT_${string}`>

// The error codes of @pacsflow/stage-dicomise, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** The input NIfTI cannot be encoded: not 3D, no finite value, or a sheared grid DICOM cannot describe. */
    DICOMISE_INPUT: 'the input volume cannot be encoded as DICOM'
    /** The reference series lacks what the encoding needs (a volume, a frame of reference, a readable file). */
    DICOMISE_REFERENCE: 'the reference series cannot be used'
    /** A fixed RescaleSlope/Intercept cannot hold the data's range without clamping. */
    DICOMISE_RANGE: 'the values do not fit the stored pixel range'
    /** The result breaks a rule of the chosen profile (e.g. too many slices for Brainlab). */
    DICOMISE_PROFILE: 'the result breaks a rule of the target profile'
  }
}

/** Every code this package raises (besides core's INVALID_OPTIONS and ABORTED). */
export type DicomiseErrorCode = Extract<PacsflowErrorCode, `DICOMISE_${string}`>

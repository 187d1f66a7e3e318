// The error codes of @pacsflow/imaging, merged into the SDK's one PacsflowErrorCode union.
import type { PacsflowErrorCode } from '@pacsflow/core'
declare module '@pacsflow/core' {
  interface PacsflowErrorCodes {
    /** The file is not DICOM Part 10 (no `DICM` at byte 128, or unparsable). */
    DICOM_INVALID: 'the file is not readable DICOM'
    /** The file ends before the data its header announces (e.g. pixel data cut short). */
    DICOM_TRUNCATED: 'the DICOM file is truncated'
    /** An image was expected but the file has no pixel data. */
    DICOM_NO_PIXEL_DATA: 'the DICOM file has no pixel data'
    /** A transfer syntax that no installed codec decodes. */
    DICOM_UNSUPPORTED_TRANSFER_SYNTAX: 'the transfer syntax cannot be decoded'
    /** A codec failed on the pixel data. */
    DICOM_DECODE_FAILED: 'the pixel data could not be decoded'
    /** A UID that is not a valid DICOM UID (PS3.5 9.1), e.g. `../x`: never used as a path. */
    UID_INVALID: 'a UID is not a valid DICOM UID'
    /** The file is not a readable NIfTI-1/2 image. */
    NIFTI_INVALID: 'the file is not a readable NIfTI image'
    /** A NIfTI feature or datatype this package does not handle. */
    NIFTI_UNSUPPORTED: 'the NIfTI image uses an unsupported feature'
    /** The slices of a volume disagree (matrix size, orientation, pixel spacing, type). */
    SERIES_INCONSISTENT: 'the slices of a series disagree'
    /** A slice is missing from a volume (a gap in positions or an incomplete echo). */
    SLICE_MISSING: 'a slice is missing'
    /** Slice positions are not evenly spaced. */
    SLICE_SPACING_UNEVEN: 'the slice spacing is uneven'
    /** The slices are sheared (CT gantry tilt): not a rectilinear volume. */
    GANTRY_TILT: 'the volume has gantry tilt'
    /** More than one series fits a selection role. */
    SELECTION_AMBIGUOUS: 'several series fit a role'
    /** No series fits a required selection role. */
    SELECTION_MISSING: 'no series fits a role'
    /** A QSM stage's input is neither DICOM echoes nor NIfTI echoes, or its echoes disagree. */
    QSM_INPUT: 'the QSM input is not usable'
    /** A QSM result has no DICOM series to encode onto (NIfTI input without a DICOM target). */
    QSM_NO_TARGET: 'the QSM result has no DICOM target series'
    /** The FFT worker threads did not start, or one failed or stalled during a pass (the FFTs fall back to one thread). */
    FFT_THREADS: 'the FFT worker threads failed'
  }
}

/** Every code this package raises. */
export type ImagingErrorCode = Extract<PacsflowErrorCode, `DICOM_${string}` | `NIFTI_${string}` | `SLICE_${string}` | `SELECTION_${string}` | `QSM_${string}` | "UID_INVALID" | "SERIES_INCONSISTENT" | "GANTRY_TILT" | "FFT_THREADS">

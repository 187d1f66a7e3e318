// @pacsflow/stage-dicomise: NIfTI results -> a derived DICOM series that PACS and surgical navigation accept.
export type { DicomiseErrorCode } from './errors.js'
export { niftiToDicom, encodeSeries, type EncodeTiming, type EncodingReport, type NiftiToDicomRequest, type NiftiToDicomResult } from './nifti-to-dicom.js'
export { resolveOptions, type DicomiseOptions, type EncodingOptions, type ResolvedOptions } from './options.js'
export { quantities, type Quantity, type QuantityName, type Window } from './quantities.js'
export { profiles, type Profile, type ProfileEffects, type ProfileName, type ProfileRule } from './profiles.js'
export { derivedUid } from './uids.js'
export { version } from './version.js'
export { dicomise, type DicomiseInput, type DicomiseOutput, type DicomiseStageOptions } from './stage.js'

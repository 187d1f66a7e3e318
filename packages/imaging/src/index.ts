// @pacsflow/imaging: the medical data model of pacsflow (DICOM index, grouping, selection, NIfTI, geometry, conversion).

export type { ImagingErrorCode } from './errors.js'
export type { ComplexComponent, DicomFrame, DicomInstance, Orientation, Vec3 } from './dicom/types.js'
export {
  concatBytes,
  elementHeader,
  encodeElement,
  encodeFileMeta,
  fileMetaLength,
  writeFileMeta,
  formatDs,
  formatIs,
  isLongVr,
  textValue,
  type FileMetaFields,
  indexDicom,
  isDecodableSyntax,
  derivedUid,
  isValidUid,
  naturalize,
  rawElement,
  rawValue,
  readAllFrames,
  readDicomDataset,
  readDicomHeader,
  readDicomIdentity,
  type DicomHead,
  type DicomIdentity,
  type ReadDicomHeaderOptions,
  readFramePixels,
  readPart10,
  tagKey,
  TransferSyntax,
  writePart10,
  type DicomIndex,
  type IndexDicomOptions,
  type IndexProblem,
  type Part10Dataset,
  type PixelArray,
  type RawDict,
  type RawElement,
} from './dicom/index.js'
export type { DicomSeries, DicomStudy, DicomVolume, Plane, SliceRef } from './series/types.js'
export { groupSeries, groupStudies, groupStudy } from './series/group.js'
export { buildVolumes, type VolumeTolerances } from './series/volumes.js'
export {
  qsmRoles,
  selectSeries,
  type Candidate,
  type RoleCriteria,
  type SelectedSeries,
  type Selection,
  type SelectionRoles,
  type TextPattern,
  type TieBreak,
} from './selection/select.js'
export { selectStage, type SelectStageOptions } from './selection/stage.js'
export {
  affineFromColumns,
  apply,
  determinant3,
  identity4,
  invertAffine,
  lpsToRas,
  multiply,
  nearlyEqual,
  voxelSizes,
  type Mat4,
} from './geometry/matrix.js'
export { canonicalReorientation, reorientData, type Reorientation } from './geometry/reorient.js'
export { niftiLayout, type NiftiLayout, type NiftiLayoutOptions } from './geometry/nifti-layout.js'
export { resampleGrid, resampleToGrid, type Grid, type Interpolation, type ResampleOptions } from './resample/index.js'
export { loadVolume, philipsPrecise, volumeScaling, type LoadVolumeOptions, type VolumeData, type VoxelArray } from './convert/load-volume.js'
export { toNifti, volumeToNifti, type NiftiOutput, type ToNiftiOptions } from './convert/to-nifti.js'
export { phaseRadiansScaling, phaseToRadians, type RadiansScaling } from './convert/phase.js'
export { bidsSidecar, type Sidecar } from './convert/sidecar.js'
export {
  affineToQuaternion,
  encodeNifti1,
  quaternionToAffine,
  readNifti,
  readNiftiHeader,
  scaledData,
  writeNifti,
  type NiftiWriteOptions,
  type NiftiData,
  type NiftiDatatype,
  type NiftiHeader,
  type NiftiImage,
  type NiftiQuaternion,
  type NiftiSpaceUnits,
  type NiftiTimeUnits,
  type NiftiWriteInput,
} from './nifti/index.js'
export {
  isQsmDicomInput,
  qsmDicomiseInput,
  type QsmDicomInput,
  type QsmInput,
  type QsmNiftiEcho,
  type QsmNiftiInput,
  type QsmResult,
  type QsmTarget,
  type QsmTargets,
} from './qsm/contract.js'
export { accumulateFiltered, axpy2, checkVolume, cropVolume, defaultFftThreads, dipoleKernel, fastShape, fft1d, fft3d, fftArray, fftFrequencies, fftFrequency, fftThreadStats, fftThreads, filterSpectrum, halfShape, ifft3d, irfft3d, maskedDot, multiplyInPlace, nextFastSize, padVolume, rfft3d, sharedCopy, startFftThreads, stopFftThreads, weightedDivergence, xpby, type FftArray, type FftOptions, type HalfSpectrum, type Shape3, type SharedArray } from './fft/index.js'
export { encodePng, mosaic, type DisplayWindow, type Mosaic, type MosaicOptions, type PngImage } from './preview/index.js'
export { version } from './version.js'

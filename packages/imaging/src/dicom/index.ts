// The DICOM reading layer: header index, pixel data, raw datasets for pass-through, UID checks.
export { readDicomHeader, readDicomIdentity, type DicomHead, type DicomIdentity, type ReadDicomHeaderOptions } from './header.js'
export { indexDicom, type DicomIndex, type IndexDicomOptions, type IndexProblem } from './index-dicom.js'
export { readAllFrames, readFramePixels } from './pixels.js'
export type { PixelArray } from './stored-values.js'
export { readDicomDataset } from './dataset.js'
export {
  naturalize,
  rawElement,
  rawValue,
  readPart10,
  tagKey,
  writePart10,
  type Part10Dataset,
  type RawDict,
  type RawElement,
} from './dcmjs.js'
export { derivedUid, isValidUid } from './uid.js'
export { concatBytes, elementHeader, encodeElement, encodeFileMeta, fileMetaLength, formatDs, formatIs, isLongVr, textValue, writeFileMeta, type FileMetaFields } from './encode.js'
export { isDecodableSyntax } from './syntaxes.js'
export { TransferSyntax } from './tags.js'
export type { ComplexComponent, DicomFrame, DicomInstance, Orientation, Vec3 } from './types.js'

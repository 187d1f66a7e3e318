// readDicomHeader: one file's header as a DicomInstance (no pixel data read), with its frames and checks.
import { asDicomError, dicomError } from './fail.js'
import { readHeaderOf, type HeaderRead } from './file-reader.js'
import { classicFrames, enhancedFrames } from './frames.js'
import { isDecodableSyntax } from './syntaxes.js'
import { UNDEFINED_LENGTH, type Element } from './parser.js'
import { ENHANCED_MR_IMAGE_STORAGE, MEDIA_STORAGE_DIRECTORY_STORAGE, NATIVE_SYNTAXES, Tag, TransferSyntax } from './tags.js'
import type { DicomInstance } from './types.js'
import { isValidUid } from './uid.js'
import type { Reader } from './values.js'
import { philipsScaleOf } from './vendor.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Reads the header of one DICOM Part 10 file, without its pixel data.
 *
 * Throws a PacsflowError naming the file: DICOM_INVALID (not DICOM, unparsable, not an image
 * instance), DICOM_TRUNCATED (ends before its header or pixel data does), UID_INVALID (a
 * Study/Series/SOP Instance UID that is not a PS3.5 9.1 UID), DICOM_UNSUPPORTED_TRANSFER_SYNTAX
 * (pixel data in a transfer syntax no codec here decodes).
 */
export async function readDicomHeader(path: string): Promise<DicomInstance> {
  const header = await readHeaderOf(path)
  try {
    return instanceFromHeader(header)
  } catch (error) {
    // Sequences are parsed when first read, so a malformed one can surface only here.
    throw asDicomError(path, error)
  }
}

/** Builds and checks the instance of a parsed header. */
export function instanceFromHeader(header: HeaderRead): DicomInstance {
  const { reader, meta, parsed, path } = header
  const sopClassUid = reader.string(Tag.SOPClassUID) ?? meta.string(Tag.MediaStorageSOPClassUID) ?? ''
  if (sopClassUid === MEDIA_STORAGE_DIRECTORY_STORAGE) {
    throw dicomError('DICOM_INVALID', path, 'is a DICOMDIR (media directory), not an image instance')
  }
  const uids = {
    studyInstanceUid: reader.string(Tag.StudyInstanceUID) ?? '',
    seriesInstanceUid: reader.string(Tag.SeriesInstanceUID) ?? '',
    sopInstanceUid: reader.string(Tag.SOPInstanceUID) ?? meta.string(Tag.MediaStorageSOPInstanceUID) ?? '',
  }
  for (const [name, uid] of Object.entries(uids)) {
    if (!isValidUid(uid)) {
      throw dicomError('UID_INVALID', path, `${name} ${JSON.stringify(uid)} is not a valid DICOM UID (PS3.5 9.1)`, {
        details: { attribute: name, value: uid },
      })
    }
  }
  const image = imageAttributes(reader, parsed.pixelData !== undefined)
  const instance: Mutable<DicomInstance> = {
    path,
    sizeBytes: header.sizeBytes,
    transferSyntaxUid: parsed.transferSyntaxUid,
    sopClassUid,
    ...uids,
    imageType: reader.strings(Tag.ImageType),
    ...image,
    frames: sopClassUid === ENHANCED_MR_IMAGE_STORAGE || reader.has(Tag.PerFrameFunctionalGroupsSequence)
      ? enhancedFrames(reader, image.numberOfFrames)
      : classicFrames(reader, image.numberOfFrames),
  }
  Object.assign(instance, descriptive(reader))
  const philipsScale = philipsScaleOf(reader)
  if (philipsScale !== undefined) instance.philipsScale = philipsScale
  checkPixelData(header, instance)
  const pixelData = parsed.pixelData
  const deflated = parsed.transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian
  // Parse offsets are file offsets unless the dataset was deflated.
  if (pixelData !== undefined && !deflated && NATIVE_SYNTAXES.has(parsed.transferSyntaxUid) && pixelData.length !== UNDEFINED_LENGTH) {
    instance.nativePixelData = { offset: pixelData.offset, vr: pixelData.vr, float: pixelData.tag === Tag.FloatPixelData }
  }
  return instance
}

type ImageAttributes = Pick<DicomInstance, 'rows' | 'columns' | 'bitsAllocated' | 'bitsStored' | 'highBit' | 'pixelRepresentation'
  | 'samplesPerPixel' | 'photometricInterpretation' | 'numberOfFrames' | 'hasPixelData'>

function imageAttributes(reader: Reader, hasPixelData: boolean): ImageAttributes {
  const bitsAllocated = reader.number(Tag.BitsAllocated, 'US') ?? 0
  const bitsStored = reader.number(Tag.BitsStored, 'US') ?? bitsAllocated
  return {
    rows: reader.number(Tag.Rows, 'US') ?? 0,
    columns: reader.number(Tag.Columns, 'US') ?? 0,
    bitsAllocated,
    bitsStored,
    highBit: reader.number(Tag.HighBit, 'US') ?? Math.max(bitsStored - 1, 0),
    pixelRepresentation: reader.number(Tag.PixelRepresentation, 'US') === 1 ? 1 : 0,
    samplesPerPixel: reader.number(Tag.SamplesPerPixel, 'US') ?? 1,
    photometricInterpretation: reader.string(Tag.PhotometricInterpretation) ?? '',
    numberOfFrames: Math.max(1, Math.trunc(reader.number(Tag.NumberOfFrames) ?? 1)),
    hasPixelData,
  }
}

/** Patient, study, series and acquisition attributes: only those the file has. */
function descriptive(reader: Reader): Partial<Mutable<DicomInstance>> {
  const out: Partial<Mutable<DicomInstance>> = {}
  const text: [keyof DicomInstance, number][] = [
    ['patientId', Tag.PatientID], ['patientName', Tag.PatientName], ['patientBirthDate', Tag.PatientBirthDate],
    ['patientSex', Tag.PatientSex], ['studyDate', Tag.StudyDate], ['studyTime', Tag.StudyTime],
    ['studyDescription', Tag.StudyDescription], ['accessionNumber', Tag.AccessionNumber],
    ['seriesDescription', Tag.SeriesDescription], ['protocolName', Tag.ProtocolName], ['modality', Tag.Modality],
    ['frameOfReferenceUid', Tag.FrameOfReferenceUID], ['manufacturer', Tag.Manufacturer],
    ['manufacturerModelName', Tag.ManufacturerModelName], ['softwareVersions', Tag.SoftwareVersions],
    ['mrAcquisitionType', Tag.MRAcquisitionType],
  ]
  for (const [key, tag] of text) setIfDefined(out, key, reader.string(tag))
  const numeric: [keyof DicomInstance, number][] = [
    ['seriesNumber', Tag.SeriesNumber], ['magneticFieldStrength', Tag.MagneticFieldStrength],
    ['imagingFrequency', Tag.ImagingFrequency], ['repetitionTime', Tag.RepetitionTime], ['flipAngle', Tag.FlipAngle],
    ['gantryTilt', Tag.GantryDetectorTilt], ['instanceNumber', Tag.InstanceNumber], ['acquisitionNumber', Tag.AcquisitionNumber],
  ]
  for (const [key, tag] of numeric) setIfDefined(out, key, reader.number(tag))
  setIfDefined(out, 'sequenceName', reader.string(Tag.SequenceName) ?? reader.string(Tag.PulseSequenceName))
  // Enhanced files keep the acquisition time in AcquisitionDateTime (YYYYMMDDHHMMSS.FFFFFF).
  setIfDefined(out, 'acquisitionTime', reader.string(Tag.AcquisitionTime) ?? (reader.string(Tag.AcquisitionDateTime)?.slice(8) || undefined))
  const scanning = reader.strings(Tag.ScanningSequence).filter((value) => value !== '')
  if (scanning.length > 0) out.scanningSequence = scanning
  // Enhanced MR keeps TR and flip angle in the MR Timing and Related Parameters functional group.
  const timing = reader.firstItem(Tag.SharedFunctionalGroupsSequence)?.firstItem(Tag.MRTimingAndRelatedParametersSequence)
  if (out.repetitionTime === undefined) setIfDefined(out, 'repetitionTime', timing?.number(Tag.RepetitionTime, 'FD'))
  if (out.flipAngle === undefined) setIfDefined(out, 'flipAngle', timing?.number(Tag.FlipAngle, 'FD'))
  return out
}

function setIfDefined<K extends keyof DicomInstance>(target: Partial<Mutable<DicomInstance>>, key: K, value: unknown): void {
  if (value !== undefined) (target as Record<string, unknown>)[key] = value
}

/** The bytes one frame of native pixel data takes (PS3.5 8.1.1; 1-bit frames pack bits across frames). */
export function nativeFrameBits(instance: DicomInstance): number {
  return instance.rows * instance.columns * instance.samplesPerPixel * instance.bitsAllocated
}

/** Refuses undecodable syntaxes and native pixel data shorter than its header announces. */
function checkPixelData(header: HeaderRead, instance: DicomInstance): void {
  const pixelData: Element | undefined = header.parsed.pixelData
  if (pixelData === undefined) return
  const syntax = instance.transferSyntaxUid
  if (!isDecodableSyntax(syntax)) {
    throw dicomError('DICOM_UNSUPPORTED_TRANSFER_SYNTAX', header.path, `transfer syntax ${syntax} cannot be decoded here`, {
      details: { transferSyntaxUid: syntax },
    })
  }
  if (instance.rows === 0 || instance.columns === 0 || instance.bitsAllocated === 0) {
    throw dicomError('DICOM_INVALID', header.path, 'has pixel data but no Rows, Columns or BitsAllocated')
  }
  if (!NATIVE_SYNTAXES.has(syntax) || pixelData.length === UNDEFINED_LENGTH) return
  const expected = Math.ceil((nativeFrameBits(instance) * instance.numberOfFrames) / 8)
  const available = pixelData.ctx.total - pixelData.offset
  if (available < expected) {
    throw dicomError('DICOM_TRUNCATED', header.path,
      `pixel data needs ${expected} bytes (${instance.rows}x${instance.columns}x${instance.numberOfFrames} frames, ` +
      `${instance.bitsAllocated} bits) but only ${available} remain in the file`,
      { details: { expectedBytes: expected, availableBytes: available } })
  }
  if (pixelData.length < expected) {
    throw dicomError('DICOM_INVALID', header.path, `pixel data holds ${pixelData.length} bytes but its attributes need ${expected}`)
  }
}

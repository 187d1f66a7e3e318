// readDicomHeader: one file's header as a DicomInstance (no pixel data read), with its frames and checks.
import { asDicomError, dicomError } from './fail.js'
import { FileReads, headerFromHead, readHeaderOf, type DicomHead, type HeaderRead, type ReadOptions } from './file-reader.js'
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
export async function readDicomHeader(path: string, options: ReadDicomHeaderOptions = {}): Promise<DicomInstance> {
  const header = options.head === undefined ? undefined : headerFromHead(path, options.head)
  if (header !== undefined) return checkedInstance(header)
  return readInstance(path, options.direct === true ? { reads: new FileReads(true) } : undefined)
}

export type { DicomHead }

export interface ReadDicomHeaderOptions {
  /**
   * Open and read with synchronous calls rather than through libuv's thread pool (default false):
   * faster for a file just written, which is in the page cache (a spool commit); it blocks the
   * event loop while the disk answers, so leave it off for files on a slow or network disk.
   */
  readonly direct?: boolean
  /**
   * The file's first bytes and its size, when the caller has them in memory because it has just
   * written them (a DICOM receiver): the header is parsed from them, without reading the file,
   * whenever they reach its pixel data (the file is read as usual when they do not). They must be
   * the file's own bytes: nothing here checks them against the disk.
   */
  readonly head?: DicomHead
}

/** readDicomHeader as an index run reads it (see readHeaderOf): the instance keeps nothing of `options.reuse`. */
export async function readInstance(path: string, options?: ReadOptions): Promise<DicomInstance> {
  return checkedInstance(await readHeaderOf(path, options))
}

/** instanceFromHeader, its errors named after the file. */
function checkedInstance(header: HeaderRead): DicomInstance {
  try {
    return instanceFromHeader(header)
  } catch (error) {
    // Sequences are parsed when first read, so a malformed one can surface only here.
    throw asDicomError(header.path, error)
  }
}

/** Who a DICOM instance is: what a store files it by. */
export interface DicomIdentity {
  readonly transferSyntaxUid: string
  readonly sopClassUid: string
  readonly studyInstanceUid: string
  readonly seriesInstanceUid: string
  readonly sopInstanceUid: string
}

/**
 * The identity of one DICOM Part 10 file, refusing exactly what {@link readDicomHeader} refuses
 * (the same errors and codes) without building the rest of the instance: for a single-frame
 * object without functional groups, no frame geometry and no descriptive attributes are read,
 * since nothing there can fail. Objects with functional groups get the whole check (their
 * sequences are parsed, and can be malformed). A DICOM receiver calls it on every object before
 * it answers the sender (measured: about a third of readDicomHeader's time on a 256x256 MR image).
 */
export async function readDicomIdentity(path: string, options: ReadDicomHeaderOptions = {}): Promise<DicomIdentity> {
  const header = (options.head === undefined ? undefined : headerFromHead(path, options.head))
    ?? (await readHeaderOf(path, options.direct === true ? { reads: new FileReads(true) } : undefined))
  try {
    return identityFromHeader(header)
  } catch (error) {
    throw asDicomError(header.path, error)
  }
}

function identityFromHeader(header: HeaderRead): DicomIdentity {
  const { reader } = header
  const identity = checkedIdentity(header)
  // The sequences instanceFromHeader reads (functional groups, dimension index) are parsed when first read: only that finds a malformed one.
  if (identity.sopClassUid === ENHANCED_MR_IMAGE_STORAGE || reader.has(Tag.PerFrameFunctionalGroupsSequence) || reader.has(Tag.SharedFunctionalGroupsSequence)) {
    instanceFromHeader(header)
  } else {
    checkPixelData(header, { transferSyntaxUid: identity.transferSyntaxUid, ...imageAttributes(reader, header.parsed.pixelData !== undefined) })
  }
  return identity
}

/** The identity of a parsed header, its UIDs checked; a DICOMDIR refused. */
function checkedIdentity(header: HeaderRead): DicomIdentity {
  const { reader, meta, parsed, path } = header
  const sopClassUid = reader.string(Tag.SOPClassUID) ?? meta.string(Tag.MediaStorageSOPClassUID) ?? ''
  if (sopClassUid === MEDIA_STORAGE_DIRECTORY_STORAGE) {
    throw dicomError('DICOM_INVALID', path, 'is a DICOMDIR (media directory), not an image instance')
  }
  const studyInstanceUid = reader.string(Tag.StudyInstanceUID) ?? ''
  const seriesInstanceUid = reader.string(Tag.SeriesInstanceUID) ?? ''
  const sopInstanceUid = reader.string(Tag.SOPInstanceUID) ?? meta.string(Tag.MediaStorageSOPInstanceUID) ?? ''
  checkUid(path, 'studyInstanceUid', studyInstanceUid)
  checkUid(path, 'seriesInstanceUid', seriesInstanceUid)
  checkUid(path, 'sopInstanceUid', sopInstanceUid)
  return { transferSyntaxUid: parsed.transferSyntaxUid, sopClassUid, studyInstanceUid, seriesInstanceUid, sopInstanceUid }
}

/** Builds and checks the instance of a parsed header. */
export function instanceFromHeader(header: HeaderRead): DicomInstance {
  const { reader, parsed, path } = header
  const { sopClassUid, studyInstanceUid, seriesInstanceUid, sopInstanceUid } = checkedIdentity(header)
  const image = imageAttributes(reader, parsed.pixelData !== undefined)
  // One literal in the order the instance's JSON has always had (the spreads it replaces cost a cold process).
  const instance: Mutable<DicomInstance> = {
    path,
    sizeBytes: header.sizeBytes,
    transferSyntaxUid: parsed.transferSyntaxUid,
    sopClassUid,
    studyInstanceUid,
    seriesInstanceUid,
    sopInstanceUid,
    imageType: reader.strings(Tag.ImageType),
    rows: image.rows,
    columns: image.columns,
    bitsAllocated: image.bitsAllocated,
    bitsStored: image.bitsStored,
    highBit: image.highBit,
    pixelRepresentation: image.pixelRepresentation,
    samplesPerPixel: image.samplesPerPixel,
    photometricInterpretation: image.photometricInterpretation,
    numberOfFrames: image.numberOfFrames,
    hasPixelData: image.hasPixelData,
    frames: sopClassUid === ENHANCED_MR_IMAGE_STORAGE || reader.has(Tag.PerFrameFunctionalGroupsSequence)
      ? enhancedFrames(reader, image.numberOfFrames)
      : classicFrames(reader, image.numberOfFrames),
  }
  describe(reader, instance)
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

/** Refuses a Study/Series/SOP Instance UID that is not a PS3.5 9.1 UID (UIDs end up in paths and queries). */
function checkUid(path: string, name: string, uid: string): void {
  if (isValidUid(uid)) return
  throw dicomError('UID_INVALID', path, `${name} ${JSON.stringify(uid)} is not a valid DICOM UID (PS3.5 9.1)`, {
    details: { attribute: name, value: uid },
  })
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

/**
 * Sets the patient, study, series and acquisition attributes the file has, in this order (the JSON's
 * key order). Each is a named store: storing ~25 optional keys by a variable key would make V8 turn
 * every instance into a slow dictionary-mode object.
 */
function describe(reader: Reader, out: Mutable<DicomInstance>): void {
  let text: string | undefined
  if ((text = reader.string(Tag.PatientID)) !== undefined) out.patientId = text
  if ((text = reader.string(Tag.PatientName)) !== undefined) out.patientName = text
  if ((text = reader.string(Tag.PatientBirthDate)) !== undefined) out.patientBirthDate = text
  if ((text = reader.string(Tag.PatientSex)) !== undefined) out.patientSex = text
  if ((text = reader.string(Tag.StudyDate)) !== undefined) out.studyDate = text
  if ((text = reader.string(Tag.StudyTime)) !== undefined) out.studyTime = text
  if ((text = reader.string(Tag.StudyDescription)) !== undefined) out.studyDescription = text
  if ((text = reader.string(Tag.AccessionNumber)) !== undefined) out.accessionNumber = text
  if ((text = reader.string(Tag.SeriesDescription)) !== undefined) out.seriesDescription = text
  if ((text = reader.string(Tag.ProtocolName)) !== undefined) out.protocolName = text
  if ((text = reader.string(Tag.Modality)) !== undefined) out.modality = text
  if ((text = reader.string(Tag.FrameOfReferenceUID)) !== undefined) out.frameOfReferenceUid = text
  if ((text = reader.string(Tag.Manufacturer)) !== undefined) out.manufacturer = text
  if ((text = reader.string(Tag.ManufacturerModelName)) !== undefined) out.manufacturerModelName = text
  if ((text = reader.string(Tag.SoftwareVersions)) !== undefined) out.softwareVersions = text
  if ((text = reader.string(Tag.MRAcquisitionType)) !== undefined) out.mrAcquisitionType = text
  describeNumbers(reader, out)
  if ((text = reader.string(Tag.SequenceName) ?? reader.string(Tag.PulseSequenceName)) !== undefined) out.sequenceName = text
  // Enhanced files keep the acquisition time in AcquisitionDateTime (YYYYMMDDHHMMSS.FFFFFF).
  text = reader.string(Tag.AcquisitionTime) ?? (reader.string(Tag.AcquisitionDateTime)?.slice(8) || undefined)
  if (text !== undefined) out.acquisitionTime = text
  const scanning = reader.strings(Tag.ScanningSequence).filter((value) => value !== '')
  if (scanning.length > 0) out.scanningSequence = scanning
  // Enhanced MR keeps TR and flip angle in the MR Timing and Related Parameters functional group.
  const timing = reader.firstItem(Tag.SharedFunctionalGroupsSequence)?.firstItem(Tag.MRTimingAndRelatedParametersSequence)
  let number: number | undefined
  if (out.repetitionTime === undefined && (number = timing?.number(Tag.RepetitionTime, 'FD')) !== undefined) out.repetitionTime = number
  if (out.flipAngle === undefined && (number = timing?.number(Tag.FlipAngle, 'FD')) !== undefined) out.flipAngle = number
}

function describeNumbers(reader: Reader, out: Mutable<DicomInstance>): void {
  let number: number | undefined
  if ((number = reader.number(Tag.SeriesNumber)) !== undefined) out.seriesNumber = number
  if ((number = reader.number(Tag.MagneticFieldStrength)) !== undefined) out.magneticFieldStrength = number
  if ((number = reader.number(Tag.ImagingFrequency)) !== undefined) out.imagingFrequency = number
  if ((number = reader.number(Tag.RepetitionTime)) !== undefined) out.repetitionTime = number
  if ((number = reader.number(Tag.FlipAngle)) !== undefined) out.flipAngle = number
  if ((number = reader.number(Tag.GantryDetectorTilt)) !== undefined) out.gantryTilt = number
  if ((number = reader.number(Tag.InstanceNumber)) !== undefined) out.instanceNumber = number
  if ((number = reader.number(Tag.AcquisitionNumber)) !== undefined) out.acquisitionNumber = number
}

/** The bytes one frame of native pixel data takes (PS3.5 8.1.1; 1-bit frames pack bits across frames). */
export function nativeFrameBits(instance: Pick<DicomInstance, 'rows' | 'columns' | 'samplesPerPixel' | 'bitsAllocated'>): number {
  return instance.rows * instance.columns * instance.samplesPerPixel * instance.bitsAllocated
}

/** Refuses undecodable syntaxes and native pixel data shorter than its header announces. */
function checkPixelData(header: HeaderRead, instance: Pick<DicomInstance, 'transferSyntaxUid' | keyof ImageAttributes>): void {
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

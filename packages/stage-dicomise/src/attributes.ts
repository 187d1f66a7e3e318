// The attributes every slice of the output series shares, as a dcmjs dataset, each with the
// DICOM rule behind it (PS3.3 module and attribute type).
import { formatDs, type DicomSeries, type RawDict, type RawElement } from '@pacsflow/imaging'
import { orientationLetters, type OutputGrid } from './geometry.js'
import type { ResolvedOptions } from './options.js'
import type { Window } from './quantities.js'
import type { Rescale } from './rescale.js'

export const SOP_CLASS = {
  MR: '1.2.840.10008.5.1.4.1.1.4', // MR Image Storage
  CT: '1.2.840.10008.5.1.4.1.1.2', // CT Image Storage
  OT: '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture Image Storage
} as const

/** What the shared attributes are made of. */
export interface SeriesDescriptor {
  /** The reference file's dataset (patient, study and frame of reference are copied from it). */
  readonly referenceDict: RawDict
  readonly reference: DicomSeries
  readonly grid: OutputGrid
  readonly options: ResolvedOptions
  readonly rescale: Rescale
  readonly window: Window
  readonly seriesInstanceUid: string
  readonly frameOfReferenceUid: string
  readonly seriesNumber: number
  readonly seriesDescription: string
  readonly derivationDescription: string
  readonly sliceThickness: number
  readonly softwareVersions: readonly string[]
  readonly now: Date
}

const el = (vr: string, ...values: unknown[]): RawElement => ({ vr, Value: values })
const ds = (...values: number[]): RawElement => el('DS', ...values.map(formatDs))

// Patient (C.7.1.1) and General Study (C.7.2.1) attributes, copied from the reference so the
// series files into the same patient and study; type 2 ones are written empty when missing.
const PATIENT_STUDY: readonly (readonly [string, string, 'type2' | 'optional'])[] = [
  ['00080020', 'DA', 'type2'], // StudyDate
  ['00080030', 'TM', 'type2'], // StudyTime
  ['00080050', 'SH', 'type2'], // AccessionNumber
  ['00080090', 'PN', 'type2'], // ReferringPhysicianName
  ['00081030', 'LO', 'optional'], // StudyDescription
  ['00100010', 'PN', 'type2'], // PatientName
  ['00100020', 'LO', 'type2'], // PatientID
  ['00100021', 'LO', 'optional'], // IssuerOfPatientID
  ['00100030', 'DA', 'type2'], // PatientBirthDate
  ['00100040', 'CS', 'type2'], // PatientSex
  ['00101010', 'AS', 'optional'], // PatientAge (Patient Study C.7.2.2)
  ['00101020', 'DS', 'optional'], // PatientSize
  ['00101030', 'DS', 'optional'], // PatientWeight
  ['00120062', 'CS', 'optional'], // PatientIdentityRemoved: a de-identified reference stays declared so
  ['00120063', 'LO', 'optional'], // DeidentificationMethod
  ['0020000D', 'UI', 'type2'], // StudyInstanceUID (type 1; always present in an indexed reference)
  ['00200010', 'SH', 'type2'], // StudyID
  ['00185100', 'CS', 'optional'], // PatientPosition (General Series, 2C for MR and CT: copied when known)
  // Laterality (General Series, 2C): required for paired body parts without Image Laterality;
  // copied, or empty (unknown) since the encoder cannot tell the body part.
  ['00200060', 'CS', 'type2'],
  ['00201040', 'LO', 'type2'], // PositionReferenceIndicator (Frame of Reference C.7.4.1, type 2)
]

function copied(reference: RawDict): RawDict {
  const out: RawDict = {}
  for (const [key, vr, kind] of PATIENT_STUDY) {
    const element = reference[key]
    if (element !== undefined) out[key] = { vr: element.vr, Value: element.Value ?? [] }
    else if (kind === 'type2') out[key] = el(vr)
  }
  return out
}

const date = (d: Date): string => `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`
const time = (d: Date): string =>
  `${String(d.getHours()).padStart(2, '0')}${String(d.getMinutes()).padStart(2, '0')}${String(d.getSeconds()).padStart(2, '0')}.${String(d.getMilliseconds()).padStart(3, '0')}`

function rowColumnLetters(grid: OutputGrid): [string, string] {
  const [a, b, c, d, e, f] = grid.orientation
  return [orientationLetters([a, b, c]), orientationLetters([d, e, f])]
}

/** ImageType (C.7.6.1.1.2): DERIVED\SECONDARY, then the quantity (CT's value 3 is AXIAL, C.8.2.1.1.1). */
function imageType(options: ResolvedOptions): RawElement {
  return options.modality === 'CT' ? el('CS', 'DERIVED', 'SECONDARY', 'AXIAL', options.quantity.name) : el('CS', 'DERIVED', 'SECONDARY', options.quantity.name)
}

/** The modality-specific modules' mandatory attributes. */
function modalityModule(d: SeriesDescriptor): RawDict {
  const { options } = d
  if (options.modality === 'MR') {
    // MR Image (C.8.3.1): the values came from processing, not from one acquisition, so the
    // sequence is "research mode" with no variant (type 1); the type 2 acquisition timing is empty.
    const acquisition = d.referenceDict['00180023']?.Value ?? []
    return {
      '00180020': el('CS', 'RM'), // ScanningSequence
      '00180021': el('CS', 'NONE'), // SequenceVariant
      '00180022': el('CS'), // ScanOptions (2)
      // MRAcquisitionType (2) as the reference's: a 3D reference keeps dcm2niix's 3D layout on conversion back.
      '00180023': el('CS', ...acquisition),
      '00180080': el('DS'), // RepetitionTime (2C: required unless EP/SK sequences)
      '00180081': el('DS'), // EchoTime (2)
      '00180091': el('IS'), // EchoTrainLength (2)
      '00180088': ds(d.grid.sliceSpacing), // SpacingBetweenSlices (3)
    }
  }
  if (options.modality === 'CT') {
    return { '00180060': el('DS'), '00200012': el('IS') } // KVP (2), AcquisitionNumber (2) (CT Image C.8.2.1)
  }
  return { '00080064': el('CS', 'WSD') } // ConversionType (SC Equipment C.8.6.1): workstation
}

/** VOI LUT (C.11.2): window in rescaled units; LINEAR_EXACT when narrower than 1 (the LINEAR function needs >= 1). */
function windowModule(window: Window, quantityName: string, units: string | undefined): RawDict {
  return {
    '00281050': ds(window.center),
    '00281051': ds(window.width),
    '00281055': el('LO', `${quantityName} ${formatDs(window.center - window.width / 2)} to ${formatDs(window.center + window.width / 2)}${units === undefined ? '' : ` ${units}`}`),
    ...(window.width < 1 ? { '00281056': el('CS', 'LINEAR_EXACT') } : {}),
  }
}

/** Every attribute all slices share. Per-slice ones (UIDs, position, references, pixels) are added by the writer. */
export function sharedAttributes(d: SeriesDescriptor): RawDict {
  const { options, grid, rescale } = d
  const comments = [options.notForDiagnosticUse ? 'NOT FOR DIAGNOSTIC USE' : undefined, options.imageComments].filter((c) => c !== undefined)
  const strings = [d.seriesDescription, d.derivationDescription, ...comments]
  const utf8 = d.referenceDict['00080005'] !== undefined || strings.some((s) => /[^\x20-\x7e\r\n]/.test(s))
  return {
    ...copied(d.referenceDict),
    ...modalityModule(d),
    // SOP Common (C.12.1): dcmjs writes UTF-8 whatever the source said, hence ISO_IR 192 whenever text may need it.
    ...(utf8 ? { '00080005': el('CS', 'ISO_IR 192') } : {}),
    '00080008': imageType(options),
    '00080012': el('DA', date(d.now)), // InstanceCreationDate (3)
    '00080013': el('TM', time(d.now)),
    '00080016': el('UI', SOP_CLASS[options.modality]),
    '00080021': el('DA', date(d.now)), // SeriesDate (3)
    '00080031': el('TM', time(d.now)),
    '00080023': el('DA', date(d.now)), // ContentDate (General Image, 2C)
    '00080033': el('TM', time(d.now)),
    '00080060': el('CS', options.modality), // Modality (General Series, 1)
    '00080070': el('LO', 'pacsflow'), // Manufacturer (General Equipment C.7.5.1, 2)
    '00081090': el('LO', '@pacsflow/stage-dicomise'), // ManufacturerModelName (3)
    '00181020': el('LO', ...d.softwareVersions), // SoftwareVersions (3)
    '0008103E': el('LO', d.seriesDescription), // SeriesDescription (3)
    '00082111': el('ST', d.derivationDescription), // DerivationDescription (General Image, 3)
    '00180050': ds(d.sliceThickness), // SliceThickness (Image Plane C.7.6.2, 2)
    '0020000E': el('UI', d.seriesInstanceUid), // SeriesInstanceUID (1)
    '00200011': el('IS', String(d.seriesNumber)), // SeriesNumber (2)
    // PatientOrientation (General Image, 2C; may be present with IOP): row, then column direction letters.
    '00200020': el('CS', ...rowColumnLetters(grid)),
    '00200037': ds(...grid.orientation), // ImageOrientationPatient (1)
    '00200052': el('UI', d.frameOfReferenceUid), // FrameOfReferenceUID (1): the reference's, so the series overlays it
    ...(comments.length > 0 ? { '00204000': el('LT', comments.join('\r\n')) } : {}), // ImageComments (3)
    // Image Pixel (C.7.6.3): 16-bit grey, signed or not.
    '00280002': el('US', 1),
    '00280004': el('CS', 'MONOCHROME2'),
    '00280010': el('US', grid.rows),
    '00280011': el('US', grid.columns),
    '00280030': ds(...grid.pixelSpacing), // PixelSpacing: between rows, between columns (1)
    '00280100': el('US', 16),
    '00280101': el('US', 16),
    '00280102': el('US', 15),
    '00280103': el('US', rescale.pixel === 'signed' ? 1 : 0),
    '00280301': el('CS', 'NO'), // BurnedInAnnotation (General Image, 3)
    '00282110': el('CS', '00'), // LossyImageCompression (3): never lossy
    // Modality LUT (C.11.1; part of CT Image, an extension in MR and SC): real value = stored * slope + intercept.
    '00281052': ds(rescale.intercept),
    '00281053': ds(rescale.slope),
    '00281054': el('LO', options.quantity.rescaleType ?? 'US'),
    ...windowModule(d.window, options.quantity.name, options.quantity.units),
  }
}

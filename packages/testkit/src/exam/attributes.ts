// The attributes of the exam's series as a Siemens scanner writes them (MR Image IOD, PS3.3 A.4),
// each with its module; geometry and per-file attributes are added by the series writer.
import { decimal, integer, text, ushort, type Element } from './dicom-elements.js'
import type { ResolvedExam } from './options.js'
import { GAMMA_MHZ_PER_T } from './simulate.js'

/** What identifies the exam: the same seed and parameters give the same values. */
export interface ExamIdentity {
  readonly studyInstanceUid: string
  readonly frameOfReferenceUid: string
  readonly patientId: string
  readonly accessionNumber: string
}

export const PATIENT_NAME = 'PHANTOM^QSM'
export const STUDY_DATE = '20240115'
const STUDY_TIME = '101500'
export const SOFTWARE_VERSION = 'syngo MR E11'

/** Patient (C.7.1.1), General Study (C.7.2.1), Patient Study, Frame of Reference, General Equipment: shared by every series. */
function studyElements(id: ExamIdentity): Element[] {
  return [
    text(0x00080005, 'CS', 'ISO_IR 100'), // SpecificCharacterSet
    text(0x00080020, 'DA', STUDY_DATE),
    text(0x00080030, 'TM', STUDY_TIME),
    text(0x00080050, 'SH', id.accessionNumber),
    text(0x00080060, 'CS', 'MR'),
    text(0x00080070, 'LO', 'SIEMENS'), // Manufacturer: the files follow Siemens' conventions
    text(0x00080080, 'LO', 'pacsflow testkit'), // InstitutionName
    text(0x00080090, 'PN'), // ReferringPhysicianName (2)
    text(0x00081030, 'LO', 'QSM phantom'), // StudyDescription
    text(0x00081090, 'LO', 'pacsflow synthetic phantom'), // ManufacturerModelName
    text(0x00100010, 'PN', PATIENT_NAME),
    text(0x00100020, 'LO', id.patientId),
    text(0x00100030, 'DA', '19740101'),
    text(0x00100040, 'CS', 'O'),
    text(0x00101010, 'AS', '050Y'),
    decimal(0x00101030, 70), // PatientWeight
    text(0x00180015, 'CS', 'BRAIN'), // BodyPartExamined
    text(0x00181020, 'LO', SOFTWARE_VERSION),
    text(0x00185100, 'CS', 'HFS'), // PatientPosition: head first supine, so B0 runs along the patient's S-I axis
    text(0x0020000d, 'UI', id.studyInstanceUid),
    text(0x00200010, 'SH', '1'), // StudyID
    text(0x00200052, 'UI', id.frameOfReferenceUid),
    text(0x00201040, 'LO'), // PositionReferenceIndicator (2)
    text(0x00204000, 'LT', 'Synthetic phantom made by @pacsflow/testkit; not a patient. Ground truth in truth.json.'),
  ]
}

/** General Series (C.7.3.1) and the series-level dates and times. */
function seriesElements(seriesInstanceUid: string, seriesNumber: number, description: string, time: string): Element[] {
  return [
    text(0x00080021, 'DA', STUDY_DATE), // SeriesDate
    text(0x00080022, 'DA', STUDY_DATE), // AcquisitionDate
    text(0x00080023, 'DA', STUDY_DATE), // ContentDate
    text(0x00080031, 'TM', time),
    text(0x00080032, 'TM', time),
    text(0x00080033, 'TM', time),
    text(0x0008103e, 'LO', description),
    text(0x00181030, 'LO', description), // ProtocolName
    text(0x0020000e, 'UI', seriesInstanceUid),
    integer(0x00200011, seriesNumber),
    integer(0x00200012, 1), // AcquisitionNumber
  ]
}

export const GRE_DESCRIPTION = (echoes: number): string => `gre_qsm_${echoes}echo`
export const T1_DESCRIPTION = (plane: 'sagittal' | 'axial'): string => `t1_mprage_${plane === 'sagittal' ? 'sag' : 'tra'}`

/** The multi-echo 3D GRE (magnitude or phase series): MR Image module (C.8.3.1) acquisition attributes. */
export function greElements(exam: ResolvedExam, id: ExamIdentity, component: 'magnitude' | 'phase', seriesInstanceUid: string, seriesNumber: number): Element[] {
  const lastTe = exam.te1Ms + (exam.echoes - 1) * exam.dteMs
  const [columns, rows] = [exam.dims[0], exam.dims[1]]
  const elements = [
    ...studyElements(id),
    ...seriesElements(seriesInstanceUid, seriesNumber, GRE_DESCRIPTION(exam.echoes), '103045'),
    // ImageType: Siemens' ORIGINAL\PRIMARY then M (magnitude) or P (phase), ND (no distortion correction).
    text(0x00080008, 'CS', 'ORIGINAL', 'PRIMARY', component === 'magnitude' ? 'M' : 'P', 'ND'),
    text(0x00180020, 'CS', 'GR'), // ScanningSequence: gradient recalled
    text(0x00180021, 'CS', 'SP'), // SequenceVariant: spoiled
    text(0x00180022, 'CS'), // ScanOptions (2)
    text(0x00180023, 'CS', '3D'), // MRAcquisitionType
    text(0x00180024, 'SH', `*fl3d${exam.echoes}`), // SequenceName
    decimal(0x00180080, Math.round(lastTe + 6)), // RepetitionTime
    decimal(0x00180083, 1), // NumberOfAverages
    decimal(0x00180084, Number((GAMMA_MHZ_PER_T * exam.b0Tesla).toFixed(6))), // ImagingFrequency, MHz
    text(0x00180085, 'SH', '1H'),
    decimal(0x00180087, exam.b0Tesla), // MagneticFieldStrength
    integer(0x00180091, exam.echoes), // EchoTrainLength
    decimal(0x00180095, 260), // PixelBandwidth
    ushort(0x00181310, 0, columns, rows, 0), // AcquisitionMatrix: frequency along rows, phase along columns
    text(0x00181312, 'CS', 'COL'), // InPlanePhaseEncodingDirection
    decimal(0x00181314, 15), // FlipAngle
  ]
  if (component === 'phase') {
    // Modality LUT as Siemens writes phase: stored 0..4095, real = 2*stored - 4096 in -4096..4094 (= -π..π).
    elements.push(decimal(0x00281050, 0), decimal(0x00281051, 8192))
    elements.push(decimal(0x00281052, -4096), decimal(0x00281053, 2), text(0x00281054, 'LO', 'US'))
  } else {
    elements.push(decimal(0x00281050, Math.round(exam.wmSignal)), decimal(0x00281051, Math.round(exam.wmSignal * 2)))
  }
  return elements
}

/** The per-echo attributes of a GRE file. */
export function echoElements(echoTimeMs: number, echoNumber: number): Element[] {
  return [decimal(0x00180081, echoTimeMs), integer(0x00180086, echoNumber)]
}

/** The MPRAGE T1: gradient recalled with an inversion pulse (InversionTime is then required, C.8.3.1). */
export function t1Elements(exam: ResolvedExam, id: ExamIdentity, seriesInstanceUid: string, seriesNumber: number, matrix: readonly [number, number]): Element[] {
  return [
    ...studyElements(id),
    ...seriesElements(seriesInstanceUid, seriesNumber, T1_DESCRIPTION(exam.t1?.plane ?? 'sagittal'), '102012'),
    text(0x00080008, 'CS', 'ORIGINAL', 'PRIMARY', 'M', 'ND', 'NORM'),
    text(0x00180020, 'CS', 'GR', 'IR'),
    text(0x00180021, 'CS', 'SK', 'SP', 'MP'),
    text(0x00180022, 'CS', 'IR'),
    text(0x00180023, 'CS', '3D'),
    text(0x00180024, 'SH', '*tfl3d1_16ns'),
    decimal(0x00180080, 2300),
    decimal(0x00180081, 2.26),
    decimal(0x00180082, 900), // InversionTime
    decimal(0x00180083, 1),
    decimal(0x00180084, Number((GAMMA_MHZ_PER_T * exam.b0Tesla).toFixed(6))),
    text(0x00180085, 'SH', '1H'),
    integer(0x00180086, 1),
    decimal(0x00180087, exam.b0Tesla),
    integer(0x00180091, 1),
    decimal(0x00180095, 200),
    ushort(0x00181310, 0, matrix[0], matrix[1], 0),
    text(0x00181312, 'CS', 'ROW'),
    decimal(0x00181314, 8),
    decimal(0x00281050, 600),
    decimal(0x00281051, 1200),
  ]
}

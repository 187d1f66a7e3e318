// The input and output of a QSM stage, declared once so stage-qsm-native and stage-qsmxt are interchangeable.
import { PacsflowError } from '@pacsflow/core'
import type { Vec3 } from '../dicom/types.js'
import type { DicomSeries } from '../series/types.js'
import type { SelectedSeries } from '../selection/select.js'

/** The anatomical series a QSM result is aligned to (optional: without them the GRE grid is the target). */
export interface QsmTargets {
  readonly t1?: SelectedSeries | undefined
  readonly fgatir?: SelectedSeries | undefined
}

/** The GRE echoes as DICOM: exactly the output of `selectSeries(study, qsmRoles)`. */
export interface QsmDicomInput extends QsmTargets {
  readonly magnitude: SelectedSeries
  readonly phase: SelectedSeries
}

/** One echo of a multi-echo GRE as NIfTI files (e.g. written by dcm2niix). */
export interface QsmNiftiEcho {
  readonly magnitude: string
  /** Phase in radians, or raw scanner units (e.g. Siemens -4096..4095), rescaled to radians from its range. */
  readonly phase: string
  /** Milliseconds. */
  readonly echoTimeMs: number
}

/** The GRE echoes as NIfTI files. */
export interface QsmNiftiInput extends QsmTargets {
  readonly echoes: readonly QsmNiftiEcho[]
  /** Tesla. */
  readonly fieldStrengthT: number
  /** The B0 direction in the NIfTI's RAS world (default: scanner z, `[0, 0, 1]`). */
  readonly b0Direction?: Vec3
}

/** What every QSM stage takes. */
export type QsmInput = QsmDicomInput | QsmNiftiInput

/** The grid a result was resampled onto, and the series that carries it (what dicomise needs as its reference). */
export interface QsmTarget {
  /** Which series of the input the target is: the FGATIR when given, else the T1, else the GRE magnitude. */
  readonly role: 'fgatir' | 't1' | 'magnitude'
  /** Absent for NIfTI input without a DICOM target. */
  readonly series?: DicomSeries
  /** `DicomVolume.id` of the target grid within `series`. */
  readonly volumeId?: string
}

/** What every QSM stage returns: NIfTI files in the job's workDir, described. */
export interface QsmResult {
  /** The engine that produced it, e.g. `'native'` or `'qsmxt'`. */
  readonly engine: string
  /** Susceptibility in ppm on the GRE grid (float32 NIfTI). */
  readonly chi: string
  /** Susceptibility in ppm resampled onto the target grid (the GRE grid itself when the target is the magnitude). */
  readonly chiOnTarget: string
  /** Brain mask on the GRE grid (uint8, 0/1). */
  readonly mask: string
  /** Local (tissue) field in ppm on the GRE grid, when the engine computes one. */
  readonly localField?: string
  readonly target: QsmTarget
  /** Tesla. */
  readonly fieldStrengthT: number
  /** Echo times used, ms. */
  readonly echoTimesMs: readonly number[]
  /** Wall time of each step, ms, in order. */
  readonly timings: Readonly<Record<string, number>>
}

/** True when the input carries DICOM series rather than NIfTI files. */
export function isQsmDicomInput(input: QsmInput): input is QsmDicomInput {
  return 'magnitude' in input && 'phase' in input
}

/** What `dicomise` needs from a QSM result: `dicomise({ input: qsmDicomiseInput })`. */
export function qsmDicomiseInput(result: QsmResult): { nifti: string; reference: DicomSeries; referenceVolume?: string } {
  if (result.target.series === undefined) {
    throw new PacsflowError('QSM_NO_TARGET', `the QSM result from '${result.engine}' has no DICOM target series to encode onto`)
  }
  return {
    nifti: result.chiOnTarget,
    reference: result.target.series,
    ...(result.target.volumeId === undefined ? {} : { referenceVolume: result.target.volumeId }),
  }
}

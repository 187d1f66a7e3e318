// The descriptors of stage-folder-output: what it takes, its options, and what it returns.
import type { DicomSeries, DicomStudy } from '@pacsflow/imaging'

/** DICOM files to write: a series, a study (every series), or paths (files or folders, recursively). */
export type FolderOutputInput = DicomSeries | DicomStudy | { readonly files: readonly string[] }

/**
 * - `flat`: `<dir>/<SOPInstanceUID>.dcm`
 * - `patient-study-series`: `<dir>/<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`
 */
export type FolderLayout = 'flat' | 'patient-study-series'

export interface FolderOutputOptions {
  /** The output folder (created when missing). */
  readonly dir: string
  /** Default 'flat'. */
  readonly layout?: FolderLayout
  /** Replace a different file that has an output's name (default false: fail FOLDER_OUTPUT_EXISTS and leave it). */
  readonly overwrite?: boolean
  /** fsync each file and folder, so a power cut leaves whole files or none (default true). */
  readonly durable?: boolean
  /** Files copied at once (default 4). */
  readonly concurrency?: number
  /** The stage's name (default 'folder-output'). */
  readonly name?: string
}

/**
 * - `written`: copied in.
 * - `unchanged`: the same bytes were already there (an earlier run, or a resumed one).
 * - `overwritten`: a different file was replaced (only with `overwrite`).
 * - `conflict`: a different file is there and was left alone.
 */
export type OutputFileStatus = 'written' | 'unchanged' | 'overwritten' | 'conflict'

export interface OutputFile {
  readonly sopInstanceUid: string
  readonly source: string
  readonly path: string
  readonly status: OutputFileStatus
}

export interface FolderOutputReceipt {
  readonly dir: string
  readonly layout: FolderLayout
  readonly written: number
  readonly unchanged: number
  readonly overwritten: number
  readonly files: readonly OutputFile[]
}

// The BIDS layout QSMxT reads: file names, sidecars, and the derivatives folder for the brain mask.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '@pacsflow/core'

/** One subject and session per job (each job has its own folder, so the labels need not be unique). */
export const SUBJECT = '01'
export const SESSION = '01'
/** The BIDS suffix of multi-echo GRE (BIDS 1.9, "Anatomy imaging data": MEGRE with `echo-` and `part-`). */
export const GRE_SUFFIX = 'MEGRE'
/** The derivatives pipeline that holds our brain mask (`<bids>/derivatives/pacsflow/`). */
export const MASK_PIPELINE = 'pacsflow'

/** `<bids>/sub-01/ses-01/anat`. */
export function anatDir(bidsDir: string): string {
  return join(bidsDir, `sub-${SUBJECT}`, `ses-${SESSION}`, 'anat')
}

/** `sub-01_ses-01_echo-N_part-mag|phase_MEGRE.nii` (QSMxT v8's get_matching_files and v9's discovery both glob these entities). */
export function echoFileName(echo: number, part: 'mag' | 'phase', extension: '.nii' | '.nii.gz' = '.nii'): string {
  return `sub-${SUBJECT}_ses-${SESSION}_echo-${echo}_part-${part}_${GRE_SUFFIX}${extension}`
}

/** `sub-01_ses-01_T1w.nii.gz`. */
export function t1FileName(): string {
  return `sub-${SUBJECT}_ses-${SESSION}_T1w.nii.gz`
}

/**
 * `<bids>/derivatives/pacsflow/sub-01/ses-01/anat/sub-01_ses-01_mask.nii`: where QSMxT v8
 * (`--use_existing_masks`: a `_mask.nii` file of the subject and session, no `_space-` other than orig)
 * and v9 (`--use-custom-masks`: `derivatives/<tool>/sub-X/[ses-Y/]anat/` files ending `_mask.nii`) look for a mask.
 */
export function maskPath(bidsDir: string): string {
  return join(bidsDir, 'derivatives', MASK_PIPELINE, `sub-${SUBJECT}`, `ses-${SESSION}`, 'anat', `sub-${SUBJECT}_ses-${SESSION}_mask.nii`)
}

/** The sidecar beside a NIfTI file. */
export function sidecarPath(niftiPath: string): string {
  return niftiPath.replace(/\.nii(\.gz)?$/, '.json')
}

/** The fields QSMxT reads from a GRE sidecar (v9 src/bids/sidecar.rs: EchoTime s, MagneticFieldStrength T, optional B0_dir). */
export interface GreSidecarFields {
  readonly EchoTime: number
  readonly MagneticFieldStrength: number
  readonly B0_dir?: readonly number[]
}

/** `dataset_description.json` files (BIDS requires one at the root, and one naming each derivatives pipeline). */
export async function writeDatasetDescriptions(bidsDir: string, withMaskPipeline: boolean): Promise<void> {
  mkdirSync(bidsDir, { recursive: true })
  await writeFileAtomic(join(bidsDir, 'dataset_description.json'), `${JSON.stringify({ Name: 'pacsflow QSM job', BIDSVersion: '1.9.0', DatasetType: 'raw' }, null, 2)}\n`)
  if (!withMaskPipeline) return
  const dir = join(bidsDir, 'derivatives', MASK_PIPELINE)
  mkdirSync(dir, { recursive: true })
  await writeFileAtomic(
    join(dir, 'dataset_description.json'),
    `${JSON.stringify({ Name: 'pacsflow brain mask', BIDSVersion: '1.9.0', DatasetType: 'derivative', GeneratedBy: [{ Name: 'pacsflow (HD-BET, registered to the GRE)' }] }, null, 2)}\n`,
  )
}

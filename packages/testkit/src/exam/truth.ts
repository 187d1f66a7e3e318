// Writes the ground truth on the GRE grid (chi, mask, labels, local and total field as NIfTI) and truth.json.
import { join } from 'node:path'
import { writeFileAtomic } from '@pacsflow/core'
import { writeNifti, type Mat4 } from '@pacsflow/imaging'
import type { GreSimulation } from './simulate.js'
import { TISSUES } from './tissues.js'

/** The truth files, by role. */
export interface TruthFiles {
  readonly dir: string
  readonly json: string
  readonly chi: string
  readonly mask: string
  readonly labels: string
  readonly localField: string
  readonly totalField: string
}

export const TRUTH_FILE_NAMES = {
  json: 'truth.json',
  chi: 'chi.nii',
  mask: 'mask.nii',
  labels: 'labels.nii',
  localField: 'local-field.nii',
  totalField: 'total-field.nii',
} as const

export function truthFiles(dir: string): TruthFiles {
  const at = (name: string): string => join(dir, name)
  return {
    dir,
    json: at(TRUTH_FILE_NAMES.json),
    chi: at(TRUTH_FILE_NAMES.chi),
    mask: at(TRUTH_FILE_NAMES.mask),
    labels: at(TRUTH_FILE_NAMES.labels),
    localField: at(TRUTH_FILE_NAMES.localField),
    totalField: at(TRUTH_FILE_NAMES.totalField),
  }
}

/** One label as truth.json lists it. */
export interface TruthLabel {
  readonly value: number
  readonly name: string
  /** ppm relative to CSF. */
  readonly chi: number
  readonly inMask: boolean
  readonly t2StarMs: number
  readonly protonDensity: number
  /** Voxels whose centre has this label on the GRE grid. */
  readonly voxels: number
}

export function truthLabels(labels: Uint8Array): TruthLabel[] {
  const counts = new Array<number>(TISSUES.length).fill(0)
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++
  return TISSUES.map((t) => ({
    value: t.label,
    name: t.name,
    chi: t.chi,
    inMask: t.brain,
    t2StarMs: t.t2StarMs,
    protonDensity: t.protonDensity,
    voxels: counts[t.label]!,
  }))
}

/**
 * The five volumes, with the GRE NIfTI affine (the one dcm2niix writes for the GRE series) as
 * both qform and sform, and truth.json. Written with atomic renames: a reader never sees half a file.
 */
export async function writeTruth(files: TruthFiles, dims: readonly number[], affine: Mat4, gre: GreSimulation, parameters: Record<string, unknown>): Promise<void> {
  const volume = { dims, affine }
  await writeNifti(files.chi, { ...volume, data: gre.chi, description: 'susceptibility, ppm relative to CSF' })
  await writeNifti(files.mask, { ...volume, data: gre.mask, description: 'brain mask' })
  await writeNifti(files.labels, { ...volume, data: gre.labels, description: 'tissue labels, see truth.json' })
  await writeNifti(files.localField, { ...volume, data: gre.localField, description: 'local field, ppm of B0' })
  await writeNifti(files.totalField, { ...volume, data: gre.totalField, description: 'total field (local + background), ppm of B0' })
  await writeFileAtomic(files.json, `${JSON.stringify(parameters, null, 2)}\n`, { durable: false })
}

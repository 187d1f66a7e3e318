// Step 5: the susceptibility map on the GRE grid and on the target's grid (T1 or FGATIR), the mask, the local field.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { multiply, readNifti, readNiftiHeader, resampleToGrid, scaledData, writeNifti, type Mat4, type NiftiHeader } from '@pacsflow/imaging'
import { antsApplyTransformsArgs } from './command-lines.js'
import { runJobTool, type Job } from './job.js'

export const RESULT_STEP = 'result'

/** Where the result is aligned to: a NIfTI grid and the map from GRE world to its world. */
export interface AlignmentTarget {
  readonly nifti: string
  /** Point map GRE world to target world, RAS mm. */
  readonly greToTarget: Mat4
  /** The registration's own transform file (for `resampler: 'ants'`). */
  readonly transformFile: string
}

export interface ResultInputs {
  readonly chimap: string
  /** The first-echo magnitude: the GRE grid. */
  readonly gre: string
  /** Brain mask on (or near) the GRE grid. */
  readonly mask: string
  readonly localField?: string
  /** Absent when the target is the magnitude itself. */
  readonly target?: AlignmentTarget
}

const sameGrid = (a: NiftiHeader, b: NiftiHeader): boolean =>
  a.dims.slice(0, 3).every((n, i) => n === b.dims[i]) && a.affine.every((row, r) => row.every((v, c) => Math.abs(v - b.affine[r]![c]!) < 1e-4))

/** Writes `chi.nii`, `chi-on-target.nii` (when there is a target), `mask.nii` and `local-field.nii` into `dir`. */
export async function buildResult(job: Job, dir: string, inputs: ResultInputs): Promise<{ outputs: Record<string, string>; data: Record<string, never> }> {
  const gre = await readNiftiHeader(inputs.gre)
  const greDims = gre.dims.slice(0, 3) as [number, number, number]
  const chimap = await readNifti(inputs.chimap)
  if (chimap.header.dims.slice(3).some((n) => n > 1)) {
    throw new PacsflowError('QSMXT_TOOL_OUTPUT', `the Chimap ${inputs.chimap} has more than one volume (${chimap.header.dims.join('x')})`, { details: { tool: 'qsmxt', path: inputs.chimap } })
  }
  const chiValues = scaledData(chimap)
  const outputs: Record<string, string> = {}
  // QSMxT may resample oblique data to axial (--obliquity_threshold): then the map comes back onto the GRE grid here.
  outputs.chi = await writeOnGrid(job, join(dir, 'chi.nii'), chiValues, chimap.header, gre, greDims, 'trilinear', 'susceptibility (ppm, QSMxT) on the GRE grid')
  const mask = await readNifti(inputs.mask)
  const maskValues = sameGrid(mask.header, gre) ? scaledData(mask) : resampleToGrid(scaledData(mask), mask.header.dims.slice(0, 3), mask.header.affine, greDims, gre.affine, { interpolation: 'nearest', signal: job.signal })
  const binary = new Uint8Array(maskValues.length)
  for (let i = 0; i < binary.length; i++) binary[i] = maskValues[i]! > 0.5 ? 1 : 0
  outputs.mask = join(dir, 'mask.nii')
  await writeNifti(outputs.mask, { data: binary, dims: greDims, affine: gre.affine, description: 'pacsflow brain mask (HD-BET)' })
  if (inputs.localField !== undefined) {
    const field = await readNifti(inputs.localField)
    outputs.localField = await writeOnGrid(job, join(dir, 'local-field.nii'), scaledData(field), field.header, gre, greDims, 'trilinear', 'local field (ppm, QSMxT) on the GRE grid')
  }
  if (inputs.target !== undefined) outputs.chiOnTarget = await chiOntoTarget(job, dir, inputs.chimap, chiValues, chimap.header, inputs.target)
  return { outputs, data: {} }
}

async function writeOnGrid(job: Job, path: string, values: Float32Array | Float64Array, header: NiftiHeader, grid: NiftiHeader, dims: [number, number, number], interpolation: 'trilinear' | 'nearest', description: string): Promise<string> {
  const data = sameGrid(header, grid)
    ? Float32Array.from(values)
    : resampleToGrid(values, header.dims.slice(0, 3), header.affine, dims, grid.affine, { interpolation, fill: 0, signal: job.signal })
  await writeNifti(path, { data, dims, affine: grid.affine, description })
  return path
}

/**
 * The map on the target's grid: chi voxel v lies at `greToTarget * A_chi * v` in the target's world, so
 * that is its affine there, and the target grid samples it (trilinear, 0 outside). With `resampler: 'ants'`:
 * antsApplyTransforms with the inverse of the registration (`[T,1]`: fixed GRE into moving target space).
 */
async function chiOntoTarget(job: Job, dir: string, chimap: string, values: Float32Array | Float64Array, header: NiftiHeader, target: AlignmentTarget): Promise<string> {
  const out = join(dir, 'chi-on-target.nii')
  const grid = await readNiftiHeader(target.nifti)
  const dims = grid.dims.slice(0, 3) as [number, number, number]
  if (job.options.resampler === 'ants') {
    const resampled = join(dir, 'chi-on-target-ants.nii.gz')
    await runJobTool(job, RESULT_STEP, 'antsApplyTransforms', antsApplyTransformsArgs({ input: chimap, reference: target.nifti, output: resampled, interpolation: 'Linear', transform: target.transformFile, inverse: true }), { cwd: dir, stepDir: dir })
    if (!existsSync(resampled)) throw new PacsflowError('QSMXT_TOOL_OUTPUT', `antsApplyTransforms exited 0 but wrote no ${resampled}`, { details: { tool: 'antsApplyTransforms', step: RESULT_STEP } })
    const image = await readNifti(resampled)
    await writeNifti(out, { data: Float32Array.from(scaledData(image)), dims, affine: grid.affine, description: 'susceptibility (ppm, QSMxT) on the target grid' })
    return out
  }
  const data = resampleToGrid(values, header.dims.slice(0, 3), multiply(target.greToTarget, header.affine), dims, grid.affine, { interpolation: 'trilinear', fill: 0, signal: job.signal })
  await writeNifti(out, { data, dims, affine: grid.affine, description: 'susceptibility (ppm, QSMxT) on the target grid' })
  return out
}

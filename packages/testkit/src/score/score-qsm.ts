// scoreQsm: reads an estimate and a testkit truth folder, checks they share a grid, and scores the estimate.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { readNifti, scaledData, voxelSizes, type NiftiImage } from '@pacsflow/imaging'
import './errors.js'
import type { Dims } from './filters.js'
import { scoreVolumes, type QsmScore } from './metrics.js'

export interface ScoreOptions {
  /** A mask NIfTI on the truth grid to score in (default the truth's mask.nii). */
  readonly mask?: string
  /** Erosion of the mask for the interior NRMSE, mm (default 6). */
  readonly erosionMm?: number
  /** Structures with fewer voxels in the mask are left out of the ROI table and fit (default 10). */
  readonly minRoiVoxels?: number
}

/** The affine's 3x3 part may differ by this much (float32 storage of a 1.5 mm grid rounds at ~1e-7 relative). */
const AFFINE_TOLERANCE = 1e-3
/** ... and the voxel origin by this many mm. */
const ORIGIN_TOLERANCE_MM = 0.01

/** dims of a volume that must be 3D (a trailing 4th dimension of 1 is allowed). */
function spatialDims(image: NiftiImage, path: string): Dims {
  const dims = image.header.dims
  if (dims.length < 3 || dims.slice(3).some((d) => d !== 1)) {
    throw new PacsflowError('QSM_SCORE_INPUT', `${path} has dims [${dims.join(', ')}]; the scorer takes one 3D volume`, { details: { path, dims } })
  }
  return [dims[0]!, dims[1]!, dims[2]!]
}

/** Throws QSM_SCORE_GRID unless `image` has the reference's dims and affine. */
function checkSameGrid(image: NiftiImage, path: string, reference: NiftiImage, referencePath: string): void {
  const a = spatialDims(image, path)
  const b = spatialDims(reference, referencePath)
  const m = image.header.affine
  const r = reference.header.affine
  const affineOff = m.some((row, i) => row.some((v, j) => Math.abs(v - r[i]![j]!) > (j === 3 ? ORIGIN_TOLERANCE_MM : AFFINE_TOLERANCE)))
  if (a.some((d, i) => d !== b[i]) || affineOff) {
    throw new PacsflowError(
      'QSM_SCORE_GRID',
      `${path} is not on the grid of ${referencePath} (dims [${a.join(', ')}] vs [${b.join(', ')}]${affineOff ? ', different affine' : ''}); resample it onto the GRE grid first`,
      { details: { path, reference: referencePath, dims: a, referenceDims: b, affine: m, referenceAffine: r } },
    )
  }
}

/** Label value -> name from truth.json. */
async function labelNames(truthDir: string): Promise<Map<number, string>> {
  const path = join(truthDir, 'truth.json')
  let parsed: { labels?: { value: number; name: string; inMask: boolean }[] }
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed
  } catch (error) {
    throw new PacsflowError('QSM_SCORE_INPUT', `${path} is missing or not JSON: is ${truthDir} a testkit truth folder?`, { cause: error, details: { path } })
  }
  if (!Array.isArray(parsed.labels)) throw new PacsflowError('QSM_SCORE_INPUT', `${path} has no labels`, { details: { path } })
  return new Map(parsed.labels.filter((l) => l.inMask).map((l) => [l.value, l.name]))
}

async function readTruthVolume(truthDir: string, name: string): Promise<NiftiImage> {
  const path = join(truthDir, name)
  try {
    return await readNifti(path)
  } catch (error) {
    throw new PacsflowError('QSM_SCORE_INPUT', `cannot read ${path}: ${(error as Error).message}`, { cause: error, details: { path } })
  }
}

/**
 * Scores a susceptibility estimate (NIfTI, ppm, on the GRE grid the truth uses) against a truth
 * folder written by `makeExam`: NRMSE, HFEN, correlation, interior NRMSE, per-structure means and
 * their linear fit. A different grid is `QSM_SCORE_GRID`; an incomplete truth folder or an
 * estimate that is not one 3D volume with finite values in the mask is `QSM_SCORE_INPUT`.
 */
export async function scoreQsm(estimatePath: string, truthDir: string, options: ScoreOptions = {}): Promise<QsmScore> {
  const names = await labelNames(truthDir)
  const truth = await readTruthVolume(truthDir, 'chi.nii')
  const labels = await readTruthVolume(truthDir, 'labels.nii')
  const maskPath = options.mask ?? join(truthDir, 'mask.nii')
  const mask = options.mask === undefined ? await readTruthVolume(truthDir, 'mask.nii') : await readNifti(options.mask)
  const estimate = await readNifti(estimatePath)
  const truthPath = join(truthDir, 'chi.nii')
  checkSameGrid(estimate, estimatePath, truth, truthPath)
  checkSameGrid(mask, maskPath, truth, truthPath)
  const estimateValues = scaledData(estimate)
  const maskValues = scaledData(mask)
  let inMask = 0
  for (let i = 0; i < estimateValues.length; i++) {
    if (maskValues[i] === 0) continue
    inMask++
    if (!Number.isFinite(estimateValues[i]!)) {
      throw new PacsflowError('QSM_SCORE_INPUT', `${estimatePath} has a non-finite value (${estimateValues[i]}) inside the mask at voxel ${i}`, { details: { path: estimatePath, voxel: i } })
    }
  }
  if (inMask === 0) throw new PacsflowError('QSM_SCORE_INPUT', `the mask ${maskPath} is empty`, { details: { path: maskPath } })
  const affine = truth.header.affine
  return scoreVolumes({
    estimate: estimateValues,
    truth: scaledData(truth),
    mask: maskValues,
    labels: scaledData(labels),
    labelNames: names,
    dims: spatialDims(truth, truthPath),
    voxelMm: voxelSizes(affine),
    ...(options.erosionMm === undefined ? {} : { erosionMm: options.erosionMm }),
    ...(options.minRoiVoxels === undefined ? {} : { minRoiVoxels: options.minRoiVoxels }),
  })
}

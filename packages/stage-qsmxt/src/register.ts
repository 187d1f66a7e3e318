// Step 3: rigid mutual-information registration of an anatomical target to the first-echo magnitude (ANTs or elastix),
// and the brain mask brought onto the GRE grid.
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { multiply, readNifti, readNiftiHeader, resampleToGrid, scaledData, writeNifti, type Mat4 } from '@pacsflow/imaging'
import { antsApplyTransformsArgs, antsRegistrationArgs, antsTransformPath, elastixArgs } from './command-lines.js'
import { logFile, runJobTool, type Job } from './job.js'
import { logTail } from './run-tool.js'
import { lpsToRasTransform, readElastixTransform, readItkMatTransform, rotationDegrees } from './transforms.js'

export interface RegistrationData {
  readonly method: 'ants' | 'elastix'
  /** Point map from the GRE (fixed) world to the target's (moving) world, RAS mm. */
  readonly greToTarget: Mat4
  readonly rotationDegrees: number
  readonly translationMm: number
}

/**
 * elastix parameters for a rigid (Euler) registration with Mattes mutual information: 32 histogram bins
 * and four resolutions smoothed and downsampled 8-4-2-1, as the ANTs rigid stage; adaptive stochastic
 * gradient descent on 4096 random samples per iteration (elastix manual, sections 2.6-2.9 and the
 * parameter file database's rigid examples). ImagePyramidSchedule gives shrink factors per axis.
 */
export function elastixRigidParameters(iterations = 250): string {
  return [
    '(FixedInternalImagePixelType "float")',
    '(MovingInternalImagePixelType "float")',
    '(FixedImageDimension 3)',
    '(MovingImageDimension 3)',
    '(UseDirectionCosines "true")',
    '(Registration "MultiResolutionRegistration")',
    '(Interpolator "BSplineInterpolator")',
    '(ResampleInterpolator "FinalBSplineInterpolator")',
    '(Resampler "DefaultResampler")',
    '(FixedImagePyramid "FixedSmoothingImagePyramid")',
    '(MovingImagePyramid "MovingSmoothingImagePyramid")',
    '(Optimizer "AdaptiveStochasticGradientDescent")',
    '(Transform "EulerTransform")',
    '(Metric "AdvancedMattesMutualInformation")',
    '(AutomaticScalesEstimation "true")',
    '(AutomaticTransformInitialization "false")',
    '(HowToCombineTransforms "Compose")',
    '(NumberOfHistogramBins 32)',
    '(NumberOfResolutions 4)',
    '(ImagePyramidSchedule 8 8 8 4 4 4 2 2 2 1 1 1)',
    `(MaximumNumberOfIterations ${iterations})`,
    '(ImageSampler "RandomCoordinate")',
    '(NumberOfSpatialSamples 4096)',
    '(NewSamplesEveryIteration "true")',
    '(BSplineInterpolationOrder 1)',
    '(FinalBSplineInterpolationOrder 3)',
    '(DefaultPixelValue 0)',
    '(WriteResultImage "false")',
    '(ResultImageFormat "nii")',
    '',
  ].join('\n')
}

/** Registers `moving` (the T1 or FGATIR) to `fixed` (the first-echo magnitude) in `dir`; returns the transform file and map. */
export async function registerToGre(job: Job, step: string, dir: string, fixed: string, moving: string): Promise<{ outputs: Record<string, string>; data: RegistrationData }> {
  const method = job.tools.registration
  let file: string
  let lps: Mat4
  if (method === 'ants') {
    const prefix = join(dir, 'ants_')
    const threads = job.options.threads === undefined ? {} : { ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS: String(job.options.threads) }
    await runJobTool(job, step, 'antsRegistration', antsRegistrationArgs({ fixed, moving, prefix, initialTransform: job.options.antsInitialTransform }), { cwd: dir, stepDir: dir, env: threads })
    file = antsTransformPath(prefix)
    expectOutput(job, step, 'antsRegistration', file)
    lps = await readItkMatTransform(file)
  } else {
    const parameters = join(dir, 'rigid-mi.txt')
    await writeFile(parameters, elastixRigidParameters())
    const outDir = join(dir, 'elastix')
    await mkdir(outDir, { recursive: true })
    const threads = job.options.threads === undefined ? {} : { threads: job.options.threads }
    await runJobTool(job, step, 'elastix', elastixArgs({ fixed, moving, parameters, outDir, ...threads }), { cwd: dir, stepDir: dir })
    file = join(outDir, 'TransformParameters.0.txt')
    expectOutput(job, step, 'elastix', file)
    lps = await readElastixTransform(file)
  }
  const greToTarget = lpsToRasTransform(lps)
  const data: RegistrationData = {
    method,
    greToTarget,
    rotationDegrees: rotationDegrees(greToTarget),
    translationMm: Math.hypot(greToTarget[0][3], greToTarget[1][3], greToTarget[2][3]),
  }
  job.log.info({ step, method, rotationDegrees: data.rotationDegrees, translationMm: data.translationMm }, `qsmxt: ${step} found the rigid transform`)
  return { outputs: { transform: file }, data }
}

function expectOutput(job: Job, step: string, tool: string, file: string): void {
  if (existsSync(file)) return
  throw new PacsflowError('QSMXT_TOOL_OUTPUT', `${tool} exited 0 but wrote no transform (${file})`, {
    details: { tool, step, expected: file, log: logFile(job, step), logTail: logTail(logFile(job, step)) },
  })
}

/**
 * The brain mask (on the target's grid) onto the GRE grid, nearest neighbour, as uint8 0/1 in
 * `<dir>/mask-gre.nii`. GRE voxel v sits at `greToTarget * A_gre * v` in the target's world, so the
 * GRE grid seen from the mask's world has that affine. With `resampler: 'ants'`, antsApplyTransforms
 * does the same with the registration's own .mat (moving to fixed: the transform as written).
 */
export async function maskOntoGre(job: Job, step: string, dir: string, mask: string, gre: string, registration: { data: RegistrationData; transform: string }): Promise<string> {
  const out = join(dir, 'mask-gre.nii')
  const greHeader = await readNiftiHeader(gre)
  const dims = greHeader.dims.slice(0, 3) as [number, number, number]
  let values: ArrayLike<number>
  if (job.options.resampler === 'ants') {
    const resampled = join(dir, 'mask-gre-ants.nii.gz')
    await runJobTool(job, step, 'antsApplyTransforms', antsApplyTransformsArgs({ input: mask, reference: gre, output: resampled, interpolation: 'NearestNeighbor', transform: registration.transform, inverse: false }), { cwd: dir, stepDir: dir })
    expectOutput(job, step, 'antsApplyTransforms', resampled)
    values = scaledData(await readNifti(resampled))
    if (values.length !== dims[0] * dims[1] * dims[2]) throw new PacsflowError('QSMXT_TOOL_OUTPUT', `antsApplyTransforms wrote a mask that is not on the GRE grid (${resampled})`, { details: { tool: 'antsApplyTransforms', step } })
  } else {
    const image = await readNifti(mask)
    const targetAffine = multiply(registration.data.greToTarget, greHeader.affine)
    values = resampleToGrid(scaledData(image), image.header.dims.slice(0, 3), image.header.affine, dims, targetAffine, { interpolation: 'nearest', fill: 0, signal: job.signal })
  }
  const binary = new Uint8Array(values.length)
  for (let i = 0; i < values.length; i++) binary[i] = values[i]! > 0.5 ? 1 : 0
  await writeNifti(out, { data: binary, dims, affine: greHeader.affine, description: 'pacsflow brain mask (HD-BET) on the GRE grid' })
  return out
}

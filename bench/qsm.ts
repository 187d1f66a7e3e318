// Benchmark: the native QSM engine against a plain numpy implementation of the same steps
// (bench/qsm_reference.py, Debian's /usr/bin/python3 with numpy and scipy), on the testkit's default
// exam (128x128x96, 4 echoes, SNR 100), in the same run: time per step and their ratio (unwrap, field
// fit, V-SHARP, RTS against TKD + TV-ADMM, one ADMM iteration, and the single-step QSM on identical
// inputs: the fitted field, brain mask and field weights on the engine's box, numpy's FFTs on as many
// workers as the native FFT threads), the native stage end to end with its default options (DICOM in,
// NIfTI out), peak RSS, each result scored against the truth, and numpy's single-step chi against the
// native one (NRMSE: the same method gives the same numbers).
//
// Run: node --conditions=source --import tsx bench/qsm.ts [--exam <dir>] [--oblique] [--admm 100]
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createRunner, memoryJobStore, pipeline } from '@pacsflow/core'
import { groupStudy, indexDicom, qsmRoles, selectSeries, writeNifti } from '@pacsflow/imaging'
import {
  DEFAULT_VSHARP_RADII_MM,
  fieldWeights,
  fitField,
  fromBox,
  laplacianUnwrap,
  loadGre,
  maskToBox,
  paddedBox,
  qsmNative,
  resolveQsmOptions,
  rts,
  runQsm,
  SINGLE_STEP_DEFAULTS,
  singleStepQsm,
  toBox,
  type LoadedGre,
  type Mask,
  type PaddedBox,
  type QsmArrays,
  type ResolvedQsmOptions,
} from '@pacsflow/stage-qsm-native'
import { makeExam, scoreQsm, type QsmScore } from '@pacsflow/testkit'

const { values } = parseArgs({ options: { exam: { type: 'string' }, oblique: { type: 'boolean', default: false }, admm: { type: 'string', default: '100' } } })
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-bench-qsm-'))
const python = '/usr/bin/python3'

function line(score: QsmScore): string {
  return `NRMSE ${score.nrmse.toFixed(1)} % (interior ${score.interior.nrmse.toFixed(1)} %), HFEN ${score.hfen.toFixed(1)} %, correlation ${score.correlation.toFixed(3)}, ROI slope ${score.fit.slope.toFixed(3)}`
}

/** 100 ||a - b|| / ||b|| over the mask. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>, mask: Mask): number {
  let diff = 0
  let norm = 0
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 1) continue
    diff += ((a[i] as number) - (b[i] as number)) ** 2
    norm += (b[i] as number) ** 2
  }
  return 100 * Math.sqrt(diff / norm)
}

/** The single-step's inputs as the engine makes them: the fitted field (ppm), mask and field weights on the engine's box. */
function singleStepInputs(gre: LoadedGre, brain: Mask, options: ResolvedQsmOptions): { box: PaddedBox; field: Float64Array; mask: Mask; weights: Float64Array } {
  const box = paddedBox(brain, gre.dims, gre.voxelSizeMm.map((h) => options.paddingMm / h + 1))
  const unwrapped = gre.phases.map((p) => laplacianUnwrap(toBox(p, gre.dims, box), box.shape, gre.voxelSizeMm, { form: options.unwrapping }))
  const magnitudes = gre.magnitudes.map((m) => toBox(m, gre.dims, box))
  const field = fitField(unwrapped, magnitudes, gre.echoTimesMs, options.phaseOffset).fieldHz
  for (let i = 0; i < field.length; i++) field[i] = (field[i] as number) / gre.larmorMHz
  return { box, field, mask: maskToBox(brain, gre.dims, box), weights: fieldWeights(magnitudes, gre.echoTimesMs, options.phaseOffset) }
}

function bytes(a: Float64Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

async function main(): Promise<void> {
  const examDir = values.exam === undefined ? join(scratch, 'exam') : resolve(values.exam)
  if (!existsSync(join(examDir, 'truth', 'truth.json'))) {
    console.log(`making the default exam${values.oblique ? ' (oblique)' : ''} in ${examDir}`)
    await makeExam(examDir, { preset: 'default', oblique: values.oblique })
  }
  const truthDir = join(examDir, 'truth')
  const selection = selectSeries(groupStudy((await indexDicom(join(examDir, 'dicom'))).instances), qsmRoles)

  // 1. The native stage end to end, default options (DICOM in, NIfTI out).
  const defaults = resolveQsmOptions({})
  const defaultSteps = `${defaults.background} + ${defaults.inversion}`
  const store = memoryJobStore({ workRoot: join(scratch, 'jobs') })
  const started = performance.now()
  const result = await createRunner({ pipeline: pipeline(qsmNative()), store }).run(selection)
  const endToEnd = performance.now() - started
  const nativeScore = await scoreQsm(result.chi, truthDir)

  // 2. The native engine with the reference's steps (V-SHARP, RTS), timed per step.
  const gre = await loadGre(selection)
  const options = resolveQsmOptions({ background: 'vsharp', inversion: 'rts' })
  const data = { shape: gre.dims, voxelSizeMm: gre.voxelSizeMm, b0DirectionVoxel: gre.b0DirectionVoxel, magnitudes: gre.magnitudes, phases: gre.phases, echoTimesMs: gre.echoTimesMs, larmorMHz: gre.larmorMHz }
  const arrays: QsmArrays = await runQsm(data, options)
  // The cost of one ADMM iteration: RTS with 20 iterations against RTS with none, on the engine's box.
  const box = paddedBox(arrays.mask, gre.dims, gre.voxelSizeMm.map((h) => 12 / h + 1))
  const local = toBox(arrays.localField, gre.dims, box)
  const boxMask = Uint8Array.from(toBox(arrays.mask, gre.dims, box))
  const grid = { shape: box.shape, voxelSizeMm: gre.voxelSizeMm, b0DirectionVoxel: gre.b0DirectionVoxel }
  const timeRts = async (maxIterations: number): Promise<number> => {
    const t0 = performance.now()
    await rts(local, boxMask, grid, { maxIterations, tolerance: 0, lsmrIterations: 20 })
    return performance.now() - t0
  }
  const perIteration = ((await timeRts(20)) - (await timeRts(0))) / 20
  const vsharpChi = join(scratch, 'native-vsharp.nii')
  await writeNifti(vsharpChi, { data: arrays.chi, dims: gre.dims, affine: gre.affine })
  const vsharpScore = await scoreQsm(vsharpChi, truthDir)

  // 2b. The single-step QSM on the engine's default box, inputs made as the engine makes them, timed alone.
  const ss = singleStepInputs(gre, arrays.brainMask, defaults)
  const ssParameters = { ...defaults.singleStep, epsilon: SINGLE_STEP_DEFAULTS.epsilon }
  const ssGrid = { shape: ss.box.shape, voxelSizeMm: gre.voxelSizeMm, b0DirectionVoxel: gre.b0DirectionVoxel }
  const ssStarted = performance.now()
  const ssCpuStarted = process.cpuUsage()
  const ssResult = await singleStepQsm(ss.field, ss.mask, ssGrid, { ...ssParameters, weights: ss.weights })
  const ssNative = performance.now() - ssStarted
  const ssCpu = process.cpuUsage(ssCpuStarted)
  const ssNativeChi = join(scratch, 'native-single-step.nii')
  await writeNifti(ssNativeChi, { data: fromBox(ssResult.chi, gre.dims, ss.box), dims: gre.dims, affine: gre.affine })
  const ssNativeScore = await scoreQsm(ssNativeChi, truthDir)

  // 3. The numpy reference on the same arrays and the native brain mask.
  const folder = join(scratch, 'numpy')
  rmSync(folder, { recursive: true, force: true })
  spawnSync('mkdir', ['-p', folder])
  gre.magnitudes.forEach((m, e) => writeFileSync(join(folder, `mag${e}.raw`), Buffer.from(m.buffer, m.byteOffset, m.byteLength)))
  gre.phases.forEach((p, e) => writeFileSync(join(folder, `phase${e}.raw`), Buffer.from(p.buffer, p.byteOffset, p.byteLength)))
  writeFileSync(join(folder, 'mask.raw'), Buffer.from(Float32Array.from(arrays.brainMask).buffer))
  writeFileSync(join(folder, 'ss-field.raw'), bytes(ss.field))
  writeFileSync(join(folder, 'ss-mask.raw'), bytes(ss.mask))
  writeFileSync(join(folder, 'ss-weights.raw'), bytes(ss.weights))
  const singleStep = { boxShape: ss.box.shape, ...ssParameters, threads: arrays.threads }
  writeFileSync(join(folder, 'input.json'), JSON.stringify({ shape: gre.dims, voxelSizeMm: gre.voxelSizeMm, b0DirectionVoxel: gre.b0DirectionVoxel, echoTimesMs: gre.echoTimesMs, larmorMHz: gre.larmorMHz, vsharpRadiiMm: DEFAULT_VSHARP_RADII_MM, admmIterations: Number(values.admm), singleStep }))
  const pyStarted = performance.now()
  const run = spawnSync(python, [resolve(import.meta.dirname, 'qsm_reference.py'), folder], { encoding: 'utf8' })
  const pyTotal = performance.now() - pyStarted
  if (run.status !== 0) throw new Error(`the numpy reference failed (needs ${python} with numpy and scipy): ${run.stderr}`)
  const reference = JSON.parse(readFileSync(join(folder, 'timings.json'), 'utf8')) as { timings: Record<string, number>; cpu?: Record<string, number>; numpy: string; scipy: string; maxRssMiB: number }
  const raw = readFileSync(join(folder, 'chi.raw'))
  const numpyChi = join(scratch, 'numpy.nii')
  await writeNifti(numpyChi, { data: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), dims: gre.dims, affine: gre.affine })
  const numpyScore = await scoreQsm(numpyChi, truthDir)
  const ssRaw = readFileSync(join(folder, 'single-step-chi.raw'))
  const ssNumpy = new Float64Array(ssRaw.buffer, ssRaw.byteOffset, ssRaw.byteLength / 8)
  const ssAgreement = relativeDifference(ssNumpy, ssResult.chi, ss.mask)
  const ssNumpyChi = join(scratch, 'numpy-single-step.nii')
  await writeNifti(ssNumpyChi, { data: fromBox(ssNumpy, gre.dims, ss.box), dims: gre.dims, affine: gre.affine })
  const ssNumpyScore = await scoreQsm(ssNumpyChi, truthDir)

  const t = arrays.timings
  const n = reference.timings
  const rows: [string, number, number][] = [
    ['Laplacian unwrap (4 echoes)', t.unwrap ?? 0, n.unwrap ?? 0],
    ['weighted field fit', t.fit ?? 0, n.fit ?? 0],
    [`V-SHARP (radii ${DEFAULT_VSHARP_RADII_MM.join(', ')} mm)`, t.background ?? 0, n.background ?? 0],
    [`inversion: RTS (native) / TKD + ${values.admm} TV-ADMM (numpy)`, t.inversion ?? 0, (n.tkd ?? 0) + (n['tv-admm'] ?? 0)],
  ]
  console.log(`\nexam ${gre.dims.join('x')}x${gre.echoTimesMs.length} at ${gre.voxelSizeMm[0]} mm${values.oblique ? ', oblique' : ''}; numpy ${reference.numpy}, scipy ${reference.scipy}; native FFT threads ${arrays.threads}`)
  console.log('step'.padEnd(52), 'native ms'.padStart(10), 'numpy ms'.padStart(10), 'numpy/native'.padStart(13))
  for (const [name, native, numpy] of rows) console.log(name.padEnd(52), String(native).padStart(10), String(numpy).padStart(10), (numpy / Math.max(1, native)).toFixed(2).padStart(13))
  const nativeSteps = rows.reduce((sum, r) => sum + r[1], 0)
  const numpySteps = rows.reduce((sum, r) => sum + r[2], 0)
  console.log('all four steps'.padEnd(52), String(nativeSteps).padStart(10), String(numpySteps).padStart(10), (numpySteps / nativeSteps).toFixed(2).padStart(13))
  const numpyIteration = (n['tv-admm'] ?? 0) / Number(values.admm)
  console.log('one TV-ADMM iteration'.padEnd(52), perIteration.toFixed(0).padStart(10), numpyIteration.toFixed(0).padStart(10), (numpyIteration / perIteration).toFixed(2).padStart(13))
  console.log(`  (native box ${box.shape.join('x')}, numpy the whole ${gre.dims.join('x')} grid)`)
  const ssName = `single-step (${ssParameters.radiiMm.join(', ')} mm; ${ssParameters.reweightings}x${ssParameters.iterations} IRLS-PCG)`
  const ssNumpyMs = n['single-step'] ?? 0
  console.log(ssName.padEnd(52), ssNative.toFixed(0).padStart(10), String(ssNumpyMs).padStart(10), (ssNumpyMs / ssNative).toFixed(2).padStart(13))
  console.log(`  (both from the fitted field on the engine's box ${ss.box.shape.join('x')}, iterating in the box 2 voxels around the mask; numpy: scipy.fft, ${arrays.threads} workers)`)
  // CPU time of all threads: a wall time far above it means the process waited (a stalled VM, a busy core), not that it worked.
  const ssNumpyCpu = reference.cpu?.['single-step']
  console.log(`  CPU time of all threads: native ${Math.round((ssCpu.user + ssCpu.system) / 1000)} ms, numpy ${ssNumpyCpu ?? '?'} ms`)
  console.log(`numpy process wall time (start, read, steps, write): ${Math.round(pyTotal)} ms; its peak RSS ${reference.maxRssMiB} MiB`)
  console.log(`\nnative stage end to end, default options (${defaultSteps}; index excluded; load, mask, unwrap, fit, background, inversion, write, chi onto the T1): ${Math.round(endToEnd)} ms`)
  console.log(`  per step: ${JSON.stringify(result.timings)}`)
  console.log(`  peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`)
  console.log('\nscores against the truth:')
  console.log(`  native default (${defaultSteps}):`.padEnd(36), line(nativeScore))
  console.log('  native V-SHARP + RTS:'.padEnd(36), line(vsharpScore))
  console.log('  numpy V-SHARP + TKD + TV:'.padEnd(36), line(numpyScore))
  console.log('  native single-step chi:'.padEnd(36), line(ssNativeScore))
  console.log('  numpy single-step chi:'.padEnd(36), line(ssNumpyScore))
  console.log(`  numpy single-step against native, in the brain mask: NRMSE ${ssAgreement.toExponential(2)} %`)
}

try {
  await main()
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

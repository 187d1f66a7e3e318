// Benchmark: the native QSM engine against a plain numpy implementation of the same steps
// (bench/qsm_reference.py, Debian's /usr/bin/python3), on the testkit's default exam
// (128x128x96, 4 echoes, SNR 100), in the same run: time per step and their ratio, the
// native stage end to end (DICOM in, NIfTI out), peak RSS, and each result scored against the truth.
//
// Run: node --conditions=source --import tsx bench/qsm.ts [--exam <dir>] [--oblique] [--admm 100]
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createRunner, memoryJobStore, pipeline } from '@pacsflow/core'
import { groupStudy, indexDicom, qsmRoles, selectSeries, writeNifti } from '@pacsflow/imaging'
import { DEFAULT_VSHARP_RADII_MM, loadGre, paddedBox, qsmNative, resolveQsmOptions, rts, runQsm, toBox, type QsmArrays } from '@pacsflow/stage-qsm-native'
import { makeExam, scoreQsm, type QsmScore } from '@pacsflow/testkit'

const { values } = parseArgs({ options: { exam: { type: 'string' }, oblique: { type: 'boolean', default: false }, admm: { type: 'string', default: '100' } } })
const scratch = mkdtempSync(join(tmpdir(), 'pacsflow-bench-qsm-'))
const python = '/usr/bin/python3'

function line(score: QsmScore): string {
  return `NRMSE ${score.nrmse.toFixed(1)} % (interior ${score.interior.nrmse.toFixed(1)} %), HFEN ${score.hfen.toFixed(1)} %, correlation ${score.correlation.toFixed(3)}, ROI slope ${score.fit.slope.toFixed(3)}`
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
  const store = memoryJobStore({ workRoot: join(scratch, 'jobs') })
  const started = performance.now()
  const result = await createRunner({ pipeline: pipeline(qsmNative()), store }).run(selection)
  const endToEnd = performance.now() - started
  const nativeScore = await scoreQsm(result.chi, truthDir)

  // 2. The native engine with the reference's steps (V-SHARP, RTS), timed per step.
  const gre = await loadGre(selection)
  const options = resolveQsmOptions({ background: 'vsharp' })
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

  // 3. The numpy reference on the same arrays and the native brain mask.
  const folder = join(scratch, 'numpy')
  rmSync(folder, { recursive: true, force: true })
  spawnSync('mkdir', ['-p', folder])
  gre.magnitudes.forEach((m, e) => writeFileSync(join(folder, `mag${e}.raw`), Buffer.from(m.buffer, m.byteOffset, m.byteLength)))
  gre.phases.forEach((p, e) => writeFileSync(join(folder, `phase${e}.raw`), Buffer.from(p.buffer, p.byteOffset, p.byteLength)))
  writeFileSync(join(folder, 'mask.raw'), Buffer.from(Float32Array.from(arrays.brainMask).buffer))
  writeFileSync(join(folder, 'input.json'), JSON.stringify({ shape: gre.dims, voxelSizeMm: gre.voxelSizeMm, b0DirectionVoxel: gre.b0DirectionVoxel, echoTimesMs: gre.echoTimesMs, larmorMHz: gre.larmorMHz, vsharpRadiiMm: DEFAULT_VSHARP_RADII_MM, admmIterations: Number(values.admm) }))
  const pyStarted = performance.now()
  const run = spawnSync(python, [resolve(import.meta.dirname, 'qsm_reference.py'), folder], { encoding: 'utf8' })
  const pyTotal = performance.now() - pyStarted
  if (run.status !== 0) throw new Error(`the numpy reference failed (needs ${python} with numpy): ${run.stderr}`)
  const reference = JSON.parse(readFileSync(join(folder, 'timings.json'), 'utf8')) as { timings: Record<string, number>; numpy: string }
  const raw = readFileSync(join(folder, 'chi.raw'))
  const numpyChi = join(scratch, 'numpy.nii')
  await writeNifti(numpyChi, { data: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), dims: gre.dims, affine: gre.affine })
  const numpyScore = await scoreQsm(numpyChi, truthDir)

  const t = arrays.timings
  const n = reference.timings
  const rows: [string, number, number][] = [
    ['Laplacian unwrap (4 echoes)', t.unwrap ?? 0, n.unwrap ?? 0],
    ['weighted field fit', t.fit ?? 0, n.fit ?? 0],
    [`V-SHARP (radii ${DEFAULT_VSHARP_RADII_MM.join(', ')} mm)`, t.background ?? 0, n.background ?? 0],
    [`inversion: RTS (native) / TKD + ${values.admm} TV-ADMM (numpy)`, t.inversion ?? 0, (n.tkd ?? 0) + (n['tv-admm'] ?? 0)],
  ]
  console.log(`\nexam ${gre.dims.join('x')}x${gre.echoTimesMs.length} at ${gre.voxelSizeMm[0]} mm${values.oblique ? ', oblique' : ''}; numpy ${reference.numpy}`)
  console.log('step'.padEnd(52), 'native ms'.padStart(10), 'numpy ms'.padStart(10), 'numpy/native'.padStart(13))
  for (const [name, native, numpy] of rows) console.log(name.padEnd(52), String(native).padStart(10), String(numpy).padStart(10), (numpy / Math.max(1, native)).toFixed(2).padStart(13))
  const nativeSteps = rows.reduce((sum, r) => sum + r[1], 0)
  const numpySteps = rows.reduce((sum, r) => sum + r[2], 0)
  console.log('all four steps'.padEnd(52), String(nativeSteps).padStart(10), String(numpySteps).padStart(10), (numpySteps / nativeSteps).toFixed(2).padStart(13))
  const numpyIteration = (n['tv-admm'] ?? 0) / Number(values.admm)
  console.log('one TV-ADMM iteration'.padEnd(52), perIteration.toFixed(0).padStart(10), numpyIteration.toFixed(0).padStart(10), (numpyIteration / perIteration).toFixed(2).padStart(13))
  console.log(`  (native box ${box.shape.join('x')}, numpy the whole ${gre.dims.join('x')} grid)`)
  console.log(`numpy process wall time (start, read, steps, write): ${Math.round(pyTotal)} ms`)
  console.log(`\nnative stage end to end (index excluded; load, mask, unwrap, fit, PDF, RTS, write, chi onto the T1): ${Math.round(endToEnd)} ms`)
  console.log(`  per step: ${JSON.stringify(result.timings)}`)
  console.log(`  peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`)
  console.log('\nscores against the truth:')
  console.log(`  native default (PDF + RTS): ${line(nativeScore)}`)
  console.log(`  native V-SHARP + RTS:       ${line(vsharpScore)}`)
  console.log(`  numpy V-SHARP + TKD + TV:   ${line(numpyScore)}`)
}

try {
  await main()
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

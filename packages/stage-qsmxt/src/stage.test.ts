// The stage end to end through stand-in tools: every step's command line, the BIDS layout, the outputs and their geometry.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRunner, memoryJobStore, pipeline } from '@pacsflow/core'
import { apply, invertAffine, multiply, readNifti, readNiftiHeader, scaledData, type Mat4, type QsmDicomInput, type QsmNiftiInput } from '@pacsflow/imaging'
import { testDataDir } from '@pacsflow/testkit'
import { antsApplyTransformsArgs, hdBetArgs, qsmxtArgs } from './command-lines.js'
import { qsmxt, type QsmxtOptions, type QsmxtResult } from './index.js'
import { GRE_AFFINE, realExam, stageContext } from './test-support/fixtures.js'
import { withEnv } from './test-support/stand-ins.js'
import { standInWorld } from './test-support/world.js'
import { eulerMatrix, lpsToRasTransform } from './transforms.js'

const world = standInWorld('stage')
let jobs = 0

/** Runs a fresh stage on a fresh workDir with stand-in knobs set for the run; returns the result and the workDir. */
async function run(options: QsmxtOptions, input: QsmNiftiInput | QsmDicomInput, knobs: Record<string, string> = {}, slots: Record<string, number[]> = { gpu: [0] }) {
  const workDir = join(world.root, `job-${++jobs}`)
  const before = world.tools.invocations().length
  const reset = withEnv(knobs)
  try {
    const result = await qsmxt({ converter: 'native', registration: 'ants', ...options }).run(input, stageContext(workDir, { slots }))
    return { result, workDir, calls: world.tools.invocations().slice(before) }
  } finally {
    reset()
  }
}

/** The values of a NIfTI file, with its header. */
async function load(path: string) {
  const image = await readNifti(path)
  return { header: image.header, values: scaledData(image) }
}

/** The stand-in's map: 0.1 * x / nx inside its mask (an ellipsoid over 70% of each axis), 0 outside. */
function insideEllipsoid(dims: readonly number[], v: readonly number[], margin = 0.8): boolean {
  return v.reduce((sum, x, axis) => sum + ((x - (dims[axis]! - 1) / 2) / (0.35 * dims[axis]!)) ** 2, 0) <= margin
}

describe('qsmxt stage, NIfTI echoes, QSMxT v9 and HD-BET v2', () => {
  let outcome: Awaited<ReturnType<typeof run>>

  beforeAll(async () => {
    outcome = await run({}, world.echoes, { STANDIN_QSMXT_VERSION: '9.13.0', STANDIN_HDBET_VERSION: '2' })
  })

  it('returns the shared QsmResult with the magnitude as target', () => {
    const result: QsmxtResult = outcome.result
    expect(result).toMatchObject({ engine: 'qsmxt', target: { role: 'magnitude' }, fieldStrengthT: 3, echoTimesMs: [4, 8] })
    expect(result.target.series).toBeUndefined()
    expect(result.chiOnTarget).toBe(result.chi)
    expect(Object.keys(result.timings)).toEqual(['convert', 'skullStrip', 'qsmxt', 'result'])
    expect(result.tools.map((t) => [t.tool, t.version])).toEqual([['hdBet', '2'], ['qsmxt', '9.13.0'], ['antsRegistration', '2.5.4.standin']])
    expect(result.registration).toBeUndefined()
    expect(JSON.parse(JSON.stringify(result))).toEqual(result)
  })

  it('lays the echoes out as BIDS with the sidecar fields QSMxT reads', () => {
    const anat = join(outcome.workDir, 'convert', 'bids', 'sub-01', 'ses-01', 'anat')
    for (const [echo, te] of [[1, 0.004], [2, 0.008]] as const) {
      expect(existsSync(join(anat, `sub-01_ses-01_echo-${echo}_part-mag_MEGRE.nii`))).toBe(true)
      expect(existsSync(join(anat, `sub-01_ses-01_echo-${echo}_part-phase_MEGRE.nii.gz`))).toBe(true)
      const sidecar = JSON.parse(readFileSync(join(anat, `sub-01_ses-01_echo-${echo}_part-phase_MEGRE.json`), 'utf8')) as Record<string, unknown>
      expect(sidecar).toMatchObject({ EchoTime: te, MagneticFieldStrength: 3 })
    }
  })

  it('runs HD-BET on the magnitude and QSMxT with that mask, on GPU 0', () => {
    const strip = join(outcome.workDir, 'skull-strip')
    const [hdBet, qsm] = outcome.calls
    expect(outcome.calls.map((c) => c.tool)).toEqual(['hd-bet', 'qsmxt'])
    expect(hdBet!.argv).toEqual(hdBetArgs(2, { input: join(strip, 'input.nii.gz'), output: join(strip, 'brain.nii.gz'), gpu: { device: 0 }, tta: false, mode: 'fast' }))
    expect(hdBet!.cuda).toBe('0')
    const step = join(outcome.workDir, 'qsmxt')
    expect(qsm!.argv).toEqual(qsmxtArgs(9, { bidsDir: join(step, 'bids'), outDir: join(step, 'out'), premade: 'gre', maskPipeline: 'pacsflow' }))
    expect(qsm!.cuda).toBe('0')
    const masks = world.tools.notes('qsmxt').filter((n) => n.pid === qsm!.pid)
    expect(masks[0]?.maskUsed).toBe(join(step, 'bids', 'derivatives', 'pacsflow', 'sub-01', 'ses-01', 'anat', 'sub-01_ses-01_mask.nii'))
  })

  it('writes chi (float32, ppm) and the mask (uint8) on the GRE grid, and the local field', async () => {
    const { result } = outcome
    const chi = await load(result.chi)
    const mask = await load(result.mask)
    expect(chi.header.datatype).toBe('float32')
    expect(mask.header.datatype).toBe('uint8')
    for (const image of [chi, mask]) {
      expect(image.header.dims).toEqual([16, 16, 12])
      expect(image.header.affine).toEqual(GRE_AFFINE)
    }
    let inside = 0
    for (let i = 0; i < chi.values.length; i++) {
      const x = i % 16
      expect(mask.values[i] === 0 || mask.values[i] === 1).toBe(true)
      expect(chi.values[i]).toBeCloseTo(mask.values[i] === 1 ? (0.1 * x) / 16 : 0, 6)
      inside += mask.values[i]!
    }
    expect(inside).toBeGreaterThan(200)
    expect(result.localField).toBeDefined()
    expect((await readNiftiHeader(result.localField!)).dims).toEqual([16, 16, 12])
  })

  it('keeps every tool run in <workDir>/logs', () => {
    const log = readFileSync(join(outcome.workDir, 'logs', 'qsmxt.log'), 'utf8')
    expect(log).toContain('"qsmxt","run"')
    expect(log).toMatch(/# exit 0/)
    expect(existsSync(join(outcome.workDir, 'logs', 'skull-strip.log'))).toBe(true)
  })
})

describe('GPU slots and the CPU', () => {
  it('hands the runner slot, mapped through gpuDevices, to HD-BET and QSMxT', async () => {
    const { calls } = await run({ gpuDevices: [3, 5] }, world.echoes, {}, { gpu: [1] })
    expect(calls.map((c) => [c.tool, c.cuda])).toEqual([['hd-bet', '5'], ['qsmxt', '5']])
  })

  it("runs everything on the CPU with device: 'cpu' and holds no gpu slot", async () => {
    expect(qsmxt({ device: 'cpu' }).resources).toBeUndefined()
    expect(qsmxt({}).resources).toEqual({ gpu: 1 })
    const { calls } = await run({ device: 'cpu' }, world.echoes, { STANDIN_HDBET_VERSION: '1' }, {})
    expect(calls[0]!.argv).toContain('cpu')
    expect(calls.map((c) => c.cuda)).toEqual(['', ''])
  })

  it('runs HD-BET again on the CPU when the GPU run fails and cpuFallback is set', async () => {
    const { calls, result } = await run({ cpuFallback: true }, world.echoes, { STANDIN_GPU_FAIL: '1' })
    const hdBet = calls.filter((c) => c.tool === 'hd-bet')
    expect(hdBet.map((c) => c.argv[c.argv.indexOf('-device') + 1])).toEqual(['cuda', 'cpu'])
    expect(existsSync(result.mask)).toBe(true)
  })

  it('fails without cpuFallback when the GPU run fails', async () => {
    await expect(run({}, world.echoes, { STANDIN_GPU_FAIL: '1' })).rejects.toMatchObject({ code: 'QSMXT_TOOL_FAILED', details: { tool: 'hdBet' } })
  })
})

describe('containers', () => {
  it('runs QSMxT in Apptainer and HD-BET in Docker, the job folder bound at the same path', async () => {
    const sif = join(world.root, 'qsmxt_8.3.4.sif')
    writeFileSync(sif, 'image')
    const { calls, workDir } = await run(
      { tools: { qsmxt: { runtime: 'apptainer', image: sif }, hdBet: { runtime: 'docker', image: 'pacsflow/hd-bet:2' } } },
      world.echoes,
      { STANDIN_QSMXT_VERSION: '8.3.4' },
      { gpu: [2] },
    )
    expect(calls.map((c) => c.tool)).toEqual(['docker', 'hd-bet', 'apptainer', 'qsmxt'])
    const [docker, hdBet, apptainer, qsm] = calls
    expect(docker!.argv.slice(0, 9)).toEqual(['run', '--rm', '--init', '--name', 'pacsflow-job-1-skull-strip', '--user', `${process.getuid!()}:${process.getgid!()}`, '--gpus', 'device=2'])
    expect(docker!.argv).toContain(`${workDir}:${workDir}`)
    expect(hdBet!.cuda).toBe('0')
    expect(apptainer!.argv.slice(0, 3)).toEqual(['run', '--cleanenv', '--nv'])
    expect(apptainer!.argv).toEqual(expect.arrayContaining(['--bind', `${workDir}:${workDir}`, '--env', 'CUDA_VISIBLE_DEVICES=2', sif, 'qsmxt', '--auto_yes']))
    expect(qsm!.cuda).toBe('2')
    expect(qsm!.argv.slice(0, 5)).toEqual([join(workDir, 'qsmxt', 'bids'), join(workDir, 'qsmxt', 'out'), '--premade', 'gre', '--auto_yes'])
  })
})

describe('DICOM exam (real Philips GRE and Siemens T1), QSMxT v8, HD-BET v1, registration', () => {
  const dataDir = testDataDir()
  let exam: QsmDicomInput
  // A known rigid map for the stand-in registration tools: LPS, ITK Euler (Rz Rx Ry) about a centre.
  const standIn = { angles: [0.04, -0.03, 0.08] as [number, number, number], translation: [3, -2, 1.5] as [number, number, number], center: [5, -20, 10] as [number, number, number] }
  const expectedRas = (): Mat4 => {
    const m = eulerMatrix(...standIn.angles)
    const row = (r: number) => [m[r]![0]!, m[r]![1]!, m[r]![2]!, standIn.translation[r]! + standIn.center[r]! - (m[r]![0]! * standIn.center[0] + m[r]![1]! * standIn.center[1] + m[r]![2]! * standIn.center[2])]
    return lpsToRasTransform([row(0), row(1), row(2), [0, 0, 0, 1]] as unknown as Mat4)
  }

  // Real data through stand-in tools and real resampling: seconds alone, far more on a loaded CI
  // machine (one run passed 20 s), so a minute each.
  beforeAll(async () => {
    if (dataDir !== undefined) exam = await realExam(join(world.root, 'exam'))
  }, 60_000)

  it.skipIf(dataDir === undefined)('registers the T1 with ANTs, puts the mask on the GRE grid and chi on the T1 grid', async () => {
    const { result, calls, workDir } = await run({}, exam, { STANDIN_QSMXT_VERSION: '8.3.4', STANDIN_HDBET_VERSION: '1', STANDIN_TRANSFORM: JSON.stringify(standIn) })
    expect(calls.map((c) => c.tool)).toEqual(['hd-bet', 'antsRegistration', 'qsmxt'])
    expect(result.target).toMatchObject({ role: 't1', volumeId: exam.t1!.volumes[0]!.id })
    expect(result.target.series?.seriesInstanceUid).toBe(exam.t1!.series.seriesInstanceUid)
    expect(result.echoTimesMs).toEqual([2.3, 4.6])
    expect(result.registration?.method).toBe('ants')
    const t1Map = result.registration!.t1!
    expectedRas().forEach((row, r) => row.forEach((value, c) => expect(t1Map[r]![c]).toBeCloseTo(value, 9)))
    const qsmArgs = calls[2]!.argv
    expect(qsmArgs).toEqual(qsmxtArgs(8, { bidsDir: join(workDir, 'qsmxt', 'bids'), outDir: join(workDir, 'qsmxt', 'out'), premade: 'gre', maskPipeline: 'pacsflow' }))

    const gre = await readNiftiHeader(join(workDir, 'convert', 'bids', 'sub-01', 'ses-01', 'anat', 'sub-01_ses-01_echo-1_part-mag_MEGRE.nii'))
    const t1 = await readNiftiHeader(join(workDir, 'convert', 'bids', 'sub-01', 'ses-01', 'anat', 'sub-01_ses-01_T1w.nii.gz'))
    const chi = await load(result.chi)
    const onT1 = await load(result.chiOnTarget)
    const mask = await load(result.mask)
    expect(chi.header.dims).toEqual(gre.dims.slice(0, 3))
    expect(mask.header.dims).toEqual(gre.dims.slice(0, 3))
    expect(onT1.header.dims).toEqual(t1.dims.slice(0, 3))
    expect(onT1.header.affine).toEqual(t1.affine)
    // The mask: GRE voxels whose image under the transform lands deep inside the T1's HD-BET ellipsoid are 1.
    const toT1Voxel = multiply(invertAffine(t1.affine), multiply(t1Map, gre.affine))
    const [gx, gy] = gre.dims as [number, number]
    let checkedMask = 0
    for (let i = 0; i < mask.values.length; i += 97) {
      const v = [i % gx, Math.floor(i / gx) % gy, Math.floor(i / (gx * gy))] as const
      const u = apply(toT1Voxel, v)
      if (insideEllipsoid(t1.dims, u, 0.8)) {
        expect(mask.values[i]).toBe(1)
        checkedMask++
      } else if (!insideEllipsoid(t1.dims, u, 1.2)) expect(mask.values[i]).toBe(0)
    }
    expect(checkedMask).toBeGreaterThan(50)
    // chi on the T1: at T1 voxel u the GRE index is v = A_gre^-1 T^-1 A_t1 u; the stand-in's map is linear in x inside its mask.
    const toGreVoxel = invertAffine(toT1Voxel)
    const [tx, ty] = t1.dims as [number, number]
    let checkedChi = 0
    for (let i = 0; i < onT1.values.length; i += 211) {
      const u = [i % tx, Math.floor(i / tx) % ty, Math.floor(i / (tx * ty))] as const
      const v = apply(toGreVoxel, u)
      if (!insideEllipsoid(gre.dims, v, 0.6)) continue
      // Only where all eight trilinear neighbours are inside the GRE mask (the map is 0 outside).
      const corners = [0, 1].flatMap((a) => [0, 1].flatMap((b) => [0, 1].map((c) => [Math.floor(v[0]) + a, Math.floor(v[1]) + b, Math.floor(v[2]) + c])))
      if (!corners.every((corner) => mask.values[corner[0]! + gx * (corner[1]! + gy * corner[2]!)] === 1)) continue
      expect(onT1.values[i]).toBeCloseTo((0.1 * v[0]) / gx, 4)
      checkedChi++
    }
    expect(checkedChi).toBeGreaterThan(100)
  }, 60_000)

  it.skipIf(dataDir === undefined)('aligns to the FGATIR when given (elastix), and can resample with antsApplyTransforms', async () => {
    const { result, calls } = await run({ registration: 'elastix' }, { ...exam, fgatir: exam.t1! }, { STANDIN_TRANSFORM: JSON.stringify(standIn) })
    expect(calls.map((c) => c.tool)).toEqual(['hd-bet', 'elastix', 'elastix', 'qsmxt'])
    expect(result.target.role).toBe('fgatir')
    expect(Object.keys(result.timings)).toEqual(['convert', 'skullStrip', 'register', 'registerFgatir', 'qsmxt', 'result'])
    expect(result.registration?.method).toBe('elastix')
    // The stand-in elastix writes the same map in EulerTransform parameters (6 decimals).
    expectedRas().forEach((row, r) => row.forEach((value, c) => expect(result.registration!.fgatir![r]![c]).toBeCloseTo(value, 5)))

    const viaAnts = await run({ resampler: 'ants' }, exam, { STANDIN_TRANSFORM: JSON.stringify(standIn) })
    const apply2 = viaAnts.calls.filter((c) => c.tool === 'antsApplyTransforms')
    const register = join(viaAnts.workDir, 'register')
    const anat = join(viaAnts.workDir, 'convert', 'bids', 'sub-01', 'ses-01', 'anat')
    expect(apply2.map((c) => c.argv)).toEqual([
      antsApplyTransformsArgs({ input: join(viaAnts.workDir, 'skull-strip', 'brain_bet.nii.gz'), reference: join(anat, 'sub-01_ses-01_echo-1_part-mag_MEGRE.nii'), output: join(register, 'mask-gre-ants.nii.gz'), interpolation: 'NearestNeighbor', transform: join(register, 'ants_0GenericAffine.mat'), inverse: false }),
      antsApplyTransformsArgs({ input: join(viaAnts.workDir, 'qsmxt', 'out', 'derivatives', 'qsmxt', 'sub-01', 'ses-01', 'anat', 'sub-01_ses-01_Chimap.nii'), reference: join(anat, 'sub-01_ses-01_T1w.nii.gz'), output: join(viaAnts.workDir, 'result', 'chi-on-target-ants.nii.gz'), interpolation: 'Linear', transform: join(register, 'ants_0GenericAffine.mat'), inverse: true }),
    ])
    expect((await readNiftiHeader(viaAnts.result.chiOnTarget)).dims).toEqual([96, 128, 128])
  }, 60_000)
})

describe('in a pipeline', () => {
  it('runs under the runner, which grants the gpu slot it declares', async () => {
    const stage = qsmxt({ converter: 'native', registration: 'ants' })
    expect(() => createRunner({ pipeline: pipeline(stage), store: memoryJobStore() })).toThrow(/resource 'gpu'/)
    const runner = createRunner({ pipeline: pipeline(stage), store: memoryJobStore(), resources: { gpu: 2 }, retry: { maxAttempts: 1 } })
    const before = world.tools.invocations().length
    const result = await runner.run(world.echoes, { jobId: 'pipeline-job' })
    await runner.stop()
    expect(result.engine).toBe('qsmxt')
    expect(existsSync(result.chi)).toBe(true)
    expect(world.tools.invocations().slice(before).map((c) => c.cuda)).toEqual(['0', '0'])
  }, 60_000)
})

// What goes wrong, coded: missing tools at creation, bad versions at check(), bad input, failing or silent tools, cancellation.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isAbortError, isPacsflowError, sleep } from '@pacsflow/core'
import type { DicomVolume, QsmDicomInput, QsmNiftiInput, SelectedSeries } from '@pacsflow/imaging'
import { planInput } from './input.js'
import { qsmxt, type QsmxtOptions } from './index.js'
import { processAlive, stageContext, syntheticEchoes } from './test-support/fixtures.js'
import { installStandIns, withEnv } from './test-support/stand-ins.js'
import { standInWorld } from './test-support/world.js'

const world = standInWorld('failures')
let jobs = 0

const base: QsmxtOptions = { converter: 'native', registration: 'ants', killGraceMs: 500 }

async function run(options: QsmxtOptions, input: QsmNiftiInput, knobs: Record<string, string> = {}, workDir = join(world.root, `job-${++jobs}`), signal?: AbortSignal) {
  const reset = withEnv(knobs)
  try {
    return await qsmxt({ ...base, ...options }).run(input, stageContext(workDir, signal === undefined ? {} : { signal }))
  } finally {
    reset()
  }
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  if (!isPacsflowError(error)) throw new Error(`expected a PacsflowError, got ${String(error)}`)
  return { code: error.code, message: error.message, details: (error.details ?? {}) as Record<string, unknown> }
}

describe('missing and unsupported tools', () => {
  it('refuses at creation when a tool is not installed, naming each one', () => {
    const reset = withEnv({ PATH: '/nonexistent' })
    try {
      qsmxt({ converter: 'dcm2niix', registration: 'elastix' })
      expect.unreachable()
    } catch (error) {
      expect(isPacsflowError(error, 'QSMXT_TOOL_MISSING')).toBe(true)
      const missing = (error as { details: { missing: { tool: string }[] } }).details.missing.map((m) => m.tool)
      expect(missing).toEqual(['dcm2niix', 'hdBet', 'qsmxt', 'elastix'])
    } finally {
      reset()
    }
  })

  it('checks container runtimes and Apptainer image files instead of the tools themselves', () => {
    expect(() => qsmxt({ ...base, tools: { qsmxt: { runtime: 'apptainer', image: join(world.root, 'absent.sif') } } })).toThrow(/absent.sif does not exist/)
    expect(() => qsmxt({ ...base, tools: { qsmxt: { runtime: 'apptainer' } } })).toThrow(/give tools.qsmxt.image/)
    expect(() => qsmxt({ ...base, tools: { qsmxt: { runtime: 'apptainer', image: 'docker://vnmd/qsmxt_8.3.4' } } })).not.toThrow()
  })

  it("picks ANTs for registration 'auto' when it is installed, else elastix", async () => {
    expect((await qsmxt({ converter: 'native' }).check()).registration).toBe('ants')
    const partial = installStandIns(join(world.root, 'partial'), ['qsmxt', 'hd-bet', 'elastix'])
    const reset = withEnv({ PATH: `${partial.binDir}:${process.env.PATH!.split(':').filter((dir) => dir !== world.tools.binDir).join(':')}` })
    try {
      expect((await qsmxt({ converter: 'native' }).check()).registration).toBe('elastix')
    } finally {
      reset()
    }
  })

  it('check() reports versions, and fails QSMXT_TOOL_VERSION for a QSMxT older than v8', async () => {
    const report = await qsmxt(base).check()
    expect(report).toMatchObject({ qsmxtCli: 9, hdBetCli: 2, registration: 'ants', qsmxtCustomMasks: true })
    const reset = withEnv({ STANDIN_QSMXT_VERSION: '7.2.2' })
    try {
      expect(await failure(qsmxt(base).check())).toMatchObject({ code: 'QSMXT_TOOL_VERSION' })
    } finally {
      reset()
    }
  })

  it('takes pinned CLI generations without probing those tools', async () => {
    const before = world.tools.invocations(undefined, true).length
    const report = await qsmxt({ ...base, qsmxtVersion: 8, hdBetVersion: 1 }).check()
    expect(report).toMatchObject({ qsmxtCli: 8, hdBetCli: 1 })
    expect(world.tools.invocations(undefined, true).slice(before).map((c) => c.tool)).toEqual(['antsRegistration'])
  })
})

describe('bad input', () => {
  it('mismatched magnitude/phase grids: QSM_INPUT before any tool runs', async () => {
    const odd = await syntheticEchoes(join(world.root, 'odd'), { phaseDims: [16, 16, 10] })
    const before = world.tools.invocations().length
    expect(await failure(run({}, odd))).toMatchObject({ code: 'QSM_INPUT', message: expect.stringMatching(/mismatched magnitude\/phase grids/) })
    expect(world.tools.invocations().length).toBe(before)
  })

  it('a missing echo file, no echoes, or no field strength: QSM_INPUT', async () => {
    const missing = { ...world.echoes, echoes: [world.echoes.echoes[0]!, { ...world.echoes.echoes[1]!, phase: join(world.root, 'gone.nii') }] }
    expect(await failure(run({}, missing))).toMatchObject({ code: 'QSM_INPUT', message: expect.stringMatching(/missing echoes/) })
    expect(() => planInput({ ...world.echoes, echoes: [] })).toThrow(/no echoes/)
    expect(() => planInput({ ...world.echoes, fieldStrengthT: 0 })).toThrow(/fieldStrengthT/)
  })

  it('DICOM echoes that do not pair up: QSM_INPUT naming the echoes', () => {
    const volume = (id: string, echoNumber: number, echoTime: number, component: 'magnitude' | 'phase'): DicomVolume =>
      ({ id, seriesInstanceUid: '1.2', echoNumber, echoTime, complexComponent: component, rows: 4, columns: 4, slices: 2, affineLps: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] }) as unknown as DicomVolume
    const series = { seriesInstanceUid: '1.2', instances: [{ magneticFieldStrength: 3 }] } as unknown as SelectedSeries['series']
    const selected = (role: string, volumes: DicomVolume[]): SelectedSeries => ({ role, series, volumes })
    const input: QsmDicomInput = {
      magnitude: selected('magnitude', [volume('e1-m', 1, 5, 'magnitude'), volume('e2-m', 2, 10, 'magnitude')]),
      phase: selected('phase', [volume('e1-p', 1, 5, 'phase')]),
    }
    expect(() => planInput(input)).toThrow(/missing echoes: the magnitude has 2 echoes and the phase 1/)
    const shifted = { ...input, phase: selected('phase', [volume('e1-p', 1, 5, 'phase'), volume('e2-p', 2, 12, 'phase')]) }
    expect(() => planInput(shifted)).toThrow(/no phase at the same TE/)
    const offGrid = { ...volume('e2-p', 2, 10, 'phase'), rows: 8 } as DicomVolume
    expect(() => planInput({ ...input, phase: selected('phase', [volume('e1-p', 1, 5, 'phase'), offGrid]) })).toThrow(/grids of echo 2 differ/)
    expect(planInput({ ...input, phase: selected('phase', [volume('e1-p', 1, 5, 'phase'), volume('e2-p', 2, 10, 'phase')]) }).echoes.map((e) => e.echoTimeMs)).toEqual([5, 10])
  })
})

describe('tools that fail or write nothing', () => {
  it('a tool that exits non-zero: QSMXT_TOOL_FAILED with its log attached', async () => {
    const workDir = join(world.root, 'fails')
    const error = await failure(run({}, world.echoes, { STANDIN_FAIL: 'qsmxt' }, workDir))
    expect(error.code).toBe('QSMXT_TOOL_FAILED')
    expect(error.details).toMatchObject({ tool: 'qsmxt', step: 'qsmxt', exitCode: 1, log: join(workDir, 'logs', 'qsmxt.log') })
    expect(error.details.logTail).toEqual(expect.arrayContaining(['qsmxt: simulated failure (STANDIN_FAIL)']))
    expect(readFileSync(join(workDir, 'logs', 'qsmxt.log'), 'utf8')).toContain('simulated failure')
  })

  it('QSMxT that writes no Chimap, or HD-BET no mask: QSMXT_TOOL_OUTPUT naming the expected file', async () => {
    const noChimap = await failure(run({}, world.echoes, { STANDIN_NO_OUTPUT: 'qsmxt' }))
    expect(noChimap).toMatchObject({ code: 'QSMXT_TOOL_OUTPUT', message: expect.stringMatching(/wrote no Chimap/) })
    expect(noChimap.details.expected).toMatch(/derivatives\/qsmxt\/sub-01\/ses-01\/anat\/sub-01_ses-01_Chimap\.nii$/)
    expect(noChimap.details.logTail).toBeInstanceOf(Array)
    const noMask = await failure(run({}, world.echoes, { STANDIN_NO_OUTPUT: 'hd-bet' }))
    expect(noMask).toMatchObject({ code: 'QSMXT_TOOL_OUTPUT', details: { tool: 'hdBet', expected: expect.stringMatching(/brain_bet\.nii\.gz$/) } })
  })

  it('an argument the tool rejects fails the step (the stand-ins exit 2 as the real CLIs do)', async () => {
    const error = await failure(run({ tools: { qsmxt: { args: ['--no-such-flag'] } } }, world.echoes))
    expect(error).toMatchObject({ code: 'QSMXT_TOOL_FAILED', details: { exitCode: 2 } })
    expect(error.details.logTail).toEqual(expect.arrayContaining(['qsmxt: error: unrecognized arguments: --no-such-flag']))
  })
})

describe('cancellation', () => {
  it('kills the running tool and its children, fails ABORTED, and the job resumes from that step', async () => {
    const hangFile = join(world.root, 'hang.json')
    const workDir = join(world.root, 'cancelled')
    const controller = new AbortController()
    const before = world.tools.invocations().length
    const running = run({}, world.echoes, { STANDIN_HANG: 'qsmxt', STANDIN_HANG_FILE: hangFile }, workDir, controller.signal)
    for (let waited = 0; !existsSync(hangFile) && waited < 15_000; waited += 20) await sleep(20)
    const { pid, child } = JSON.parse(readFileSync(hangFile, 'utf8')) as { pid: number; child: number }
    expect(processAlive(pid) && processAlive(child)).toBe(true)
    controller.abort()
    const error = await running.then(() => undefined, (e: unknown) => e)
    expect(isAbortError(error)).toBe(true)
    for (let waited = 0; (processAlive(pid) || processAlive(child)) && waited < 5000; waited += 20) await sleep(20)
    expect(processAlive(pid)).toBe(false)
    expect(processAlive(child)).toBe(false)
    expect(existsSync(join(workDir, 'qsmxt', '.complete.json'))).toBe(false)

    await run({}, world.echoes, {}, workDir)
    const calls = world.tools.invocations().slice(before).map((c) => c.tool)
    expect(calls).toEqual(['hd-bet', 'qsmxt', 'qsmxt'])
  })

  it('removes a cancelled Docker container by name', async () => {
    const hangFile = join(world.root, 'hang-docker.json')
    const controller = new AbortController()
    const running = run({ tools: { qsmxt: { runtime: 'docker', image: 'vnmd/qsmxt:8' } } }, world.echoes, { STANDIN_HANG: 'qsmxt', STANDIN_HANG_FILE: hangFile, STANDIN_QSMXT_VERSION: '8.3.4' }, join(world.root, 'cancelled-docker'), controller.signal)
    for (let waited = 0; !existsSync(hangFile) && waited < 15_000; waited += 20) await sleep(20)
    controller.abort()
    expect(isAbortError(await running.then(() => undefined, (e: unknown) => e))).toBe(true)
    const removed = world.tools.notes('docker').filter((n) => Array.isArray(n.removed)).map((n) => n.removed)
    expect(removed).toContainEqual(['pacsflow-job-1-qsmxt'])
  })
})

describe('options', () => {
  it('refuses bad options at creation with INVALID_OPTIONS', () => {
    const bad: QsmxtOptions[] = [
      { runtime: 'podman' as never },
      { tools: { fsl: {} } as never },
      { tools: { qsmxt: { command: 'qsmxt --flag' } } },
      { tools: { qsmxt: { args: '--x' as never } } },
      { resampler: 'ants', registration: 'elastix' },
      { gpuDevices: [-1] },
      { threads: 0 },
      { premade: 'a b' },
      { docker: { user: 'root; rm' } },
      { hdBetVersion: 3 as never },
    ]
    for (const options of bad) expect(() => qsmxt({ ...base, ...options }), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
  })

  it('names the stage and declares its policies', () => {
    const stage = qsmxt({ ...base, name: 'qsm', timeoutMs: 3_600_000, retry: { maxAttempts: 2 } })
    expect(stage).toMatchObject({ name: 'qsm', timeoutMs: 3_600_000, retry: { maxAttempts: 2 } })
  })
})

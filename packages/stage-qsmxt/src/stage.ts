// The `qsmxt` stage: QSM input in, QsmResult out, through dcm2niix, HD-BET, ANTs or elastix and QSMxT, step by resumable step.
import { defineStage, silentLogger, type Logger, type Stage, type StageContext } from '@pacsflow/core'
import type { Mat4, QsmInput, QsmResult, QsmTarget, SelectedSeries } from '@pacsflow/imaging'
import type { GpuUse } from './command-lines.js'
import { convertInput, CONVERT_STEP, echoKey, type ConvertData } from './convert.js'
import { assertInstalled, missingFor } from './executables.js'
import { planInput, type InputPlan } from './input.js'
import type { DetectedTools, Job } from './job.js'
import { assertImages, resolveOptions, type QsmxtOptions, type ResolvedOptions, type ResolvedTool } from './options.js'
import { QSMXT_STEP, runQsmxt, type QsmxtRunData } from './qsmxt-run.js'
import { maskOntoGre, registerToGre, type RegistrationData } from './register.js'
import { buildResult, RESULT_STEP, type AlignmentTarget } from './result.js'
import type { ToolEnvironment } from './run-tool.js'
import { SKULL_STRIP_STEP, skullStrip, type SkullStripData } from './skull-strip.js'
import { runStep, type StepOutcome } from './steps.js'
import { probeTools, type ToolVersion } from './versions.js'

/** What the stage returns: the shared QsmResult, plus which tools ran and the transforms found. */
export interface QsmxtResult extends QsmResult {
  readonly engine: 'qsmxt'
  readonly tools: readonly ToolVersion[]
  readonly registration?: {
    readonly method: 'ants' | 'elastix'
    /** GRE world to T1 world (RAS mm), as registered. */
    readonly t1?: Mat4
    readonly fgatir?: Mat4
  }
}

/** The tools as `check()` found them. */
export type QsmxtToolReport = DetectedTools

export interface QsmxtStage extends Stage<QsmInput, QsmxtResult> {
  /** Runs every tool's version probe (starting containers); throws `QSMXT_TOOL_MISSING` / `QSMXT_TOOL_VERSION`. */
  check(options?: { readonly log?: Logger; readonly signal?: AbortSignal }): Promise<QsmxtToolReport>
}

const PROBE_TIMEOUT_MS = 10 * 60_000

/**
 * The stage factory. Options are checked at once (`INVALID_OPTIONS`), and so is the presence of every
 * tool (or its container runtime and image): `QSMXT_TOOL_MISSING` at creation, not an hour into a job
 * (`checkTools: false` defers that to `check()` or the first run). With `device: 'gpu'` (default) the
 * stage asks the runner for one `gpu` slot.
 */
export function qsmxt(options: QsmxtOptions = {}): QsmxtStage {
  const resolved = resolveOptions(options)
  const registration = chooseRegistration(resolved)
  const required = requiredTools(resolved, registration)
  assertImages(required)
  if (resolved.checkTools) assertInstalled(required)
  let detected: Promise<DetectedTools> | undefined
  const detect = (log: Logger, signal: AbortSignal): Promise<DetectedTools> => {
    detected ??= detectTools(resolved, registration, required, log, signal).catch((error: unknown) => {
      detected = undefined
      throw error
    })
    return detected
  }
  const stage = defineStage<QsmInput, QsmxtResult>({
    name: resolved.name,
    ...(resolved.device === 'gpu' ? { resources: { gpu: 1 } } : {}),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    run: async (input, ctx) => {
      const plan = planInput(input)
      const tools = await detect(ctx.log, ctx.signal)
      return runJob(makeJob(ctx, resolved, tools), plan)
    },
  })
  return {
    ...stage,
    check: (opts = {}) => detect(opts.log ?? silentLogger, opts.signal ?? new AbortController().signal),
  }
}

/** `'auto'`: ANTs when antsRegistration can run here, else elastix. */
function chooseRegistration(options: ResolvedOptions): 'ants' | 'elastix' {
  if (options.registration !== 'auto') return options.registration
  return missingFor(options.tools.antsRegistration) === undefined ? 'ants' : 'elastix'
}

function requiredTools(options: ResolvedOptions, registration: 'ants' | 'elastix'): ResolvedTool[] {
  const { tools } = options
  return [
    ...(options.converter === 'dcm2niix' ? [tools.dcm2niix] : []),
    tools.hdBet,
    tools.qsmxt,
    ...(registration === 'ants' ? [tools.antsRegistration] : [tools.elastix]),
    ...(options.resampler === 'ants' ? [tools.antsApplyTransforms] : []),
  ]
}

function toolEnvironment(options: ResolvedOptions, log: Logger, signal: AbortSignal): ToolEnvironment {
  return {
    signal,
    log,
    settings: { apptainerVerb: options.apptainerVerb, apptainerArgs: options.apptainerArgs, dockerUser: options.dockerUser, dockerArgs: options.dockerArgs },
    toolLogLevel: options.toolLogLevel,
    killGraceMs: options.killGraceMs,
  }
}

async function detectTools(options: ResolvedOptions, registration: 'ants' | 'elastix', required: readonly ResolvedTool[], log: Logger, signal: AbortSignal): Promise<DetectedTools> {
  const probed = required.filter((tool) => !(tool.name === 'qsmxt' && options.qsmxtVersion !== undefined) && !(tool.name === 'hdBet' && options.hdBetVersion !== undefined))
  const env = toolEnvironment(options, log, AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]))
  const versions = await probeTools(env, probed, log)
  const qsmxtVersion = versions.find((v) => v.tool === 'qsmxt')
  const hdBet = versions.find((v) => v.tool === 'hdBet')
  return {
    qsmxtCli: options.qsmxtVersion ?? (qsmxtVersion?.cli as 8 | 9),
    qsmxtCustomMasks: qsmxtVersion?.customMasks ?? true,
    hdBetCli: options.hdBetVersion ?? (hdBet?.cli as 1 | 2),
    registration,
    versions: versions.map(({ customMasks: _, ...version }) => version),
  }
}

function makeJob(ctx: StageContext, options: ResolvedOptions, tools: DetectedTools): Job {
  const slot = ctx.slots.gpu?.[0]
  const gpu: GpuUse = options.device === 'cpu' ? 'cpu' : { device: options.gpuDevices?.[slot ?? 0] ?? slot ?? 0 }
  return {
    workDir: ctx.workDir,
    signal: ctx.signal,
    log: ctx.log,
    jobId: ctx.jobId,
    killGraceMs: options.killGraceMs,
    options,
    tools,
    gpu,
    environment: toolEnvironment(options, ctx.log, ctx.signal),
    progress: (fraction, note) => ctx.progress(fraction, note),
  }
}

/** The outcomes of the steps a result is assembled from. */
interface Outcomes {
  readonly converted: StepOutcome<ConvertData>
  readonly stripped: StepOutcome<SkullStripData>
  readonly t1?: StepOutcome<RegistrationData> | undefined
  readonly fgatir?: StepOutcome<RegistrationData> | undefined
  readonly qsm: StepOutcome<QsmxtRunData>
  readonly result: StepOutcome<Record<string, never>>
}

/** The steps in order; each one skipped when a previous run of the job completed it. */
async function runJob(job: Job, plan: InputPlan): Promise<QsmxtResult> {
  const converted = await runStep<ConvertData>(job, CONVERT_STEP, (dir) => convertInput(job, dir, plan))
  job.progress(0.05, 'converted to NIfTI')
  const gre = converted.outputs[echoKey(1, 'mag')]!
  const { t1: t1File, fgatir: fgatirFile } = converted.outputs
  const stripped = await runStep<SkullStripData>(job, SKULL_STRIP_STEP, (dir) => skullStrip(job, dir, t1File ?? gre, t1File === undefined ? 'magnitude' : 't1'))
  job.progress(0.15, 'brain extracted')
  const t1 =
    t1File === undefined
      ? undefined
      : await runStep<RegistrationData>(job, 'register', async (dir) => {
          const registered = await registerToGre(job, 'register', dir, gre, t1File)
          const mask = await maskOntoGre(job, 'register', dir, stripped.outputs.mask!, gre, { data: registered.data, transform: registered.outputs.transform! })
          return { outputs: { ...registered.outputs, mask }, data: registered.data }
        })
  const fgatir = fgatirFile === undefined ? undefined : await runStep<RegistrationData>(job, 'register-fgatir', (dir) => registerToGre(job, 'register-fgatir', dir, gre, fgatirFile))
  job.progress(0.25, 'registered')
  const greMask = t1?.outputs.mask ?? stripped.outputs.mask!
  const echoFiles = Object.entries(converted.outputs).filter(([key]) => key.startsWith('echo-')).map(([, path]) => path)
  const qsm = await runStep<QsmxtRunData>(job, QSMXT_STEP, (dir) => runQsmxt(job, dir, echoFiles, greMask))
  job.progress(0.9, 'QSMxT done')
  const aligned = fgatir ?? t1
  const target: AlignmentTarget | undefined =
    aligned === undefined ? undefined : { nifti: (fgatirFile ?? t1File)!, greToTarget: aligned.data.greToTarget, transformFile: aligned.outputs.transform! }
  const result = await runStep(job, RESULT_STEP, (dir) =>
    buildResult(job, dir, {
      chimap: qsm.outputs.chimap!,
      gre,
      mask: greMask,
      ...(qsm.outputs.localField === undefined ? {} : { localField: qsm.outputs.localField }),
      ...(target === undefined ? {} : { target }),
    }),
  )
  return assemble(job, plan, { converted, stripped, t1, fgatir, qsm, result })
}

/** The QsmxtResult from the steps' outcomes (timings are each step's wall time when it ran). */
function assemble(job: Job, plan: InputPlan, steps: Outcomes): QsmxtResult {
  const { converted, stripped, t1, fgatir, qsm, result } = steps
  const aligned = fgatir ?? t1
  return {
    engine: 'qsmxt',
    chi: result.outputs.chi!,
    chiOnTarget: result.outputs.chiOnTarget ?? result.outputs.chi!,
    mask: result.outputs.mask!,
    ...(result.outputs.localField === undefined ? {} : { localField: result.outputs.localField }),
    target: describeTarget(plan),
    fieldStrengthT: converted.data.fieldStrengthT,
    echoTimesMs: converted.data.echoes.map((echo) => echo.echoTimeMs),
    timings: {
      convert: converted.durationMs,
      skullStrip: stripped.durationMs,
      ...(t1 === undefined ? {} : { register: t1.durationMs }),
      ...(fgatir === undefined ? {} : { registerFgatir: fgatir.durationMs }),
      qsmxt: qsm.durationMs,
      result: result.durationMs,
    },
    tools: job.tools.versions,
    ...(aligned === undefined
      ? {}
      : {
          registration: {
            method: aligned.data.method,
            ...(t1 === undefined ? {} : { t1: t1.data.greToTarget }),
            ...(fgatir === undefined ? {} : { fgatir: fgatir.data.greToTarget }),
          },
        }),
  }
}

/** The FGATIR when given, else the T1, else the GRE magnitude (the seed's choice of target). */
function describeTarget(plan: InputPlan): QsmTarget {
  const pick = (role: QsmTarget['role'], selected: SelectedSeries | undefined): QsmTarget => ({
    role,
    ...(selected === undefined ? {} : { series: selected.series, volumeId: selected.volumes[0]!.id }),
  })
  if (plan.fgatir !== undefined) return pick('fgatir', plan.fgatir)
  if (plan.t1 !== undefined) return pick('t1', plan.t1)
  return pick('magnitude', plan.magnitude)
}

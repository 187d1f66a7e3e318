// What the steps of one job share: its folder, signal and logger, the options, the detected tools, and one way to run a tool.
import { join } from 'node:path'
import type { Logger } from '@pacsflow/core'
import type { Bind, GpuUse } from './command-lines.js'
import type { ResolvedOptions, ToolName } from './options.js'
import { runTool, type ToolEnvironment, type ToolResult } from './run-tool.js'
import { PID_FILE, type StepHost } from './steps.js'
import type { ToolVersion } from './versions.js'

/** The tools as detected (or pinned by options) for the stage. */
export interface DetectedTools {
  readonly qsmxtCli: 8 | 9
  /** QSMxT takes a mask from derivatives (v8; v9 from 9.6.0). */
  readonly qsmxtCustomMasks: boolean
  readonly hdBetCli: 1 | 2
  readonly registration: 'ants' | 'elastix'
  readonly versions: readonly ToolVersion[]
}

export interface Job extends StepHost {
  readonly signal: AbortSignal
  readonly log: Logger
  readonly jobId: string
  readonly options: ResolvedOptions
  readonly tools: DetectedTools
  /** The GPU this attempt holds (`'cpu'` when the stage runs on the CPU). */
  readonly gpu: GpuUse
  readonly environment: ToolEnvironment
  /** The runner's progress report, in [0, 1]. */
  progress(fraction: number, note: string): void
}

export interface RunOptions {
  /** Host folders besides the job's workDir that the tool reads (containers). */
  readonly readOnly?: readonly string[]
  readonly cwd?: string
  readonly gpu?: GpuUse
  /** Step folder that records the running process (so a resumed job can stop it). */
  readonly stepDir?: string
  /** Variables for this run on top of the tool's. */
  readonly env?: Readonly<Record<string, string>>
}

/** The log file of a step: `<workDir>/logs/<step>.log`. */
export function logFile(job: Pick<Job, 'workDir'>, step: string): string {
  return join(job.workDir, 'logs', `${step}.log`)
}

/** Runs one of the stage's tools for `step`, the job's folder bound into containers at the same path. */
export function runJobTool(job: Job, step: string, tool: ToolName, args: readonly string[], options: RunOptions = {}): Promise<ToolResult> {
  const binds: Bind[] = [
    { host: job.workDir, container: job.workDir },
    ...(options.readOnly ?? []).map((dir) => ({ host: dir, container: dir, readOnly: true })),
  ]
  return runTool(job.environment, {
    step,
    logFile: logFile(job, step),
    ...(options.stepDir === undefined ? {} : { pidFile: join(options.stepDir, PID_FILE) }),
    spec: {
      tool: job.options.tools[tool],
      args,
      binds,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.gpu === undefined ? {} : { gpu: options.gpu }),
      ...(options.env === undefined ? {} : { env: options.env }),
      containerName: containerName(job.jobId, step),
    },
  })
}

/** A Docker container name unique to the job and step (Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]*). */
function containerName(jobId: string, step: string): string {
  const safe = `${jobId}-${step}`.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 100)
  return `pacsflow-${safe}`
}

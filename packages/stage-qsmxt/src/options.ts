// The stage's options, their defaults, and the checks that run when the stage is created.
import { PacsflowError, type RetryOptions } from '@pacsflow/core'

/** Where a tool runs: an executable on PATH, or a command inside an Apptainer or Docker image. */
export type Runtime = 'local' | 'apptainer' | 'docker'

/** The tools this stage drives; the keys of `options.tools`. */
export type ToolName = 'dcm2niix' | 'hdBet' | 'qsmxt' | 'antsRegistration' | 'antsApplyTransforms' | 'elastix'

export const TOOL_NAMES: readonly ToolName[] = ['dcm2niix', 'hdBet', 'qsmxt', 'antsRegistration', 'antsApplyTransforms', 'elastix']

/** The executable each tool has when `command` is not given. */
export const DEFAULT_COMMANDS: Readonly<Record<ToolName, string>> = {
  dcm2niix: 'dcm2niix',
  hdBet: 'hd-bet',
  qsmxt: 'qsmxt',
  antsRegistration: 'antsRegistration',
  antsApplyTransforms: 'antsApplyTransforms',
  elastix: 'elastix',
}

export interface ToolOptions {
  /** Where the tool runs (default: the stage's `runtime`). */
  readonly runtime?: Runtime
  /** The executable: a name on PATH or a path; inside the image for containers (default: the tool's usual name). */
  readonly command?: string
  /** The image: an Apptainer `.sif` file (or a URI such as `docker://...`) or a Docker image reference. */
  readonly image?: string
  /** Arguments appended to every run of the tool: the site's choices (e.g. QSMxT v9 `['--qsm-algorithm', 'tgv']`). */
  readonly args?: readonly string[]
  /** Environment variables for the tool (handed into containers with `--env` / `-e`). */
  readonly env?: Readonly<Record<string, string>>
}

export interface QsmxtOptions {
  /** Stage name (default `'qsmxt'`). */
  readonly name?: string
  /** Default runtime of every tool (default `'local'`). */
  readonly runtime?: Runtime
  readonly tools?: Partial<Readonly<Record<ToolName, ToolOptions>>>
  /** DICOM to NIfTI: `'dcm2niix'` (default, as the seed system) or `'native'` (@pacsflow/imaging's `toNifti`, no tool). */
  readonly converter?: 'dcm2niix' | 'native'
  /** T1 to GRE registration: `'ants'`, `'elastix'`, or `'auto'` (default: ANTs when installed, else elastix). */
  readonly registration?: 'ants' | 'elastix' | 'auto'
  /**
   * How the mask and the susceptibility map move between grids: `'native'` (default, @pacsflow/imaging's
   * `resampleToGrid` with the parsed transform) or `'ants'` (antsApplyTransforms; needs ANTs registration).
   */
  readonly resampler?: 'native' | 'ants'
  /** Initialisation of antsRegistration's rigid stage (default `'none'`; see the README). */
  readonly antsInitialTransform?: 'none' | 'geometric-center' | 'center-of-mass'
  /** Skip `qsmxt --version` and drive this CLI generation. */
  readonly qsmxtVersion?: 8 | 9
  /** Skip `hd-bet --help` and drive this CLI generation. */
  readonly hdBetVersion?: 1 | 2
  /** QSMxT v8 premade pipeline (default `'gre'`, the seed's choice). */
  readonly premade?: string
  /** Hand the registered HD-BET brain mask to QSMxT as its mask (default true; v8 and v9 from 9.6). */
  readonly useBrainMask?: boolean
  /** HD-BET test-time augmentation (default false: the seed ran `-mode fast -tta 0`). */
  readonly hdBetTta?: boolean
  /** HD-BET v1 mode (default `'fast'`). */
  readonly hdBetMode?: 'fast' | 'accurate'
  /** `'gpu'` (default): the stage holds a `gpu` slot and hands its device to HD-BET and QSMxT; `'cpu'`: no GPU. */
  readonly device?: 'gpu' | 'cpu'
  /** CUDA device of each runner `gpu` slot (default: slot i is device i). */
  readonly gpuDevices?: readonly number[]
  /** When a GPU run of HD-BET fails, run it again on the CPU (default false). */
  readonly cpuFallback?: boolean
  /** Threads for ANTs (ITK), elastix and QSMxT (`--n_procs` / `--n-procs`); default: the tools' own. */
  readonly threads?: number
  /** Apptainer: `'run'` (default; the image's runscript gets the command) or `'exec'`, plus extra flags. */
  readonly apptainer?: { readonly verb?: 'run' | 'exec'; readonly args?: readonly string[] }
  /** Docker: `user` (default the current uid:gid; `false` for the image's own) and extra flags for `docker run`. */
  readonly docker?: { readonly user?: string | false; readonly args?: readonly string[] }
  /** Check at creation that every tool (or runtime and image) is installed (default true). */
  readonly checkTools?: boolean
  /** How tool output lines reach `ctx.log` (default `'debug'`); the log files keep everything regardless. */
  readonly toolLogLevel?: 'debug' | 'info' | 'off'
  /** Delay between SIGTERM and SIGKILL when a tool is cancelled, ms (default 5000). */
  readonly killGraceMs?: number
  readonly retry?: RetryOptions
  readonly timeoutMs?: number
}

/** A tool's options with defaults applied. */
export interface ResolvedTool {
  readonly name: ToolName
  readonly runtime: Runtime
  readonly command: string
  readonly image?: string
  readonly args: readonly string[]
  readonly env: Readonly<Record<string, string>>
}

export interface ResolvedOptions {
  readonly name: string
  readonly tools: Readonly<Record<ToolName, ResolvedTool>>
  readonly converter: 'dcm2niix' | 'native'
  readonly registration: 'ants' | 'elastix' | 'auto'
  readonly resampler: 'native' | 'ants'
  readonly antsInitialTransform: 'none' | 'geometric-center' | 'center-of-mass'
  readonly qsmxtVersion?: 8 | 9
  readonly hdBetVersion?: 1 | 2
  readonly premade: string
  readonly useBrainMask: boolean
  readonly hdBetTta: boolean
  readonly hdBetMode: 'fast' | 'accurate'
  readonly device: 'gpu' | 'cpu'
  readonly gpuDevices?: readonly number[]
  readonly cpuFallback: boolean
  readonly threads?: number
  readonly apptainerVerb: 'run' | 'exec'
  readonly apptainerArgs: readonly string[]
  readonly dockerUser: string | false
  readonly dockerArgs: readonly string[]
  readonly checkTools: boolean
  readonly toolLogLevel: 'debug' | 'info' | 'off'
  readonly killGraceMs: number
}

const RUNTIMES: readonly Runtime[] = ['local', 'apptainer', 'docker']

function invalid(message: string, details?: Record<string, unknown>): PacsflowError {
  return new PacsflowError('INVALID_OPTIONS', `qsmxt: ${message}`, details === undefined ? {} : { details })
}

function oneOf<T extends string | number>(value: unknown, allowed: readonly T[], what: string, fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) throw invalid(`${what} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`)
  return value as T
}

function stringList(value: unknown, what: string): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw invalid(`${what} must be an array of strings`)
  return value
}

function resolveTool(name: ToolName, given: ToolOptions | undefined, runtime: Runtime): ResolvedTool {
  const options = given ?? {}
  if (typeof options !== 'object') throw invalid(`tools.${name} must be an object`)
  const toolRuntime = oneOf(options.runtime, RUNTIMES, `tools.${name}.runtime`, runtime)
  const command = options.command ?? DEFAULT_COMMANDS[name]
  if (typeof command !== 'string' || command.trim() === '' || /\s/.test(command)) {
    throw invalid(`tools.${name}.command must be one executable name or path without spaces, got ${JSON.stringify(command)}`)
  }
  if (options.image !== undefined && (typeof options.image !== 'string' || options.image.trim() === '')) throw invalid(`tools.${name}.image must be a non-empty string`)
  const env = options.env ?? {}
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || typeof value !== 'string') throw invalid(`tools.${name}.env.${key} must be a string under a valid variable name`)
  }
  return {
    name,
    runtime: toolRuntime,
    command,
    ...(toolRuntime === 'local' || options.image === undefined ? {} : { image: options.image }),
    args: stringList(options.args, `tools.${name}.args`),
    env,
  }
}

function positiveInteger(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(`${what} must be a positive integer, got ${JSON.stringify(value)}`)
  return value
}

/** Throws `INVALID_OPTIONS` when a tool the stage will run is containerised without an image. */
export function assertImages(tools: readonly ResolvedTool[]): void {
  for (const tool of tools) {
    if (tool.runtime !== 'local' && tool.image === undefined) throw invalid(`tools.${tool.name} runs in ${tool.runtime}: give tools.${tool.name}.image`)
  }
}

/** Validates `options` and applies the defaults; throws `INVALID_OPTIONS`. */
export function resolveOptions(options: QsmxtOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  const runtime = oneOf(options.runtime, RUNTIMES, 'runtime', 'local')
  const dockerUser = options.docker?.user ?? defaultDockerUser()
  if (dockerUser !== false && (typeof dockerUser !== 'string' || !/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(dockerUser))) {
    throw invalid(`docker.user must be 'uid[:gid]' or false, got ${JSON.stringify(dockerUser)}`)
  }
  for (const key of Object.keys(options.tools ?? {})) {
    if (!TOOL_NAMES.includes(key as ToolName)) throw invalid(`tools.${key} is not a tool of this stage (${TOOL_NAMES.join(', ')})`)
  }
  const tools = Object.fromEntries(TOOL_NAMES.map((name) => [name, resolveTool(name, options.tools?.[name], runtime)])) as Record<ToolName, ResolvedTool>
  const registration = oneOf(options.registration, ['ants', 'elastix', 'auto'] as const, 'registration', 'auto')
  const resampler = oneOf(options.resampler, ['native', 'ants'] as const, 'resampler', 'native')
  if (resampler === 'ants' && registration === 'elastix') throw invalid(`resampler 'ants' applies ANTs transforms: it needs registration 'ants' (or 'auto')`)
  const gpuDevices = options.gpuDevices
  if (gpuDevices !== undefined && (!Array.isArray(gpuDevices) || gpuDevices.length === 0 || !gpuDevices.every((d) => Number.isInteger(d) && d >= 0))) {
    throw invalid('gpuDevices must be a non-empty array of device indices (integers >= 0)')
  }
  const premade = options.premade ?? 'gre'
  if (typeof premade !== 'string' || !/^[A-Za-z0-9._-]+$/.test(premade)) throw invalid(`premade must be a pipeline name, got ${JSON.stringify(premade)}`)
  const killGraceMs = options.killGraceMs ?? 5000
  if (typeof killGraceMs !== 'number' || !Number.isInteger(killGraceMs) || killGraceMs < 0) throw invalid('killGraceMs must be an integer >= 0')
  const name = options.name ?? 'qsmxt'
  const threads = positiveInteger(options.threads, 'threads')
  const qsmxtVersion = options.qsmxtVersion === undefined ? undefined : oneOf(options.qsmxtVersion, [8, 9] as const, 'qsmxtVersion', 9)
  const hdBetVersion = options.hdBetVersion === undefined ? undefined : oneOf(options.hdBetVersion, [1, 2] as const, 'hdBetVersion', 2)
  return {
    name,
    tools,
    converter: oneOf(options.converter, ['dcm2niix', 'native'] as const, 'converter', 'dcm2niix'),
    registration,
    resampler,
    antsInitialTransform: oneOf(options.antsInitialTransform, ['none', 'geometric-center', 'center-of-mass'] as const, 'antsInitialTransform', 'none'),
    ...(qsmxtVersion === undefined ? {} : { qsmxtVersion }),
    ...(hdBetVersion === undefined ? {} : { hdBetVersion }),
    premade,
    useBrainMask: boolean(options.useBrainMask, 'useBrainMask', true),
    hdBetTta: boolean(options.hdBetTta, 'hdBetTta', false),
    hdBetMode: oneOf(options.hdBetMode, ['fast', 'accurate'] as const, 'hdBetMode', 'fast'),
    device: oneOf(options.device, ['gpu', 'cpu'] as const, 'device', 'gpu'),
    ...(gpuDevices === undefined ? {} : { gpuDevices }),
    cpuFallback: boolean(options.cpuFallback, 'cpuFallback', false),
    ...(threads === undefined ? {} : { threads }),
    apptainerVerb: oneOf(options.apptainer?.verb, ['run', 'exec'] as const, 'apptainer.verb', 'run'),
    apptainerArgs: stringList(options.apptainer?.args, 'apptainer.args'),
    dockerUser,
    dockerArgs: stringList(options.docker?.args, 'docker.args'),
    checkTools: boolean(options.checkTools, 'checkTools', true),
    toolLogLevel: oneOf(options.toolLogLevel, ['debug', 'info', 'off'] as const, 'toolLogLevel', 'debug'),
    killGraceMs,
  }
}

function boolean(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalid(`${what} must be true or false, got ${JSON.stringify(value)}`)
  return value
}

/** The current user, so files a container writes into the job's folder belong to the job's owner. */
function defaultDockerUser(): string | false {
  const uid = process.getuid?.()
  const gid = process.getgid?.()
  return uid === undefined || gid === undefined ? false : `${uid}:${gid}`
}

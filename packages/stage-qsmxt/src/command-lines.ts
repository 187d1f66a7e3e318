// Every command line this stage runs, as argv arrays (never shell strings): the tools' own, and their wrapping in Apptainer or Docker.
import { join } from 'node:path'
import type { ResolvedTool, Runtime } from './options.js'

/** A host folder seen inside a container (the same path on both sides keeps argv paths valid everywhere). */
export interface Bind {
  readonly host: string
  readonly container: string
  readonly readOnly?: boolean
}

/** How a tool uses the GPU on one run: a CUDA device index, or the CPU. */
export type GpuUse = { readonly device: number } | 'cpu'

/** One run of a tool, before it is wrapped for its runtime. */
export interface LaunchSpec {
  readonly tool: ResolvedTool
  /** The tool's arguments (the site's `tool.args` are appended by `commandLine`). */
  readonly args: readonly string[]
  /** Host folders the tool reads or writes (containers only). */
  readonly binds?: readonly Bind[]
  /** The tool's working directory. */
  readonly cwd?: string
  /** For GPU tools: the device, or `'cpu'`; absent for tools that never use one. */
  readonly gpu?: GpuUse
  /** Variables for the tool on top of `tool.env`. */
  readonly env?: Readonly<Record<string, string>>
  /** Docker container name (so a cancelled run can be removed by name). */
  readonly containerName?: string
  /** Leave out the site's `tool.args` (version probes). */
  readonly bare?: boolean
}

export interface ContainerSettings {
  readonly apptainerVerb: 'run' | 'exec'
  readonly apptainerArgs: readonly string[]
  readonly dockerUser: string | false
  readonly dockerArgs: readonly string[]
}

/** What to spawn: `file` with `args`, and variables for that process itself. */
export interface CommandLine {
  readonly runtime: Runtime
  readonly file: string
  readonly args: readonly string[]
  /** Variables set on the spawned process (local tools; containers get theirs through flags). */
  readonly env: Readonly<Record<string, string>>
  readonly containerName?: string
}

/** The tool's own variables, plus CUDA_VISIBLE_DEVICES where the runtime does not choose the GPU itself. */
function toolEnv(spec: LaunchSpec, runtime: Runtime): Record<string, string> {
  const env: Record<string, string> = { ...spec.tool.env, ...spec.env }
  // Docker's --gpus exposes the one device as index 0; elsewhere the variable picks it. An empty
  // value hides every GPU, so a CPU run cannot take one by accident.
  if (spec.gpu !== undefined && runtime !== 'docker') env.CUDA_VISIBLE_DEVICES = spec.gpu === 'cpu' ? '' : String(spec.gpu.device)
  return env
}

/**
 * The command line of one run.
 * - local: `<command> <args>`
 * - Apptainer: `apptainer run|exec --cleanenv [--nv] --bind host:container[:ro]... --env K=V... [--pwd dir] <image> <command> <args>`
 *   (Apptainer user guide, "Bind paths and mounts", "Environment and metadata", "GPU support": `--nv`)
 * - Docker: `docker run --rm --init --name N [--user uid:gid] [--gpus device=N] -v host:container[:ro]... -e K=V... [-w dir] <image> <command> <args>`
 *   (Docker reference, `docker run`: `--gpus`, `--init` forwards signals to the tool, `--rm`)
 */
export function commandLine(spec: LaunchSpec, settings: ContainerSettings): CommandLine {
  const { tool } = spec
  const inner = [...spec.args, ...(spec.bare === true ? [] : tool.args)]
  const env = toolEnv(spec, tool.runtime)
  if (tool.runtime === 'local') return { runtime: 'local', file: tool.command, args: inner, env }
  const binds = dedupeBinds(spec.binds ?? [])
  const envFlags = Object.entries(env).sort(([a], [b]) => a.localeCompare(b))
  if (tool.runtime === 'apptainer') {
    const gpu = spec.gpu !== undefined && spec.gpu !== 'cpu'
    return {
      runtime: 'apptainer',
      file: 'apptainer',
      args: [
        settings.apptainerVerb,
        '--cleanenv',
        ...(gpu ? ['--nv'] : []),
        ...binds.flatMap((bind) => ['--bind', bindSpec(bind)]),
        ...envFlags.flatMap(([key, value]) => ['--env', `${key}=${value}`]),
        ...(spec.cwd === undefined ? [] : ['--pwd', spec.cwd]),
        ...settings.apptainerArgs,
        tool.image!,
        tool.command,
        ...inner,
      ],
      env: {},
    }
  }
  const name = spec.containerName
  return {
    runtime: 'docker',
    file: 'docker',
    args: [
      'run',
      '--rm',
      '--init',
      ...(name === undefined ? [] : ['--name', name]),
      ...(settings.dockerUser === false ? [] : ['--user', settings.dockerUser]),
      ...(spec.gpu !== undefined && spec.gpu !== 'cpu' ? ['--gpus', `device=${spec.gpu.device}`] : []),
      ...binds.flatMap((bind) => ['-v', bindSpec(bind)]),
      ...envFlags.flatMap(([key, value]) => ['-e', `${key}=${value}`]),
      ...(spec.cwd === undefined ? [] : ['-w', spec.cwd]),
      ...settings.dockerArgs,
      tool.image!,
      tool.command,
      ...inner,
    ],
    env: {},
    ...(name === undefined ? {} : { containerName: name }),
  }
}

/** `docker rm -f <name>`: stops a cancelled tool's container, which killing the docker client does not. */
export function dockerRemoveArgs(name: string): readonly string[] {
  return ['rm', '-f', name]
}

function bindSpec(bind: Bind): string {
  if (bind.host.includes(':') || bind.container.includes(':')) throw new RangeError(`a bind path cannot contain ':': ${bind.host}`)
  return `${bind.host}:${bind.container}${bind.readOnly === true ? ':ro' : ''}`
}

/** One bind per container path; a writable bind wins over a read-only one of the same folder. */
function dedupeBinds(binds: readonly Bind[]): Bind[] {
  const byContainer = new Map<string, Bind>()
  for (const bind of binds) {
    const known = byContainer.get(bind.container)
    if (known === undefined || (known.readOnly === true && bind.readOnly !== true)) byContainer.set(bind.container, bind)
  }
  return [...byContainer.values()].sort((a, b) => a.container.localeCompare(b.container))
}

// ---------------------------------------------------------------------------------------------
// The tools' own arguments.

/** How each tool tells its version: the probe's arguments (the output is parsed by `versions.ts`). */
export const VERSION_PROBES = {
  dcm2niix: ['--version'],
  // HD-BET has no version flag in v1 or v2; the help text tells the two CLIs apart.
  hdBet: ['--help'],
  qsmxt: ['--version'],
  antsRegistration: ['--version'],
  antsApplyTransforms: ['--version'],
  elastix: ['--version'],
} as const satisfies Record<ResolvedTool['name'], readonly string[]>

/**
 * dcm2niix (README, "General Usage"): `-b y` writes the BIDS sidecar, `-z y|n` gzips or not, `-f`
 * names the files (`%s` series number, `%p` protocol; dcm2niix appends `_e<N>` for echoes and
 * `_ph` for phase), `-o` the output folder, then the input folder.
 */
export function dcm2niixArgs(options: { readonly input: string; readonly output: string; readonly gzip: boolean; readonly pattern?: string }): string[] {
  return ['-b', 'y', '-z', options.gzip ? 'y' : 'n', '-f', options.pattern ?? '%s_%p', '-o', options.output, options.input]
}

export interface HdBetRun {
  /** A `.nii.gz` file (both CLIs read NIfTI-gz files). */
  readonly input: string
  /** Must end in `.nii.gz` (v2 asserts it; v1 appends it). */
  readonly output: string
  readonly gpu: GpuUse
  readonly tta: boolean
  /** v1 only. */
  readonly mode: 'fast' | 'accurate'
}

/**
 * HD-BET. v2 (HD_BET/entry_point.py, v2.0.1): `-i IN -o OUT -device cuda|cpu [--disable_tta] --save_bet_mask`,
 * the mask written as `OUT[:-7]_bet.nii.gz`. v1 (HD_BET/hd-bet, v1.x): `-i IN -o OUT -mode fast|accurate
 * -device <gpu index>|cpu -tta 0|1`, the mask saved by default (`-s 1`) as `OUT[:-7]_mask.nii.gz`.
 * The GPU is chosen by CUDA_VISIBLE_DEVICES (or Docker's --gpus), so inside the tool it is device 0.
 */
export function hdBetArgs(cli: 1 | 2, run: HdBetRun): string[] {
  const onGpu = run.gpu !== 'cpu'
  if (cli === 2) return ['-i', run.input, '-o', run.output, '-device', onGpu ? 'cuda' : 'cpu', ...(run.tta ? [] : ['--disable_tta']), '--save_bet_mask']
  return ['-i', run.input, '-o', run.output, '-mode', run.mode, '-device', onGpu ? '0' : 'cpu', '-tta', run.tta ? '1' : '0']
}

/** Where HD-BET writes the brain mask for `output` (see `hdBetArgs`). */
export function hdBetMaskPath(cli: 1 | 2, output: string): string {
  return `${output.replace(/\.nii\.gz$/, '')}${cli === 2 ? '_bet' : '_mask'}.nii.gz`
}

export interface QsmxtRun {
  readonly bidsDir: string
  readonly outDir: string
  /** v8 premade pipeline. */
  readonly premade: string
  /** The derivatives pipeline (folder under `<bids>/derivatives/`) holding the brain mask, when QSMxT should use it. */
  readonly maskPipeline?: string
  readonly threads?: number
}

/**
 * QSMxT. v8 (qsmxt/cli/main.py, v8.3.x): `qsmxt BIDS OUT --premade gre --auto_yes
 * [--use_existing_masks --existing_masks_pipeline P] [--n_procs N]`; `--auto_yes` keeps it from
 * prompting. v9 (src/cli.rs, `run`): `qsmxt run BIDS OUT [--use-custom-masks P] [--n-procs N]`
 * (`--use-custom-masks` exists from v9.6.0). The site's options follow (`tools.qsmxt.args`).
 */
export function qsmxtArgs(cli: 8 | 9, run: QsmxtRun): string[] {
  if (cli === 8) {
    return [
      run.bidsDir,
      run.outDir,
      '--premade',
      run.premade,
      '--auto_yes',
      ...(run.maskPipeline === undefined ? [] : ['--use_existing_masks', '--existing_masks_pipeline', run.maskPipeline]),
      ...(run.threads === undefined ? [] : ['--n_procs', String(run.threads)]),
    ]
  }
  return [
    'run',
    run.bidsDir,
    run.outDir,
    ...(run.maskPipeline === undefined ? [] : ['--use-custom-masks', run.maskPipeline]),
    ...(run.threads === undefined ? [] : ['--n-procs', String(run.threads)]),
  ]
}

/**
 * Where QSMxT documents its susceptibility map for a BIDS run `basename` (`sub-X_ses-Y`) with suffix `MEGRE`:
 * v8 copies it to `OUT/sub-X/ses-Y/anat/sub-X_ses-Y_MEGRE_Chimap.nii` (qsmxt/workflows/qsm.py, output_map);
 * v9 to `OUT/derivatives/qsmxt/sub-X/ses-Y/anat/sub-X_ses-Y_Chimap.nii` (src/bids/derivatives.rs, `qsm_path`).
 */
export function qsmxtChimapPath(cli: 8 | 9, outDir: string, subject: string, session: string, suffix: string): string {
  const base = `sub-${subject}_ses-${session}`
  if (cli === 8) return join(outDir, `sub-${subject}`, `ses-${session}`, 'anat', `${base}_${suffix}_Chimap.nii`)
  return join(outDir, 'derivatives', 'qsmxt', `sub-${subject}`, `ses-${session}`, 'anat', `${base}_Chimap.nii`)
}

/** v9's local field (src/bids/derivatives.rs, `local_field_path`): `OUT/derivatives/qsmxt/workflow/sub-X/ses-Y/bgremove/sub-X_ses-Y_localfield.nii`. */
export function qsmxtLocalFieldPath(outDir: string, subject: string, session: string): string {
  return join(outDir, 'derivatives', 'qsmxt', 'workflow', `sub-${subject}`, `ses-${session}`, 'bgremove', `sub-${subject}_ses-${session}_localfield.nii`)
}

export interface AntsRegistrationRun {
  readonly fixed: string
  readonly moving: string
  /** Output prefix: the transform is `<prefix>0GenericAffine.mat`. */
  readonly prefix: string
  readonly initialTransform: 'none' | 'geometric-center' | 'center-of-mass'
}

/**
 * antsRegistration, rigid with mutual information: the rigid stage of ANTs' `antsRegistrationSyN.sh -t r`
 * (`--transform Rigid[0.1] --metric MI[fixed,moving,1,32,Regular,0.25] --convergence [1000x500x250x100,1e-6,10]
 * --shrink-factors 8x4x2x1 --smoothing-sigmas 3x2x1x0vox`, with its `--interpolation Linear`,
 * `--winsorize-image-intensities [0.005,0.995]` and `--use-histogram-matching 0` for images of different
 * contrast). `--collapse-output-transforms 1` leaves one linear transform in `<prefix>0GenericAffine.mat`.
 * The script's `--initial-moving-transform [fixed,moving,1]` (centres of mass) is optional here: scans of one
 * session already share the scanner's frame, and the centres of mass of a head T1 and a brain-only GRE slab
 * lie centimetres apart.
 */
export function antsRegistrationArgs(run: AntsRegistrationRun): string[] {
  const init = run.initialTransform === 'none' ? [] : ['--initial-moving-transform', `[${run.fixed},${run.moving},${run.initialTransform === 'center-of-mass' ? 1 : 0}]`]
  return [
    '--verbose', '1',
    '--dimensionality', '3',
    '--float', '0',
    '--collapse-output-transforms', '1',
    '--output', `[${run.prefix},${run.prefix}Warped.nii.gz]`,
    '--interpolation', 'Linear',
    '--use-histogram-matching', '0',
    '--winsorize-image-intensities', '[0.005,0.995]',
    ...init,
    '--transform', 'Rigid[0.1]',
    '--metric', `MI[${run.fixed},${run.moving},1,32,Regular,0.25]`,
    '--convergence', '[1000x500x250x100,1e-6,10]',
    '--shrink-factors', '8x4x2x1',
    '--smoothing-sigmas', '3x2x1x0vox',
  ]
}

/** The transform antsRegistration writes for `prefix`. */
export function antsTransformPath(prefix: string): string {
  return `${prefix}0GenericAffine.mat`
}

export interface AntsApplyRun {
  readonly input: string
  readonly reference: string
  readonly output: string
  readonly interpolation: 'Linear' | 'NearestNeighbor'
  readonly transform: string
  /** Apply the inverse (`[transform,1]`): moving space to fixed space becomes fixed to moving. */
  readonly inverse: boolean
}

/** antsApplyTransforms (ANTs wiki, "Applying transforms"): `-d 3 -i IN -r REF -o OUT -n Linear|NearestNeighbor -t T|[T,1] -f 0`. */
export function antsApplyTransformsArgs(run: AntsApplyRun): string[] {
  return [
    '-d', '3',
    '-i', run.input,
    '-r', run.reference,
    '-o', run.output,
    '-n', run.interpolation,
    '-t', run.inverse ? `[${run.transform},1]` : run.transform,
    '-f', '0',
  ]
}

/** elastix (its `--help`): `-f FIXED -m MOVING -p PARAMS -out DIR [-threads N]`; the transform is `DIR/TransformParameters.0.txt`. */
export function elastixArgs(run: { readonly fixed: string; readonly moving: string; readonly parameters: string; readonly outDir: string; readonly threads?: number }): string[] {
  return ['-f', run.fixed, '-m', run.moving, '-p', run.parameters, '-out', run.outDir, ...(run.threads === undefined ? [] : ['-threads', String(run.threads)])]
}

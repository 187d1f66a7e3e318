// Test stand-in for qsmxt (v8, v9), hd-bet (v1, v2), antsRegistration, antsApplyTransforms, elastix, apptainer and docker.
// Run by Node directly (type stripping; node: imports only): `node stand-in.ts <tool> args...`. It records its argv, exits 2
// on anything the pinned tool's documented CLI would reject, and writes outputs with the documented names and the input's grid.
// Behaviour knobs (environment): STANDIN_LOG (JSON lines), STANDIN_QSMXT_VERSION, STANDIN_HDBET_VERSION, STANDIN_FAIL=<tool>,
// STANDIN_NO_OUTPUT=<tool>, STANDIN_HANG=<tool> + STANDIN_HANG_FILE, STANDIN_GPU_FAIL=1, STANDIN_TRANSFORM (JSON, LPS, ITK Euler).
// One file on purpose (past the usual 400 lines): Node runs it without a loader, and an import between .ts files would
// need a `.ts` extension that this repository's tsconfig does not allow.
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, delimiter, dirname, join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'

const [tool = '', ...argv] = process.argv.slice(2)
const env = process.env

/** One `start` line per invocation (what tests count), then `note` lines with what the run found. */
function record(): void {
  if (env.STANDIN_LOG === undefined) return
  appendFileSync(env.STANDIN_LOG, `${JSON.stringify({ kind: 'start', tool, argv, cwd: process.cwd(), cuda: env.CUDA_VISIBLE_DEVICES ?? null, pid: process.pid })}\n`)
}

function note(extra: Record<string, unknown>): void {
  if (env.STANDIN_LOG === undefined) return
  appendFileSync(env.STANDIN_LOG, `${JSON.stringify({ kind: 'note', tool, pid: process.pid, ...extra })}\n`)
}

function reject(message: string): never {
  process.stderr.write(`${tool}: error: ${message}\n`)
  note({ rejected: message })
  process.exit(2)
}

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`)
  note({ failed: message })
  process.exit(code)
}

// ------------------------------------------------------------------ argv parsing

type Arity = number | '?' | '*' | '+'
interface Parsed {
  readonly flags: Map<string, string[][]>
  readonly positionals: string[]
}

/** Parses argv against a flag table (every alias listed); unknown flags are rejected as the tools do. */
function parse(args: readonly string[], table: Readonly<Record<string, Arity>>, aliases: Readonly<Record<string, string>> = {}): Parsed {
  const flags = new Map<string, string[][]>()
  const positionals: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (!arg.startsWith('-') || /^-\d/.test(arg)) {
      positionals.push(arg)
      continue
    }
    const name = aliases[arg] ?? arg
    const arity = table[name]
    if (arity === undefined) reject(`unrecognized arguments: ${arg}`)
    const values: string[] = []
    const takes = (j: number) => j < args.length && !(args[j]!.startsWith('-') && !/^-\d/.test(args[j]!) && args[j] !== '-')
    if (typeof arity === 'number') {
      for (let k = 0; k < arity; k++) {
        if (!takes(i + 1)) reject(`argument ${arg}: expected ${arity} argument(s)`)
        values.push(args[++i]!)
      }
    } else {
      while (takes(i + 1) && (arity !== '?' || values.length === 0)) values.push(args[++i]!)
      if (arity === '+' && values.length === 0) reject(`argument ${arg}: expected at least one argument`)
    }
    flags.set(name, [...(flags.get(name) ?? []), values])
  }
  return { flags, positionals }
}

const one = (parsed: Parsed, name: string): string | undefined => parsed.flags.get(name)?.at(-1)?.[0]
const has = (parsed: Parsed, name: string): boolean => parsed.flags.has(name)

// ------------------------------------------------------------------ behaviour knobs

const knob = (name: string): boolean => (env[name] ?? '').split(',').includes(tool)

async function hangIfAsked(): Promise<void> {
  if (!knob('STANDIN_HANG')) return
  const child = spawn('sleep', ['120'], { stdio: 'ignore' })
  if (env.STANDIN_HANG_FILE !== undefined) writeFileSync(env.STANDIN_HANG_FILE, JSON.stringify({ pid: process.pid, child: child.pid }))
  await new Promise((resolve) => child.on('exit', resolve))
}

async function beforeOutputs(): Promise<boolean> {
  await hangIfAsked()
  if (knob('STANDIN_FAIL')) fail(1, `${tool}: simulated failure (STANDIN_FAIL)`)
  return !knob('STANDIN_NO_OUTPUT')
}

// ------------------------------------------------------------------ NIfTI-1 (just enough)

interface Nii {
  readonly header: Buffer
  readonly dims: [number, number, number]
  readonly data: Float64Array
}

const READERS: Record<number, [number, (b: Buffer, o: number) => number]> = {
  2: [1, (b, o) => b.readUInt8(o)],
  4: [2, (b, o) => b.readInt16LE(o)],
  8: [4, (b, o) => b.readInt32LE(o)],
  16: [4, (b, o) => b.readFloatLE(o)],
  64: [8, (b, o) => b.readDoubleLE(o)],
  256: [1, (b, o) => b.readInt8(o)],
  512: [2, (b, o) => b.readUInt16LE(o)],
}

function readNii(path: string): Nii {
  if (!existsSync(path)) fail(1, `${tool}: cannot open ${path}: no such file`)
  let bytes = readFileSync(path)
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes)
  if (bytes.length < 352 || bytes.readInt32LE(0) !== 348) fail(1, `${tool}: ${path} is not a little-endian NIfTI-1 file`)
  const dims: [number, number, number] = [bytes.readInt16LE(42), bytes.readInt16LE(44), bytes.readInt16LE(46)]
  const reader = READERS[bytes.readInt16LE(70)]
  if (reader === undefined) fail(1, `${tool}: ${path} has an unsupported datatype`)
  const offset = Math.round(bytes.readFloatLE(108))
  const slope = bytes.readFloatLE(112) || 1
  const inter = bytes.readFloatLE(116)
  const count = dims[0] * dims[1] * dims[2]
  const data = new Float64Array(count)
  for (let i = 0; i < count; i++) data[i] = reader[1](bytes, offset + i * reader[0]) * slope + inter
  return { header: Buffer.from(bytes.subarray(0, 348)), dims, data }
}

function writeNii(path: string, template: Nii, data: Float32Array | Uint8Array): void {
  const header = Buffer.from(template.header)
  header.writeInt16LE(3, 40)
  for (let d = 4; d <= 7; d++) header.writeInt16LE(1, 40 + d * 2)
  const float = data instanceof Float32Array
  header.writeInt16LE(float ? 16 : 2, 70)
  header.writeInt16LE(float ? 32 : 8, 72)
  header.writeFloatLE(352, 108)
  header.writeFloatLE(1, 112)
  header.writeFloatLE(0, 116)
  header.write('n+1\0', 344, 'latin1')
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  let file = Buffer.concat([header, Buffer.alloc(4), body])
  if (path.endsWith('.gz')) file = gzipSync(file)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, file)
}

/** A centred ellipsoid over 70% of each axis: a plausible brain mask. */
function ellipsoid(dims: readonly [number, number, number]): Uint8Array {
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2])
  for (let z = 0, i = 0; z < dims[2]; z++) {
    for (let y = 0; y < dims[1]; y++) {
      for (let x = 0; x < dims[0]; x++, i++) {
        const r = ((x - (dims[0] - 1) / 2) / (0.35 * dims[0])) ** 2 + ((y - (dims[1] - 1) / 2) / (0.35 * dims[1])) ** 2 + ((z - (dims[2] - 1) / 2) / (0.35 * dims[2])) ** 2
        mask[i] = r <= 1 ? 1 : 0
      }
    }
  }
  return mask
}

/** A susceptibility map (ppm): a gradient along x inside the mask, so resampling can be checked. */
function chiMap(template: Nii, mask: ArrayLike<number>): Float32Array {
  const chi = new Float32Array(template.data.length)
  const [nx] = template.dims
  for (let i = 0; i < chi.length; i++) chi[i] = mask[i]! > 0.5 ? (0.1 * (i % nx)) / nx : 0
  return chi
}

// ------------------------------------------------------------------ QSMxT

const QSMXT_V8_FLAGS: Record<string, Arity> = {
  '--workflow-dir': 1, '--do_qsm': '?', '--do_segmentation': '?', '--do_analysis': '?', '--do_template': '?', '--template_bet': '?',
  '--do_t2starmap': '?', '--do_r2starmap': '?', '--do_swi': '?', '--labels_file': 1, '--subjects': '*', '--sessions': '*', '--runs': '*',
  '--recs': '*', '--invs': '*', '--acqs': '*', '--num_echoes': 1, '--pipeline_file': 1, '--premade': 1, '--obliquity_threshold': 1,
  '--combine_phase': '?', '--qsm_algorithm': 1, '--qsm_reference': '+', '--tgv_iterations': 1, '--tgv_alphas': 2, '--tgv_erosions': 1,
  '--gpu': '?', '--rts_tol': 1, '--rts_delta': 1, '--rts_mu': 1, '--unwrapping_algorithm': 1, '--bf_algorithm': 1, '--two_pass': '?',
  '--inhomogeneity_correction': '?', '--masking_algorithm': 1, '--mask_erosions': '+', '--use_existing_qsms': '?', '--existing_qsm_pipeline': 1,
  '--use_existing_segmentations': '?', '--existing_segmentation_pipeline': 1, '--use_existing_masks': '?', '--existing_masks_pipeline': 1,
  '--masking_input': 1, '--threshold_value': '+', '--threshold_algorithm': 1, '--filling_algorithm': 1, '--threshold_algorithm_factor': '+',
  '--add_bet': '?', '--bet_fractional_intensity': 1, '--export_dicoms': '?', '--preserve_float': '?', '--pbs': 1, '--slurm': 2, '--n_procs': 1,
  '--debug': 0, '--list_premades': 0, '--dry': 0, '--auto_yes': 0, '--version': 0, '-h': 0, '--help': 0,
}
const QSMXT_V8_CHOICES: Record<string, readonly string[]> = {
  '--premade': ['default', 'gre', 'epi', 'bet', 'fast', 'body', 'nextqsm'],
  '--qsm_algorithm': ['tgv', 'tv', 'nextqsm', 'rts'],
  '--unwrapping_algorithm': ['romeo', 'romeo-combined', 'laplacian'],
  '--bf_algorithm': ['vsharp', 'pdf'],
  '--masking_algorithm': ['threshold', 'bet'],
  '--masking_input': ['phase', 'magnitude'],
  '--gpu': ['cuda', 'amdgpu', 'oneapi', 'metal'],
}
const BOOL_WORDS = ['on', 'true', 'yes', 'off', 'false', 'no']

/** v9.13.0's `run` flags (src/cli.rs RunArgs with its flattened parameter groups) and how many values each takes. */
const QSMXT_V9_RUN = 'config:1 include:+ exclude:+ num-echoes:1 qsm-algorithm:1 unwrapping-algorithm:1 bf-algorithm:1 masking-input:1 phase-offset-removal:1 phase-offset-sigma:3 bipolar-correction:0 romeo-individual:0 no-romeo-individual:0 no-romeo-correct-global:0 romeo-template:1 b0-estimation:1 b0-weight-type:1 bet-fractional-intensity:1 bet-smoothness:1 bet-gradient-threshold:1 bet-iterations:1 bet-subdivisions:1 qsm-reference:1 rts-delta:1 rts-mu:1 rts-tol:1 rts-rho:1 rts-max-iter:1 rts-lsmr-iter:1 tv-lambda:1 tv-rho:1 tv-tol:1 tv-max-iter:1 tkd-threshold:1 tsvd-threshold:1 tgv-iterations:1 tgv-erosions:1 tgv-alpha1:1 tgv-alpha0:1 tgv-step-size:1 tgv-tol:1 tikhonov-lambda:1 nltv-lambda:1 nltv-mu:1 nltv-tol:1 nltv-max-iter:1 nltv-newton-iter:1 medi-lambda:1 medi-merit:1 medi-smv:0 medi-smv-radius:1 medi-data-weighting:1 medi-percentage:1 medi-cg-tol:1 medi-cg-max-iter:1 medi-max-iter:1 medi-tol:1 tfi-lambda:1 tfi-precond:1 tfi-merit:1 tfi-data-weighting:1 tfi-percentage:1 tfi-cg-tol:1 tfi-cg-max-iter:1 tfi-max-iter:1 tfi-tol:1 ilsqr-tol:1 ilsqr-max-iter:1 vsharp-threshold:1 vsharp-max-radius:1 vsharp-min-radius:1 pdf-tol:1 lbv-tol:1 ismv-tol:1 ismv-max-iter:1 ismv-radius:1 sharp-threshold:1 sharp-radius:1 resharp-radius:1 resharp-tik-reg:1 resharp-tol:1 resharp-max-iter:1 harperella-radius:1 harperella-max-iter:1 harperella-tol:1 iharperella-radius:1 iharperella-max-iter:1 iharperella-tol:1 swi-hp-sigma:3 swi-scaling:1 swi-strength:1 swi-mip-window:1 n-procs:1 homogeneity-sigma-mm:1 homogeneity-nbox:1 linear-fit-reliability-threshold:1 no-qsm:0 do-swi:0 do-t2starmap:0 do-r2starmap:0 do-r2map:0 do-r2primemap:0 do-chisep:0 chisep:1 export-dicom:0 source-dicom:1 dicom-outputs:+ inhomogeneity-correction:0 no-inhomogeneity-correction:0 obliquity-threshold:1 mask-preset:1 use-custom-masks:? mask:1 dry:0 debug:0 mem-limit-gb:1 no-mem-limit:0 force:0 clean-intermediates:0 help:0'
const QSMXT_V9_FLAGS: Record<string, Arity> = Object.fromEntries(
  QSMXT_V9_RUN.split(' ').map((entry) => {
    const [name, arity] = entry.split(':') as [string, string]
    return [`--${name}`, /^\d+$/.test(arity) ? Number(arity) : (arity as Arity)]
  }),
)

function version(): number[] {
  return (env.STANDIN_QSMXT_VERSION ?? '9.13.0').split('.').map(Number)
}

interface BidsRun {
  readonly sub: string
  readonly ses: string
  readonly phase: string[]
  readonly mag: string[]
}

/** The phase/magnitude echoes QSMxT would discover (`sub-*[/ses-*]/anat/*_part-phase_*.nii*`), with sidecars checked. */
function discover(bids: string): BidsRun {
  if (!existsSync(bids) || !statSync(bids).isDirectory()) fail(1, `qsmxt: BIDS directory ${bids} does not exist`)
  const subs = readdirSync(bids).filter((name) => name.startsWith('sub-'))
  if (subs.length !== 1) fail(1, `qsmxt: expected one subject in ${bids}, found ${subs.length}`)
  const sub = subs[0]!
  const ses = readdirSync(join(bids, sub)).find((name) => name.startsWith('ses-')) ?? ''
  const anat = join(bids, sub, ses, 'anat')
  const files = existsSync(anat) ? readdirSync(anat).sort() : []
  const phase = files.filter((name) => /_part-phase_.*\.nii(\.gz)?$/.test(name)).map((name) => join(anat, name))
  const mag = files.filter((name) => /_part-mag_.*\.nii(\.gz)?$/.test(name)).map((name) => join(anat, name))
  if (phase.length === 0) fail(1, `qsmxt: no phase files found in ${anat}`)
  for (const file of [...phase, ...mag]) {
    const json = file.replace(/\.nii(\.gz)?$/, '.json')
    if (!existsSync(json)) fail(1, `qsmxt: missing JSON sidecar ${json}`)
    const sidecar = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>
    for (const field of ['EchoTime', 'MagneticFieldStrength']) if (typeof sidecar[field] !== 'number') fail(1, `qsmxt: ${json} lacks ${field}`)
  }
  return { sub, ses, phase, mag }
}

function findMask(bids: string, pipeline: string, run: BidsRun): string | undefined {
  const dir = join(bids, 'derivatives', pipeline, run.sub, run.ses, 'anat')
  if (!existsSync(dir)) return undefined
  const name = readdirSync(dir).sort().find((file) => /_mask\.nii(\.gz)?$/.test(file))
  return name === undefined ? undefined : join(dir, name)
}

async function qsmxtV8(): Promise<void> {
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`[INFO]: QSMxT v${version().join('.')}\n`)
    return
  }
  const parsed = parse(argv, QSMXT_V8_FLAGS, { '-v': '--version' })
  for (const [flag, choices] of Object.entries(QSMXT_V8_CHOICES)) {
    for (const values of parsed.flags.get(flag) ?? []) for (const value of values) if (!choices.includes(value)) reject(`argument ${flag}: invalid choice: '${value}'`)
  }
  for (const [flag, arity] of Object.entries(QSMXT_V8_FLAGS)) {
    if (arity !== '?' || flag === '--gpu') continue
    for (const values of parsed.flags.get(flag) ?? []) for (const value of values) if (!BOOL_WORDS.includes(value.toLowerCase())) reject(`argument ${flag}: Invalid boolean value ${value}`)
  }
  if (parsed.positionals.length === 0) reject('bids_dir is required!')
  if (parsed.positionals.length > 2) reject(`unrecognized arguments: ${parsed.positionals.slice(2).join(' ')}`)
  if (!has(parsed, '--auto_yes')) reject('no --auto_yes: QSMxT v8 would prompt for input')
  if (has(parsed, '--existing_masks_pipeline') && !has(parsed, '--use_existing_masks')) reject('--existing_masks_pipeline without --use_existing_masks')
  const [bids, out = join(parsed.positionals[0]!, 'derivatives', 'qsmxt-standin')] = parsed.positionals as [string, string?]
  const run = discover(bids)
  const mask = has(parsed, '--use_existing_masks') ? findMask(bids, one(parsed, '--existing_masks_pipeline') ?? '*', run) : undefined
  note({ maskUsed: mask ?? null })
  if (!(await beforeOutputs())) return
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'command.txt'), `qsmxt ${argv.join(' ')}\n`)
  const template = readNii(run.phase[0]!)
  const maskData = mask === undefined ? ellipsoid(template.dims) : readNii(mask).data
  const base = `${run.sub}_${run.ses}`
  writeNii(join(out, run.sub, run.ses, 'anat', `${base}_MEGRE_Chimap.nii`), template, chiMap(template, maskData))
}

async function qsmxtV9(): Promise<void> {
  const [major, minor] = version() as [number, number]
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`qsmxt ${version().join('.')}\nqsm-core: 0.27.1 (standin)\ndeep-learning models: enabled\n`)
    return
  }
  if (argv[0] !== 'run') reject(`the stand-in only implements 'run' and '--version' (got ${JSON.stringify(argv[0] ?? '')})`)
  const flags = { ...QSMXT_V9_FLAGS }
  if (major === 9 && minor < 6) delete flags['--use-custom-masks']
  const parsed = parse(argv.slice(1), flags)
  const presets = one(parsed, '--mask-preset')
  if (presets !== undefined && !['robust-threshold', 'bet'].includes(presets)) reject(`invalid value '${presets}' for '--mask-preset <MASK_PRESET>'`)
  const input = one(parsed, '--masking-input')
  if (input !== undefined && !['magnitude-first', 'magnitude', 'magnitude-last', 'phase-quality'].includes(input)) reject(`invalid value '${input}' for '--masking-input'`)
  if (parsed.positionals.length === 0) reject('the following required arguments were not provided: <BIDS_DIR>')
  if (parsed.positionals.length > 2) reject(`unexpected argument '${parsed.positionals[2]}' found`)
  const [bids, base = bids] = parsed.positionals as [string, string?]
  const run = discover(bids)
  const tool9 = parsed.flags.get('--use-custom-masks')?.at(-1)
  const mask = tool9 === undefined ? undefined : findMask(bids, tool9[0] ?? '*', run)
  note({ maskUsed: mask ?? null })
  if (!(await beforeOutputs())) return
  const out = join(base, 'derivatives', 'qsmxt')
  const template = readNii(run.phase[0]!)
  const maskData = mask === undefined ? ellipsoid(template.dims) : readNii(mask).data
  const name = `${run.sub}_${run.ses}`
  writeNii(join(out, run.sub, run.ses, 'anat', `${name}_Chimap.nii`), template, chiMap(template, maskData))
  writeNii(join(out, run.sub, run.ses, 'anat', `${name}_mask.nii`), template, Uint8Array.from(maskData))
  writeNii(join(out, 'workflow', run.sub, run.ses, 'bgremove', `${name}_localfield.nii`), template, chiMap(template, maskData).map((v) => v / 10))
  writeFileSync(join(out, 'qsmxt.log'), 'stand-in\n')
}

// ------------------------------------------------------------------ HD-BET

const HDBET_V2_HELP = `usage: hd-bet [-h] -i INPUT [-o OUTPUT] [-device DEVICE] [--disable_tta] [--save_bet_mask] [--no_bet_image] [--verbose]

options:
  -h, --help            show this help message and exit
  -i INPUT, --input INPUT
  -o OUTPUT, --output OUTPUT
  -device DEVICE        'cuda' (=GPU), 'cpu' or 'mps'. Default: cuda
  --disable_tta         Set this flag to disable test time augmentation.
  --save_bet_mask       Set this flag to keep the bet masks.
  --no_bet_image        Set this flag to disable generating the skull stripped/brain extracted image.
  --verbose             Talk to me.
`
const HDBET_V1_HELP = `usage: hd-bet [-h] -i INPUT [-o OUTPUT] [-mode MODE] [-device DEVICE] [-tta TTA] [-pp PP] [-s SAVE_MASK] [--overwrite_existing OVERWRITE_EXISTING] [-b BET]

optional arguments:
  -h, --help            show this help message and exit
  -i INPUT, --input INPUT
  -o OUTPUT, --output OUTPUT
  -mode MODE            can be either 'fast' or 'accurate'.
  -device DEVICE        int for GPU id or 'cpu'. Default: 0
  -tta TTA              whether to use test time data augmentation (mirroring). 1= True, 0=False.
  -pp PP                set to 0 to disabe postprocessing
  -s SAVE_MASK, --save_mask SAVE_MASK
  --overwrite_existing OVERWRITE_EXISTING
  -b BET, --bet BET
`

async function hdBet(): Promise<void> {
  const v2 = (env.STANDIN_HDBET_VERSION ?? '2') === '2'
  process.stdout.write('\n########################\nIf you are using hd-bet, please cite the following paper: (stand-in)\n########################\n\n')
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(v2 ? HDBET_V2_HELP : HDBET_V1_HELP)
    return
  }
  const parsed = v2
    ? parse(argv, { '--input': 1, '--output': 1, '-device': 1, '--disable_tta': 0, '--save_bet_mask': 0, '--no_bet_image': 0, '--verbose': 0 }, { '-i': '--input', '-o': '--output' })
    : parse(argv, { '--input': 1, '--output': 1, '-mode': 1, '-device': 1, '-tta': 1, '-pp': 1, '--save_mask': 1, '--overwrite_existing': 1, '--bet': 1 }, { '-i': '--input', '-o': '--output', '-s': '--save_mask', '-b': '--bet' })
  if (parsed.positionals.length > 0) reject(`unrecognized arguments: ${parsed.positionals.join(' ')}`)
  const input = one(parsed, '--input')
  if (input === undefined) reject('the following arguments are required: -i/--input')
  const device = one(parsed, '-device') ?? (v2 ? 'cuda' : '0')
  if (v2 && !/^(cuda(:\d+)?|cpu|mps)$/.test(device)) fail(1, `RuntimeError: Invalid device string: '${device}'`)
  if (!v2 && device !== 'cpu' && !/^\d+$/.test(device)) fail(1, `ValueError: invalid literal for int() with base 10: '${device}'`)
  if (!v2) {
    if (!['fast', 'accurate'].includes(one(parsed, '-mode') ?? 'accurate')) fail(1, 'ValueError: Unknown value for mode')
    for (const flag of ['-tta', '-pp', '--save_mask', '--overwrite_existing', '--bet']) if (!['0', '1'].includes(one(parsed, flag) ?? '1')) fail(1, `ValueError: Unknown value for ${flag}. Expected: 0 or 1`)
  }
  let output = one(parsed, '--output') ?? input.replace(/\.nii(\.gz)?$/, '_bet.nii.gz')
  if (v2 && !output.endsWith('.nii.gz')) fail(1, 'AssertionError: Output file must end with .nii.gz')
  if (!v2 && !output.endsWith('.nii.gz')) output += '.nii.gz'
  if (!input.endsWith('.nii.gz')) fail(1, `RuntimeError: input must be a .nii.gz file (${input})`)
  const onGpu = device !== 'cpu'
  note({ device, onGpu })
  if (onGpu && env.STANDIN_GPU_FAIL === '1') fail(1, 'RuntimeError: No CUDA GPUs are available')
  const image = readNii(input)
  if (!(await beforeOutputs())) return
  const mask = ellipsoid(image.dims)
  const maskPath = `${output.slice(0, -7)}${v2 ? '_bet' : '_mask'}.nii.gz`
  const saveMask = v2 ? has(parsed, '--save_bet_mask') : (one(parsed, '--save_mask') ?? '1') === '1'
  const writeBrain = v2 ? !has(parsed, '--no_bet_image') : true
  if (writeBrain) writeNii(output, image, Float32Array.from(image.data, (value, i) => value * mask[i]!))
  if (saveMask) writeNii(maskPath, image, mask)
}

// ------------------------------------------------------------------ transforms (ITK LPS point map fixed -> moving)

interface StandInTransform {
  readonly angles: [number, number, number]
  readonly translation: [number, number, number]
  readonly center: [number, number, number]
}

function transform(): StandInTransform {
  const given = env.STANDIN_TRANSFORM === undefined ? {} : (JSON.parse(env.STANDIN_TRANSFORM) as Partial<StandInTransform>)
  return { angles: given.angles ?? [0, 0, 0], translation: given.translation ?? [0, 0, 0], center: given.center ?? [0, 0, 0] }
}

/** ITK Euler3DTransform's matrix (Rz Rx Ry), row-major. */
function eulerRowMajor([ax, ay, az]: readonly number[]): number[] {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax!), Math.sin(ax!), Math.cos(ay!), Math.sin(ay!), Math.cos(az!), Math.sin(az!)]
  const rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]]
  const ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]
  const rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]
  const mul = (a: number[][], b: number[][]) => [0, 1, 2].map((r) => [0, 1, 2].map((c) => a[r]![0]! * b[0]![c]! + a[r]![1]! * b[1]![c]! + a[r]![2]! * b[2]![c]!))
  return mul(rz, mul(rx, ry)).flat()
}

/** A MATLAB v4 matrix: header (type 0 = little-endian double), name with NUL, column data. */
function matVariable(name: string, values: readonly number[]): Buffer {
  const header = Buffer.alloc(20)
  header.writeInt32LE(0, 0)
  header.writeInt32LE(values.length, 4)
  header.writeInt32LE(1, 8)
  header.writeInt32LE(0, 12)
  header.writeInt32LE(name.length + 1, 16)
  const data = Buffer.alloc(values.length * 8)
  values.forEach((value, i) => data.writeDoubleLE(value, i * 8))
  return Buffer.concat([header, Buffer.from(`${name}\0`, 'latin1'), data])
}

function fileOf(spec: string): string {
  return spec.replace(/^\[/, '').replace(/\]$/, '').split(',')[0]!
}

function requireFile(path: string, what: string): void {
  if (!existsSync(path)) fail(1, `${tool}: ${what} ${path} does not exist`)
}

async function antsRegistration(): Promise<void> {
  if (argv.includes('--version')) {
    process.stdout.write('ANTs Version: 2.5.4.standin\nCompiled: stand-in\n')
    return
  }
  const flags: Record<string, Arity> = {
    '--verbose': 1, '--dimensionality': 1, '--float': 1, '--collapse-output-transforms': 1, '--output': 1, '--interpolation': 1,
    '--use-histogram-matching': 1, '--winsorize-image-intensities': 1, '--initial-moving-transform': 1, '--transform': 1, '--metric': 1,
    '--convergence': 1, '--shrink-factors': 1, '--smoothing-sigmas': 1, '--random-seed': 1, '--write-composite-transform': 1, '--masks': 1,
  }
  const parsed = parse(argv, flags, { '-v': '--verbose', '-d': '--dimensionality', '-z': '--collapse-output-transforms', '-o': '--output', '-n': '--interpolation', '-u': '--use-histogram-matching', '-w': '--winsorize-image-intensities', '-r': '--initial-moving-transform', '-t': '--transform', '-m': '--metric', '-c': '--convergence', '-f': '--shrink-factors', '-s': '--smoothing-sigmas', '-a': '--write-composite-transform', '-x': '--masks' })
  if (parsed.positionals.length > 0) reject(`unexpected positional arguments: ${parsed.positionals.join(' ')}`)
  if (one(parsed, '--dimensionality') !== '3') reject('--dimensionality must be 3 here')
  const stages = parsed.flags.get('--transform') ?? []
  if (stages.length === 0) reject('no --transform stage')
  for (const flag of ['--metric', '--convergence', '--shrink-factors', '--smoothing-sigmas']) {
    if ((parsed.flags.get(flag) ?? []).length !== stages.length) reject(`every --transform stage needs one ${flag}`)
  }
  for (const [spec] of stages) if (!/^(Rigid|Affine|Translation|Similarity)\[[\d.]+\]$/.test(spec!)) reject(`bad --transform ${spec}`)
  const images = parsed.flags.get('--metric')!.map(([spec]) => {
    const match = /^(MI|Mattes|CC|MeanSquares)\[([^,\]]+),([^,\]]+),([\d.]+),(\d+)(?:,(Regular|Random|None)(?:,([\d.]+))?)?\]$/.exec(spec!)
    return match === null ? reject(`bad --metric ${spec}`) : [match[2]!, match[3]!]
  })
  const levels = parsed.flags.get('--convergence')!.map(([spec]) => /^\[(\d+(?:x\d+)*),([\d.e-]+),(\d+)\]$/.exec(spec!)?.[1]?.split('x').length ?? reject(`bad --convergence ${spec}`))
  parsed.flags.get('--shrink-factors')!.forEach(([spec], i) => /^\d+(x\d+)*$/.test(spec!) && spec!.split('x').length === levels[i] ? undefined : reject(`--shrink-factors ${spec} does not match the convergence levels`))
  parsed.flags.get('--smoothing-sigmas')!.forEach(([spec], i) => /^[\d.]+(x[\d.]+)*(vox|mm)?$/.test(spec!) && spec!.replace(/(vox|mm)$/, '').split('x').length === levels[i] ? undefined : reject(`--smoothing-sigmas ${spec} does not match the convergence levels`))
  const interpolation = one(parsed, '--interpolation')
  if (interpolation !== undefined && !['Linear', 'NearestNeighbor', 'BSpline', 'Gaussian', 'CosineWindowedSinc', 'WelchWindowedSinc', 'HammingWindowedSinc', 'LanczosWindowedSinc', 'GenericLabel'].includes(interpolation)) reject(`bad --interpolation ${interpolation}`)
  const init = one(parsed, '--initial-moving-transform')
  if (init !== undefined && !/^\[[^,]+,[^,]+,[012]\]$/.test(init) && !existsSync(fileOf(init))) reject(`bad --initial-moving-transform ${init}`)
  const output = one(parsed, '--output')
  if (output === undefined) reject('no --output')
  for (const [fixed, moving] of images) {
    requireFile(fixed!, 'fixed image')
    requireFile(moving!, 'moving image')
  }
  const [prefix, warped] = output.replace(/^\[/, '').replace(/\]$/, '').split(',') as [string, string?]
  if (!(await beforeOutputs())) return
  const t = transform()
  mkdirSync(dirname(`${prefix}x`), { recursive: true })
  writeFileSync(`${prefix}0GenericAffine.mat`, Buffer.concat([matVariable('AffineTransform_double_3_3', [...eulerRowMajor(t.angles), ...t.translation]), matVariable('fixed', t.center)]))
  if (warped !== undefined) {
    const fixed = readNii(fileOf(parsed.flags.get('--metric')![0]![0]!.replace(/^\w+\[/, '')))
    writeNii(warped, fixed, Float32Array.from(fixed.data))
  }
}

async function antsApplyTransforms(): Promise<void> {
  if (argv.includes('--version')) {
    process.stdout.write('ANTs Version: 2.5.4.standin\n')
    return
  }
  const parsed = parse(argv, { '--dimensionality': 1, '--input': 1, '--reference-image': 1, '--output': 1, '--interpolation': 1, '--transform': 1, '--default-value': 1, '--float': 1, '--verbose': 1, '--input-image-type': 1 }, { '-d': '--dimensionality', '-i': '--input', '-r': '--reference-image', '-o': '--output', '-n': '--interpolation', '-t': '--transform', '-f': '--default-value', '-v': '--verbose', '-e': '--input-image-type' })
  if (parsed.positionals.length > 0) reject(`unexpected positional arguments: ${parsed.positionals.join(' ')}`)
  for (const flag of ['--input', '--reference-image', '--output']) if (one(parsed, flag) === undefined) reject(`${flag} is required`)
  const interpolation = one(parsed, '--interpolation') ?? 'Linear'
  if (!['Linear', 'NearestNeighbor', 'BSpline', 'GenericLabel', 'Gaussian'].includes(interpolation)) reject(`bad --interpolation ${interpolation}`)
  for (const [spec] of parsed.flags.get('--transform') ?? []) {
    if (!/^(\[[^,\]]+,[01]\]|[^[\],]+)$/.test(spec!)) reject(`bad --transform ${spec}`)
    requireFile(fileOf(spec!), 'transform')
  }
  const input = readNii(one(parsed, '--input')!)
  const reference = readNii(one(parsed, '--reference-image')!)
  if (!(await beforeOutputs())) return
  const same = input.dims.every((n, i) => n === reference.dims[i])
  const data = interpolation === 'NearestNeighbor' ? (same ? Uint8Array.from(input.data, (v) => (v > 0.5 ? 1 : 0)) : ellipsoid(reference.dims)) : same ? Float32Array.from(input.data) : new Float32Array(reference.data.length)
  writeNii(one(parsed, '--output')!, reference, data)
}

async function elastix(): Promise<void> {
  if (argv.includes('--version')) {
    process.stdout.write('elastix version: 5.0.1\n')
    return
  }
  const parsed = parse(argv, { '-f': 1, '-m': 1, '-out': 1, '-p': 1, '-t0': 1, '-fMask': 1, '-mMask': 1, '-priority': 1, '-threads': 1, '--help': 0, '-h': 0 })
  if (parsed.positionals.length > 0) reject(`unexpected arguments: ${parsed.positionals.join(' ')}`)
  for (const flag of ['-f', '-m', '-out', '-p']) if (one(parsed, flag) === undefined) reject(`${flag} is required`)
  requireFile(one(parsed, '-f')!, 'fixed image')
  requireFile(one(parsed, '-m')!, 'moving image')
  const out = one(parsed, '-out')!
  if (!existsSync(out)) fail(1, `ERROR: the output directory "${out}" does not exist.`)
  for (const [file] of parsed.flags.get('-p')!) {
    requireFile(file!, 'parameter file')
    const text = readFileSync(file!, 'utf8')
    if (!/\(Transform "\w+"\)/.test(text) || !/\(Metric "\w+"\)/.test(text)) fail(1, `ERROR: ${file} lacks Transform or Metric`)
  }
  const threads = one(parsed, '-threads')
  if (threads !== undefined && !/^\d+$/.test(threads)) reject(`-threads ${threads} is not a number`)
  if (!(await beforeOutputs())) return
  const t = transform()
  writeFileSync(join(out, 'elastix.log'), 'stand-in elastix\n')
  writeFileSync(
    join(out, 'TransformParameters.0.txt'),
    [
      '(Transform "EulerTransform")',
      '(NumberOfParameters 6)',
      `(TransformParameters ${[...t.angles, ...t.translation].map((v) => v.toFixed(6)).join(' ')})`,
      '(InitialTransformParametersFileName "NoInitialTransform")',
      '(HowToCombineTransforms "Compose")',
      `(CenterOfRotationPoint ${t.center.map((v) => v.toFixed(10)).join(' ')})`,
      '(ComputeZYX "false")',
      '',
    ].join('\n'),
  )
}

// ------------------------------------------------------------------ container runtimes: check the flags, then run the command here

function which(command: string): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const path = join(dir, command)
    if (dir !== '' && existsSync(path)) return path
  }
  return fail(127, `${tool}: executable file not found in $PATH: ${command}`)
}

async function runInside(command: string, args: readonly string[], innerEnv: Record<string, string>, cwd: string | undefined): Promise<never> {
  const child = spawn(which(command), args, { stdio: 'inherit', env: innerEnv, ...(cwd === undefined ? {} : { cwd }) })
  const code = await new Promise<number>((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal === null ? 1 : 128))))
  process.exit(code)
}

const passThrough = (): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter(([key, value]) => value !== undefined && (key.startsWith('STANDIN_') || key === 'PATH' || key === 'HOME'))) as Record<string, string>

function checkBinds(specs: readonly string[]): void {
  for (const spec of specs) {
    const [host, container, mode] = spec.split(':')
    if (host === undefined || container === undefined || (mode !== undefined && !['ro', 'rw'].includes(mode))) reject(`bad bind ${spec}`)
    if (!existsSync(host)) fail(255, `FATAL: container creation failed: mount ${host}->${container} error: no such file or directory`)
  }
}

function splitEnv(specs: readonly string[]): Record<string, string> {
  return Object.fromEntries(specs.map((spec) => {
    const at = spec.indexOf('=')
    if (at < 1) reject(`bad environment variable ${spec}`)
    return [spec.slice(0, at), spec.slice(at + 1)]
  }))
}

/** Options before the image end at the first non-flag word: the image; the rest is the command. */
function splitAtImage(args: readonly string[], table: Readonly<Record<string, Arity>>, aliases: Readonly<Record<string, string>>): { parsed: Parsed; image: string; command: string; rest: string[] } {
  let i = 0
  while (i < args.length && args[i]!.startsWith('-')) {
    const arity = table[aliases[args[i]!] ?? args[i]!]
    i += 1 + (typeof arity === 'number' ? arity : 0)
  }
  const parsed = parse(args.slice(0, i), table, aliases)
  const [image, command, ...rest] = args.slice(i)
  if (image === undefined || command === undefined) reject('an image and a command are required')
  return { parsed, image, command, rest }
}

async function apptainer(): Promise<void> {
  if (argv[0] === '--version' || argv[0] === 'version') {
    process.stdout.write('apptainer version 1.3.4\n')
    return
  }
  if (argv[0] !== 'run' && argv[0] !== 'exec') reject(`unknown command "${argv[0] ?? ''}" for "apptainer"`)
  const { parsed, image, command, rest } = splitAtImage(argv.slice(1), { '--cleanenv': 0, '--nv': 0, '--bind': 1, '--env': 1, '--pwd': 1, '--contain': 0, '--containall': 0, '--writable-tmpfs': 0, '--no-home': 0 }, { '-e': '--cleanenv', '-B': '--bind', '-c': '--contain', '-C': '--containall' })
  if (!/^[a-z]+:\/\//.test(image) && !existsSync(image)) fail(255, `FATAL: could not open image ${image}: failed to retrieve path for ${image}: lstat ${image}: no such file or directory`)
  checkBinds((parsed.flags.get('--bind') ?? []).map((v) => v[0]!))
  const vars = splitEnv((parsed.flags.get('--env') ?? []).map((v) => v[0]!))
  note({ image, command, nv: has(parsed, '--nv') })
  const innerEnv = has(parsed, '--cleanenv') ? { ...passThrough(), ...vars } : ({ ...env, ...vars } as Record<string, string>)
  await runInside(command, rest, innerEnv, one(parsed, '--pwd'))
}

async function docker(): Promise<void> {
  if (argv[0] === '--version') {
    process.stdout.write('Docker version 27.0.0, build standin\n')
    return
  }
  if (argv[0] === 'rm') {
    const parsed = parse(argv.slice(1), { '--force': 0 }, { '-f': '--force' })
    if (parsed.positionals.length === 0) reject('"docker rm" requires at least 1 argument')
    note({ removed: parsed.positionals })
    return
  }
  if (argv[0] === 'image' && argv[1] === 'inspect') {
    process.stdout.write('[{}]\n')
    return
  }
  if (argv[0] !== 'run') reject(`unknown command: docker ${argv[0] ?? ''}`)
  const { parsed, image, command, rest } = splitAtImage(argv.slice(1), { '--rm': 0, '--init': 0, '--name': 1, '--user': 1, '--gpus': 1, '--volume': 1, '--env': 1, '--workdir': 1, '--network': 1, '--shm-size': 1, '--ipc': 1 }, { '-u': '--user', '-v': '--volume', '-e': '--env', '-w': '--workdir' })
  const gpus = one(parsed, '--gpus')
  if (gpus !== undefined && !/^(all|\d+|device=\d+(,\d+)*|"device=\d+(,\d+)*")$/.test(gpus)) reject(`invalid argument "${gpus}" for "--gpus" flag`)
  const name = one(parsed, '--name')
  if (name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) reject(`Invalid container name (${name})`)
  checkBinds((parsed.flags.get('--volume') ?? []).map((v) => v[0]!))
  const vars = splitEnv((parsed.flags.get('--env') ?? []).map((v) => v[0]!))
  note({ image, command, gpus: gpus ?? null, name: name ?? null })
  // Inside the container the one GPU --gpus exposes is device 0.
  await runInside(command, rest, { ...passThrough(), ...vars, ...(gpus === undefined ? {} : { CUDA_VISIBLE_DEVICES: '0' }) }, one(parsed, '--workdir'))
}

// ------------------------------------------------------------------ dispatch

const tools: Record<string, () => Promise<void>> = {
  qsmxt: () => ((version()[0] ?? 9) >= 9 ? qsmxtV9() : qsmxtV8()),
  'hd-bet': hdBet,
  antsRegistration,
  antsApplyTransforms,
  elastix,
  apptainer,
  docker,
}
const run = tools[basename(tool)]
if (run === undefined) fail(127, `stand-in: unknown tool ${tool}`)
record()
await run()

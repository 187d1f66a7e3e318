// Step 2: brain extraction with HD-BET (v1 or v2) on the T1, or on the first-echo magnitude when there is no T1.
import { existsSync } from 'node:fs'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { isPacsflowError, PacsflowError } from '@pacsflow/core'
import { readNiftiHeader } from '@pacsflow/imaging'
import { hdBetArgs, hdBetMaskPath, type GpuUse } from './command-lines.js'
import { logFile, runJobTool, type Job } from './job.js'
import { logTail } from './run-tool.js'

export const SKULL_STRIP_STEP = 'skull-strip'

export interface SkullStripData {
  /** What HD-BET ran on. */
  readonly source: 't1' | 'magnitude'
  /** Where it ran (a failed GPU run may have fallen back to the CPU). */
  readonly device: 'gpu' | 'cpu'
  readonly hdBetCli: 1 | 2
}

/** Runs HD-BET on `input` (a `.nii` or `.nii.gz`) in `dir`; outputs `brain` and `mask` (on the input's grid). */
export async function skullStrip(job: Job, dir: string, input: string, source: SkullStripData['source']): Promise<{ outputs: Record<string, string>; data: SkullStripData }> {
  // Both HD-BET versions read `.nii.gz` files (their --help says so); a `.nii` is gzipped first.
  const gzInput = join(dir, 'input.nii.gz')
  if (input.endsWith('.nii.gz')) await copyFile(input, gzInput)
  else await writeFile(gzInput, await promisify(gzip)(await readFile(input)))
  const output = join(dir, 'brain.nii.gz')
  const cli = job.tools.hdBetCli
  const attempt = (gpu: GpuUse) =>
    runJobTool(job, SKULL_STRIP_STEP, 'hdBet', hdBetArgs(cli, { input: gzInput, output, gpu, tta: job.options.hdBetTta, mode: job.options.hdBetMode }), { gpu, cwd: dir, stepDir: dir })
  let device: SkullStripData['device'] = job.gpu === 'cpu' ? 'cpu' : 'gpu'
  try {
    await attempt(job.gpu)
  } catch (error) {
    if (!(job.gpu !== 'cpu' && job.options.cpuFallback && isPacsflowError(error, 'QSMXT_TOOL_FAILED'))) throw error
    job.log.warn({ step: SKULL_STRIP_STEP, error: error.message }, 'qsmxt: HD-BET failed on the GPU; running it again on the CPU (cpuFallback)')
    device = 'cpu'
    await attempt('cpu')
  }
  const mask = hdBetMaskPath(cli, output)
  if (!existsSync(mask)) {
    throw new PacsflowError('QSMXT_TOOL_OUTPUT', `HD-BET v${cli} exited 0 but wrote no brain mask (${mask})`, {
      details: { tool: 'hdBet', step: SKULL_STRIP_STEP, expected: mask, log: logFile(job, SKULL_STRIP_STEP), logTail: logTail(logFile(job, SKULL_STRIP_STEP)) },
    })
  }
  await checkSameGrid(job, mask, gzInput)
  return { outputs: { input: gzInput, mask, ...(existsSync(output) ? { brain: output } : {}) }, data: { source, device, hdBetCli: cli } }
}

/** The mask must be readable and on its input's grid (HD-BET keeps the input's geometry). */
async function checkSameGrid(job: Job, mask: string, input: string): Promise<void> {
  try {
    const [a, b] = await Promise.all([readNiftiHeader(mask), readNiftiHeader(input)])
    const same = a.dims.slice(0, 3).every((n, i) => n === b.dims[i]) && a.affine.every((row, r) => row.every((v, c) => Math.abs(v - b.affine[r]![c]!) < 1e-3))
    if (!same) throw new Error(`the mask's grid (${a.dims.join('x')}) is not its input's (${b.dims.join('x')})`)
  } catch (error) {
    throw new PacsflowError('QSMXT_TOOL_OUTPUT', `HD-BET wrote an unusable brain mask: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      details: { tool: 'hdBet', step: SKULL_STRIP_STEP, mask, log: logFile(job, SKULL_STRIP_STEP), logTail: logTail(logFile(job, SKULL_STRIP_STEP)) },
    })
  }
}

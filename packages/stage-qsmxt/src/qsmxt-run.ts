// Step 4: QSMxT (v8 or v9) on a BIDS view of the converted echoes, with the registered brain mask as its mask; finds the Chimap.
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, symlink } from 'node:fs/promises'
import { basename, dirname, join, relative } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import { readNiftiHeader } from '@pacsflow/imaging'
import { anatDir, GRE_SUFFIX, MASK_PIPELINE, maskPath, SESSION, SUBJECT, writeDatasetDescriptions } from './bids.js'
import { qsmxtArgs, qsmxtChimapPath, qsmxtLocalFieldPath } from './command-lines.js'
import { logFile, runJobTool, type Job } from './job.js'
import { logTail } from './run-tool.js'

export const QSMXT_STEP = 'qsmxt'

export interface QsmxtRunData {
  readonly cli: 8 | 9
  /** Whether QSMxT was handed the brain mask. */
  readonly usedBrainMask: boolean
}

/**
 * Builds `<dir>/bids` (relative links to the converted echo files, so the step owns its folder and
 * containers see the links inside the bound workDir), puts the mask in `derivatives/pacsflow`, runs
 * QSMxT into `<dir>/out`, and returns the Chimap (and v9's local field when it is there).
 */
export async function runQsmxt(job: Job, dir: string, echoFiles: readonly string[], greMask: string | undefined): Promise<{ outputs: Record<string, string>; data: QsmxtRunData }> {
  const bids = join(dir, 'bids')
  const anat = anatDir(bids)
  await mkdir(anat, { recursive: true })
  for (const file of echoFiles) await symlink(relative(anat, file), join(anat, basename(file)))
  const useMask = greMask !== undefined && job.options.useBrainMask && job.tools.qsmxtCustomMasks
  if (greMask !== undefined && job.options.useBrainMask && !job.tools.qsmxtCustomMasks) {
    job.log.warn({ step: QSMXT_STEP }, 'qsmxt: this QSMxT (v9 before 9.6) cannot take a mask; it computes its own, and the result carries the HD-BET mask')
  }
  await writeDatasetDescriptions(bids, useMask)
  if (useMask) {
    await mkdir(dirname(maskPath(bids)), { recursive: true })
    await copyFile(greMask, maskPath(bids))
  }
  const out = join(dir, 'out')
  await mkdir(out, { recursive: true })
  const cli = job.tools.qsmxtCli
  const args = qsmxtArgs(cli, {
    bidsDir: bids,
    outDir: out,
    premade: job.options.premade,
    ...(useMask ? { maskPipeline: MASK_PIPELINE } : {}),
    ...(job.options.threads === undefined ? {} : { threads: job.options.threads }),
  })
  await runJobTool(job, QSMXT_STEP, 'qsmxt', args, { gpu: job.gpu, cwd: dir, stepDir: dir })
  const chimap = await findChimap(job, cli, out)
  const localField = cli === 9 ? qsmxtLocalFieldPath(out, SUBJECT, SESSION) : undefined
  return {
    outputs: { chimap, ...(localField !== undefined && existsSync(localField) ? { localField } : {}) },
    data: { cli, usedBrainMask: useMask },
  }
}

/**
 * The Chimap at its documented place (`qsmxtChimapPath`, `.nii` or `.nii.gz`); failing that, the one
 * `*_Chimap.nii*` under `out` that is not a `desc-` variant or a workflow intermediate. Checked readable.
 */
async function findChimap(job: Job, cli: 8 | 9, out: string): Promise<string> {
  const documented = qsmxtChimapPath(cli, out, SUBJECT, SESSION, GRE_SUFFIX)
  let found = [documented, `${documented}.gz`].find((path) => existsSync(path))
  if (found === undefined) {
    const all = (await readdir(out, { recursive: true })).map(String).filter((path) => /_Chimap\.nii(\.gz)?$/.test(path))
    const final = all.filter((path) => !/(^|[/_])desc-/.test(basename(path)) && !path.split(/[\\/]/).includes('workflow'))
    if (final.length === 1) {
      found = join(out, final[0]!)
      job.log.warn({ step: QSMXT_STEP, documented, found }, 'qsmxt: the Chimap is not where this QSMxT version documents it; using the one found')
    } else {
      throw new PacsflowError('QSMXT_TOOL_OUTPUT', final.length === 0 ? `QSMxT v${cli} exited 0 but wrote no Chimap (expected ${documented})` : `QSMxT v${cli} wrote ${final.length} Chimaps and none at ${documented}`, {
        details: { tool: 'qsmxt', step: QSMXT_STEP, expected: documented, found: all, log: logFile(job, QSMXT_STEP), logTail: logTail(logFile(job, QSMXT_STEP)) },
      })
    }
  }
  try {
    await readNiftiHeader(found)
  } catch (error) {
    throw new PacsflowError('QSMXT_TOOL_OUTPUT', `QSMxT wrote an unreadable Chimap (${found})`, {
      cause: error,
      details: { tool: 'qsmxt', step: QSMXT_STEP, path: found, log: logFile(job, QSMXT_STEP), logTail: logTail(logFile(job, QSMXT_STEP)) },
    })
  }
  return found
}

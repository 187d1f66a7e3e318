// `pacsflow qsm`: finds the GRE magnitude/phase (and T1/FGATIR) in a DICOM folder and computes QSM with the native engine.
import { resolve } from 'node:path'
import { PacsflowError, silentLogger } from '@pacsflow/core'
import type { QsmDicomInput } from '@pacsflow/imaging'
import type { QsmNativeOptions } from '@pacsflow/stage-qsm-native'
import { defineCommand, integerFlag, UsageError, type ParsedArgs } from '../command.js'
import { progressReporter } from '../progress.js'

function oneOf<T extends string>(value: unknown, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag} must be ${allowed.join(', ')}`)
  return value as T
}

function radiiFlag(value: unknown): number[] | undefined {
  if (value === undefined) return undefined
  const radii = String(value).split(',').map(Number)
  if (radii.length === 0 || !radii.every((r) => Number.isFinite(r) && r > 0)) throw new UsageError('--vsharp-radii must be radii in mm, e.g. --vsharp-radii 6,4.5,3,1.5')
  return radii
}

/** The engine options the flags spell. */
function optionsFrom(args: ParsedArgs, cwd: string): QsmNativeOptions {
  const v = args.values
  const background = oneOf(v.background, ['single-step', 'pdf', 'vsharp'], 'background')
  const inversion = oneOf(v.inversion, ['rts', 'tkd', 'single-step'], 'inversion')
  const radii = radiiFlag(v['vsharp-radii'])
  const threads = integerFlag(args, 'threads', 1, 64)
  return {
    ...(threads === undefined ? {} : { threads }),
    ...(background === undefined ? {} : { background }),
    ...(inversion === undefined ? {} : { inversion }),
    ...(radii === undefined ? {} : { vsharpRadiiMm: radii }),
    ...(typeof v.mask === 'string' ? { mask: { file: resolve(cwd, v.mask) } } : {}),
    ...(v.gzip === true ? { gzip: true } : {}),
  }
}

/** The QSM series of the folder's one study (or the study `--study` names). */
async function selection(dir: string, study: string | undefined): Promise<QsmDicomInput> {
  const { groupStudies, indexDicom, qsmRoles, selectSeries } = await import('@pacsflow/imaging')
  const studies = groupStudies((await indexDicom(dir)).instances)
  const fits = studies.filter((s) => study === undefined || s.studyInstanceUid === study)
  if (fits.length !== 1) {
    const listed = studies.map((s) => `${s.studyInstanceUid} (${s.studyDescription ?? ''}, ${s.series.length} series)`).join('; ')
    throw new PacsflowError(
      'QSM_INPUT',
      fits.length === 0 ? `no ${study === undefined ? '' : `study '${study}' and no `}DICOM study under ${dir}${listed === '' ? '' : `: ${listed}`}` : `${fits.length} studies under ${dir}: choose one with --study <uid>: ${listed}`,
    )
  }
  return selectSeries(fits[0]!, qsmRoles)
}

export const qsmCommand = defineCommand({
  name: 'qsm',
  summary: 'compute QSM (chi in ppm) from a multi-echo GRE DICOM folder with the native engine',
  usage: 'pacsflow qsm <dicom-dir> <out-dir> [--engine native] [options]',
  help: `Indexes <dicom-dir>, picks the GRE magnitude and phase series by their image type and echoes
(and a T1 or FGATIR, when there is one, as the target grid), and runs the native engine: brain
mask, Laplacian unwrapping, magnitude-weighted field fit, background removal, dipole inversion.
Writes into <out-dir>: chi.nii (ppm, GRE grid), mask.nii, local-field.nii (ppm) and, with a T1 or
FGATIR, chi-t1.nii / chi-fgatir.nii (chi resampled onto it).

  --engine <e>           native (the only engine this command runs; stage-qsmxt is a pipeline stage)
  --background <b>       single-step (default: the background removed inside a TV-regularised fit), pdf or vsharp
  --vsharp-radii <mm,..> V-SHARP ball radii (default 6,4.5,3,1.5)
  --inversion <i>        rts (default), tkd, or single-step (the fit's chi itself; with --background single-step)
  --mask <file>          a brain mask NIfTI (any grid in the same world) instead of the magnitude's
  --study <uid>          which study, when the folder holds several
  --threads <n>          threads for the large FFTs, this one included (default: the cores, at most 4)
  --gzip                 write .nii.gz
  --json                 print the result as JSON`,
  options: {
    engine: { type: 'string' },
    background: { type: 'string' },
    'vsharp-radii': { type: 'string' },
    inversion: { type: 'string' },
    mask: { type: 'string' },
    study: { type: 'string' },
    gzip: { type: 'boolean' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    const [input, output, ...extra] = args.positionals
    if (input === undefined || output === undefined) throw new UsageError('<dicom-dir> and <out-dir> are required')
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
    oneOf(args.values.engine, ['native'], 'engine')
    const options = optionsFrom(args, io.cwd)
    const { qsmNative } = await import('@pacsflow/stage-qsm-native')
    const stage = qsmNative(options)
    const outDir = resolve(io.cwd, output)
    const series = await selection(resolve(io.cwd, input), args.values.study as string | undefined)
    // The runner's progress display, fed directly: a bar on a terminal, quarter lines elsewhere (on stderr).
    const reporter = progressReporter({ write: io.stderr, isTty: io.isTty })
    const at = { jobId: 'pacsflow-qsm', stage: stage.name, index: 0 }
    const started = Date.now()
    reporter.handle({ type: 'stage:start', at: started, ...at, attempt: 1 })
    const result = await stage.run(series, {
      jobId: at.jobId,
      stage: stage.name,
      attempt: 1,
      signal: new AbortController().signal,
      workDir: outDir,
      log: silentLogger,
      slots: {},
      progress: (fraction, note) => reporter.handle({ type: 'stage:progress', at: Date.now(), ...at, fraction, ...(note === undefined ? {} : { note }) }),
    })
    reporter.handle({ type: 'stage:end', at: Date.now(), ...at, attempt: 1, durationMs: Date.now() - started, outcome: 'ok' })
    reporter.close()
    if (args.values.json === true) {
      io.stdout(`${JSON.stringify({ ...result, target: { role: result.target.role, volumeId: result.target.volumeId } }, null, 2)}\n`)
      return 0
    }
    const total = Object.values(result.timings).reduce((sum, ms) => sum + ms, 0)
    io.stdout(
      [
        `chi (ppm, GRE grid):     ${result.chi}`,
        ...(result.chiOnTarget === result.chi ? [] : [`chi on the ${result.target.role}:`.padEnd(25) + result.chiOnTarget]),
        `brain mask:              ${result.mask}`,
        `local field (ppm):       ${result.localField ?? ''}`,
        `echoes ${result.echoTimesMs.join(', ')} ms at ${result.fieldStrengthT} T`,
        `timings (ms): ${Object.entries(result.timings).map(([step, ms]) => `${step} ${ms}`).join(', ')}; total ${total}`,
      ].join('\n') + '\n',
    )
    return 0
  },
})

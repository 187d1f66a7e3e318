// `pacsflow make-exam`: writes the synthetic QSM exam (Siemens-style DICOM plus ground truth) into a folder.
import { relative, resolve } from 'node:path'
import type { ExamOptions, T1Options } from '@pacsflow/testkit'
import { defineCommand, UsageError, type ParsedArgs } from '../command.js'

function numberFlag(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined
  const text = String(value).toLowerCase()
  if (flag === 'snr' && (text === 'inf' || text === 'infinity')) return Number.POSITIVE_INFINITY
  const parsed = Number(text)
  if (text === '' || !Number.isFinite(parsed)) throw new UsageError(`--${flag} must be a number${flag === 'snr' ? ' (or inf for no noise)' : ''}`)
  return parsed
}

/** `--misalign rx,ry,rz,tx,ty,tz`: degrees about LPS x, y, z, then mm along them. */
function misalignment(value: unknown): T1Options['misalignment'] | undefined {
  if (value === undefined) return undefined
  const parts = String(value).split(',').map(Number)
  if (parts.length !== 6 || !parts.every(Number.isFinite)) throw new UsageError('--misalign must be six numbers: rx,ry,rz (degrees),tx,ty,tz (mm), e.g. --misalign 2,0,3,1.5,0,-1')
  return { rotationDegrees: [parts[0]!, parts[1]!, parts[2]!], translationMm: [parts[3]!, parts[4]!, parts[5]!] }
}

/**
 * `--oblique` alone tilts by 15 degrees; `--oblique <deg>` by that many. parseArgs has no options
 * with an optional value, so the angle arrives as a second, numeric positional.
 */
function outAndOblique(args: ParsedArgs): { out: string; oblique: boolean | number } {
  const positionals = [...args.positionals]
  const isAngle = (text: string): boolean => text.trim() !== '' && Number.isFinite(Number(text))
  let oblique: boolean | number = args.values.oblique === true
  if (oblique && positionals.length === 2) {
    const angles = positionals.filter(isAngle)
    if (angles.length !== 1) throw new UsageError('--oblique takes one angle in degrees, e.g. --oblique 10')
    oblique = Number(angles[0])
    positionals.splice(positionals.indexOf(angles[0]!), 1)
  }
  const [out, ...extra] = positionals
  if (out === undefined) throw new UsageError('<out> is required')
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
  return { out, oblique }
}

function t1Options(args: ParsedArgs): T1Options | false | undefined {
  const v = args.values
  const plane = v.t1 as string | undefined
  if (plane !== undefined && !['sagittal', 'axial', 'none'].includes(plane)) throw new UsageError('--t1 must be sagittal, axial or none')
  if (plane === 'none') return false
  const voxelMm = numberFlag(v['t1-voxel'], 't1-voxel')
  const misalign = misalignment(v.misalign)
  if (plane === undefined && voxelMm === undefined && misalign === undefined) return undefined
  return {
    ...(plane === undefined ? {} : { plane: plane as 'sagittal' | 'axial' }),
    ...(voxelMm === undefined ? {} : { voxelMm }),
    ...(misalign === undefined ? {} : { misalignment: misalign }),
  }
}

export const makeExamCommand = defineCommand({
  name: 'make-exam',
  summary: 'write a synthetic multi-echo GRE + T1 DICOM exam with known susceptibility, and its ground truth',
  usage: 'pacsflow make-exam <out> [--preset small|default] [--oblique [deg]] [--snr <n>] [--seed <n>] [options]',
  help: `Writes <out>/dicom (T1 series 2, GRE magnitude 3 and phase 4, one classic MR file per slice
per echo, as a Siemens scanner does) and <out>/truth (chi, mask, labels, local and total field in
ppm as NIfTI on the GRE grid, and truth.json with every parameter). The same options and seed
give identical files. Score a QSM result with: pacsflow score-qsm <chi.nii> <out>/truth

  --preset <p>        default (128x128x96 at 1.5 mm, the default) or small (64x64x48 at 3 mm)
  --oblique [deg]     tilt the GRE slab about the LR and AP axes (15 degrees without a value; at most 20)
  --snr <n>           white matter at echo 1 over the noise sigma (default 100; inf: no noise)
  --seed <n>          noise and UID seed (default 1)
  --echoes <n>        number of echoes (default 4; TE 4 ms + 6 ms steps)
  --t1 <plane>        sagittal (default), axial, or none
  --t1-voxel <mm>     T1 voxel size (default 2 for small, 1 for default)
  --misalign <r,t>    move the head in the T1: rx,ry,rz degrees then tx,ty,tz mm (LPS)
  --json              print the manifest as JSON`,
  options: {
    preset: { type: 'string' },
    oblique: { type: 'boolean' },
    snr: { type: 'string' },
    seed: { type: 'string' },
    echoes: { type: 'string' },
    t1: { type: 'string' },
    't1-voxel': { type: 'string' },
    misalign: { type: 'string' },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    const v = args.values
    const { out, oblique } = outAndOblique(args)
    const preset = v.preset as string | undefined
    if (preset !== undefined && preset !== 'small' && preset !== 'default') throw new UsageError('--preset must be small or default')
    const t1 = t1Options(args)
    const [snr, seed, echoes] = [numberFlag(v.snr, 'snr'), numberFlag(v.seed, 'seed'), numberFlag(v.echoes, 'echoes')]
    const options: ExamOptions = {
      ...(preset === undefined ? {} : { preset }),
      ...(oblique === false ? {} : { oblique }),
      ...(snr === undefined ? {} : { snr }),
      ...(seed === undefined ? {} : { seed }),
      ...(echoes === undefined ? {} : { echoes }),
      ...(t1 === undefined ? {} : { t1 }),
    }
    const started = performance.now()
    const { makeExam } = await import('@pacsflow/testkit')
    const manifest = await makeExam(resolve(io.cwd, out), options)
    const seconds = (performance.now() - started) / 1000
    if (v.json === true) {
      io.stdout(`${JSON.stringify(manifest, null, 2)}\n`)
      return 0
    }
    const p = manifest.parameters
    const show = (path: string): string => relative(io.cwd, path) || '.'
    const { t1: t1Series, magnitude, phase } = manifest.series
    const series = [['T1', t1Series], ['magnitude', magnitude], ['phase', phase]] as const
    io.stdout(
      [
        `exam written to ${show(manifest.outDir)} in ${seconds.toFixed(1)} s: preset ${p.preset} (${p.dims.join('x')} at ${p.voxelMm} mm), ` +
          `${p.echoes} echoes TE ${manifest.echoTimesMs.join('/')} ms, SNR ${p.snr ?? 'inf'}, oblique ${p.obliqueDegrees} deg, seed ${p.seed}`,
        ...series.flatMap(([role, s]) => (s === undefined ? [] : [`  series ${s.seriesNumber} ${role.padEnd(9)} ${s.description.padEnd(14)} ${String(s.files).padStart(4)} files  ${show(s.dir)}`])),
        `  truth  ${show(manifest.truth.dir)}: chi, mask, labels, local-field, total-field (.nii), truth.json`,
        '',
      ].join('\n'),
    )
    return 0
  },
})

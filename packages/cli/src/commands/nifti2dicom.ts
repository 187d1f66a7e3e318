// `pacsflow nifti2dicom`: encodes a NIfTI result as a derived DICOM series beside its reference series.
import { resolve } from 'node:path'
import { PacsflowError } from '@pacsflow/core'
import type { DicomSeries } from '@pacsflow/imaging'
import type { DicomiseOptions } from '@pacsflow/stage-dicomise'
import { defineCommand, UsageError, type ParsedArgs } from '../command.js'

function oneOf<T extends string>(value: unknown, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag} must be ${allowed.join(', ')}`)
  return value as T
}

function numberFlag(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (value === '' || !Number.isFinite(parsed)) throw new UsageError(`--${flag} must be a number`)
  return parsed
}

function clampFlag(value: unknown): readonly [number, number] | undefined {
  if (value === undefined) return undefined
  const parts = String(value).split(',').map(Number)
  if (parts.length !== 2 || !parts.every(Number.isFinite)) throw new UsageError('--clamp must be <low>,<high>, e.g. --clamp=-0.35,0.35')
  return [parts[0]!, parts[1]!]
}

/** The options the flags spell. */
function optionsFrom(args: ParsedArgs): DicomiseOptions {
  const v = args.values
  const clamp = clampFlag(v.clamp)
  const seriesNumber = numberFlag(v['series-number'], 'series-number')
  const grid = oneOf(v.grid, ['reference', 'own'], 'grid')
  const profile = oneOf(v.profile, ['pacs', 'brainlab', 'stealthstation'], 'profile')
  const quantity = oneOf(v.quantity, ['susceptibility', 'labels'], 'quantity')
  const modality = oneOf(v.modality, ['MR', 'CT', 'OT'], 'modality')
  const encoding = {
    ...(v.unsigned === true ? { pixel: 'unsigned' as const } : {}),
    ...(clamp === undefined ? {} : { clamp }),
  }
  return {
    ...(typeof v.description === 'string' ? { seriesDescription: v.description } : {}),
    ...(seriesNumber === undefined ? {} : { seriesNumber }),
    ...(grid === undefined ? {} : { grid }),
    ...(profile === undefined ? {} : { profile }),
    ...(quantity === undefined ? {} : { quantity }),
    ...(modality === undefined ? {} : { modality }),
    ...(Object.keys(encoding).length === 0 ? {} : { encoding }),
    ...(v.diagnostic === true ? { notForDiagnosticUse: false } : {}),
  }
}

/** The reference series in the folder: the only one, or the one `--series` names (number or UID). */
async function referenceSeries(dir: string, wanted: string | undefined): Promise<DicomSeries> {
  const { groupStudies, indexDicom } = await import('@pacsflow/imaging')
  const { instances } = await indexDicom(dir)
  const all = groupStudies(instances).flatMap((study) => study.series)
  const fits = all.filter((s) => wanted === undefined || s.seriesInstanceUid === wanted || String(s.seriesNumber) === wanted)
  if (fits.length === 1) return fits[0]!
  const listed = all.map((s) => `${s.seriesNumber ?? '?'} ${s.seriesDescription ?? ''} (${s.seriesInstanceUid})`).join('; ')
  throw new PacsflowError(
    'DICOMISE_REFERENCE',
    fits.length === 0
      ? `no ${wanted === undefined ? '' : `series '${wanted}' and no `}DICOM series under ${dir}${listed === '' ? '' : `: ${listed}`}`
      : `${fits.length} series under ${dir}: choose one with --series <number|uid>: ${listed}`,
  )
}

export const nifti2dicomCommand = defineCommand({
  name: 'nifti2dicom',
  summary: 'encode a NIfTI result (e.g. QSM in ppm) as a derived DICOM series beside its reference series',
  usage: 'pacsflow nifti2dicom --reference <dicom-dir> <in.nii[.gz]> <out-dir> [options]',
  help: `Writes one classic DICOM file per slice (Explicit VR Little Endian) into <out-dir>, in the
reference's patient, study and frame of reference, resampled onto the reference's grid unless
--grid own. The UIDs derive from the input, the reference and the options (and --uid-seed), so
running the same command again writes the same instances.

  --reference <dir>      DICOM folder holding the series the volume was aligned to (required)
  --series <n|uid>       which series of that folder, when it holds several
  --volume <id>          which volume of the series is the grid (default its first)
  --grid <g>             reference (default) or own (keep the NIfTI grid)
  --profile <p>          pacs (default), brainlab or stealthstation
  --quantity <q>         susceptibility (default: ppm, 0.001 ppm per unit) or labels
  --modality <m>         MR (default), CT or OT (Secondary Capture)
  --description <text>   SeriesDescription
  --series-number <n>    SeriesNumber (default: the reference's + 1000)
  --unsigned             unsigned pixels (systems that refuse negative values)
  --clamp=<low,high>     clamp values first (e.g. --clamp=-0.35,0.35); never done otherwise
  --diagnostic           leave out the "NOT FOR DIAGNOSTIC USE" image comment
  --uid-seed <text>      seed of the UIDs (default: nifti2dicom)
  --json                 print the result as JSON`,
  options: {
    reference: { type: 'string' },
    series: { type: 'string' },
    volume: { type: 'string' },
    grid: { type: 'string' },
    profile: { type: 'string' },
    quantity: { type: 'string' },
    modality: { type: 'string' },
    description: { type: 'string' },
    'series-number': { type: 'string' },
    unsigned: { type: 'boolean' },
    clamp: { type: 'string' },
    diagnostic: { type: 'boolean' },
    'uid-seed': { type: 'string' },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    const [input, output, ...extra] = args.positionals
    if (input === undefined || output === undefined) throw new UsageError('<in.nii[.gz]> and <out-dir> are required')
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
    const referenceDir = args.values.reference
    if (typeof referenceDir !== 'string') throw new UsageError('--reference <dicom-dir> is required')
    const options = optionsFrom(args)
    const reference = await referenceSeries(resolve(io.cwd, referenceDir), args.values.series as string | undefined)
    const volume = args.values.volume as string | undefined
    const { niftiToDicom } = await import('@pacsflow/stage-dicomise')
    const result = await niftiToDicom(
      {
        nifti: resolve(io.cwd, input),
        reference,
        ...(volume === undefined ? {} : { referenceVolume: volume }),
        outDir: resolve(io.cwd, output),
        uidSeed: (args.values['uid-seed'] as string | undefined) ?? 'nifti2dicom',
      },
      options,
    )
    const { encoding, series } = result
    if (args.values.json === true) {
      io.stdout(`${JSON.stringify({ outDir: result.outDir, files: result.files, seriesInstanceUid: series.seriesInstanceUid, encoding }, null, 2)}\n`)
    } else {
      io.stdout(
        `${result.files.length} DICOM file(s) in ${result.outDir}: series ${series.seriesNumber ?? '?'} "${series.seriesDescription ?? ''}" (${series.seriesInstanceUid})\n` +
          `stored value = (value - ${encoding.intercept}) / ${encoding.slope}${encoding.units === undefined ? '' : ` ${encoding.units}`}` +
          `, ${encoding.pixel} 16-bit${encoding.clamped > 0 ? `, ${encoding.clamped} voxel(s) clamped` : ''}, profile ${encoding.profile}\n`,
      )
    }
    return 0
  },
})

// `pacsflow dicom2nifti`: converts every volume of every series under a folder, natively (no dcm2niix).
import { resolve } from 'node:path'
import type { NiftiOutput } from '@pacsflow/imaging'
import { defineCommand, UsageError } from '../command.js'

export const dicom2niftiCommand = defineCommand({
  name: 'dicom2nifti',
  summary: 'convert a folder of DICOM to NIfTI + JSON sidecars (no external tools)',
  usage: 'pacsflow dicom2nifti <in-dir> <out-dir> [--gzip] [--phase native|radians] [--keep-orientation] [--json]',
  help: `Indexes every file under <in-dir>, groups studies, series and volumes (split by echo,
magnitude/phase, orientation), and writes one NIfTI per volume with a BIDS-style JSON sidecar,
laid out as dcm2niix lays them out. Files that are not DICOM and volumes that cannot be built
(a missing slice, uneven spacing, gantry tilt, mixed sizes) are reported with their error code;
the rest is still converted, and the exit code is then 1.

  --gzip               write .nii.gz
  --phase <p>          native (default: the scanner's scaling) or radians
  --keep-orientation   do not rotate 3D acquisitions to the nearest RAS layout (dcm2niix does)
  --json               print what was written as JSON`,
  options: {
    gzip: { type: 'boolean' },
    phase: { type: 'string' },
    'keep-orientation': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  run: async (args, io) => {
    const [input, output, ...extra] = args.positionals
    if (input === undefined || output === undefined) throw new UsageError('<in-dir> and <out-dir> are required')
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
    const phase = (args.values.phase as string | undefined) ?? 'native'
    if (phase !== 'native' && phase !== 'radians') throw new UsageError('--phase must be native or radians')

    // A one-shot command: reading from the page cache directly is faster and blocks nobody.
    const { groupStudies, indexDicom, toNifti } = await import('@pacsflow/imaging')
    const { instances, problems } = await indexDicom(resolve(io.cwd, input), { io: 'auto' })
    const written: NiftiOutput[] = []
    let failures = problems.length
    for (const problem of problems) io.stderr(`skipped ${problem.path}: ${problem.error.code}: ${problem.error.message}\n`)
    for (const study of groupStudies(instances)) {
      for (const series of study.series) {
        for (const problem of series.problems) {
          failures++
          io.stderr(`series ${series.seriesNumber ?? '?'} (${series.seriesDescription ?? ''}): ${problem.code}: ${problem.message}\n`)
        }
        const outputs = await toNifti(series, {
          outDir: resolve(io.cwd, output),
          gzip: args.values.gzip === true,
          phase,
          reorient3d: args.values['keep-orientation'] !== true,
          // As dcm2niix: each file appears whole (temporary name, rename) but is not fsynced.
          durable: false,
        })
        written.push(...outputs)
        if (args.values.json !== true) {
          for (const out of outputs) io.stdout(`${out.niftiPath}  ${out.dims.join('x')}\n`)
        }
      }
    }
    if (args.values.json === true) io.stdout(`${JSON.stringify({ written, failures }, null, 2)}\n`)
    else io.stdout(`${written.length} NIfTI file(s) from ${instances.length} DICOM file(s)${failures > 0 ? `, ${failures} problem(s)` : ''}\n`)
    return failures > 0 ? 1 : 0
  },
})

// Step 1: the GRE echoes and the anatomical targets to NIfTI in the BIDS layout QSMxT reads (dcm2niix, native, or copied NIfTI).
import { copyFile, mkdir, readdir, readFile, rename, symlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { PacsflowError, writeFileAtomic } from '@pacsflow/core'
import { invertAffine, readNiftiHeader, volumeToNifti, type DicomSeries, type DicomVolume, type Mat4, type SelectedSeries } from '@pacsflow/imaging'
import { anatDir, echoFileName, sidecarPath, t1FileName, writeDatasetDescriptions } from './bids.js'
import { dcm2niixArgs } from './command-lines.js'
import type { InputPlan } from './input.js'
import { logFile, runJobTool, type Job } from './job.js'
import { logTail } from './run-tool.js'

export const CONVERT_STEP = 'convert'

/** What the convert step records besides its files. */
export interface ConvertData {
  readonly fieldStrengthT: number
  readonly echoes: readonly { readonly echo: number; readonly echoTimeMs: number }[]
  readonly converter: 'dcm2niix' | 'native' | 'copy'
}

/** Output keys: `echo-<n>-mag`, `echo-<n>-phase` (and `-json`), `t1`, `fgatir`. */
export const echoKey = (echo: number, part: 'mag' | 'phase'): string => `echo-${echo}-${part}`

interface Wanted {
  readonly key: string
  readonly volume: DicomVolume
  readonly part: 'mag' | 'phase'
  /** Where the file goes (extension decides gzip). */
  readonly path: string
  readonly echoTimeMs?: number
}

/** One converter run: a series and the volumes of it that are wanted, with where each goes. */
interface Conversion {
  readonly name: string
  readonly series: DicomSeries
  readonly wanted: readonly Wanted[]
}

/** Runs the conversion into `<dir>/bids` and checks that all echoes share one grid. */
export async function convertInput(job: Job, dir: string, plan: InputPlan): Promise<{ outputs: Record<string, string>; data: ConvertData }> {
  const bids = join(dir, 'bids')
  const anat = anatDir(bids)
  await mkdir(anat, { recursive: true })
  await mkdir(join(dir, 'targets'), { recursive: true })
  await writeDatasetDescriptions(bids, false)
  const outputs: Record<string, string> = plan.kind === 'nifti' ? await copyNiftiEchoes(plan, anat) : {}
  const conversions = planConversions(plan, anat, join(dir, 'targets'))
  for (const conversion of conversions) {
    job.signal.throwIfAborted()
    const written =
      job.options.converter === 'native'
        ? await convertNative(job, conversion.series, conversion.wanted)
        : await convertDcm2niix(job, dir, conversion.name, conversion.series, conversion.wanted)
    Object.assign(outputs, written)
  }
  await writeSidecars(plan, outputs)
  for (const [key, path] of Object.entries({ ...outputs })) if (key.startsWith('echo-') || key === 't1') outputs[`${key}-json`] = sidecarPath(path)
  await checkEchoGrids(plan, outputs)
  return {
    outputs,
    data: {
      fieldStrengthT: plan.fieldStrengthT,
      echoes: plan.echoes.map((echo) => ({ echo: echo.echo, echoTimeMs: echo.echoTimeMs })),
      converter: plan.kind === 'nifti' && conversions.length === 0 ? 'copy' : job.options.converter,
    },
  }
}

/** NIfTI echoes copied to their BIDS names (keeping `.nii` or `.nii.gz`). */
async function copyNiftiEchoes(plan: InputPlan, anat: string): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {}
  for (const echo of plan.echoes) {
    for (const part of ['mag', 'phase'] as const) {
      const source = (part === 'mag' ? echo.magnitude : echo.phase) as string
      const target = join(anat, echoFileName(echo.echo, part, source.toLowerCase().endsWith('.gz') ? '.nii.gz' : '.nii'))
      await copyFile(source, target)
      outputs[echoKey(echo.echo, part)] = target
    }
  }
  return outputs
}

/**
 * The converter runs: the GRE in one run when magnitude and phase share a series (Philips, some GE),
 * else one run each; the T1 and the FGATIR one run each (gzipped: HD-BET and registration read them).
 */
function planConversions(plan: InputPlan, anat: string, targetsDir: string): Conversion[] {
  const conversions: Conversion[] = []
  if (plan.kind === 'dicom') {
    const gre = (part: 'mag' | 'phase'): Wanted[] =>
      plan.echoes.map((echo) => ({
        key: echoKey(echo.echo, part),
        volume: (part === 'mag' ? echo.magnitude : echo.phase) as DicomVolume,
        part,
        path: join(anat, echoFileName(echo.echo, part)),
        echoTimeMs: echo.echoTimeMs,
      }))
    const [magnitude, phase] = [plan.magnitude!.series, plan.phase!.series]
    if (magnitude.seriesInstanceUid === phase.seriesInstanceUid) conversions.push({ name: 'gre', series: magnitude, wanted: [...gre('mag'), ...gre('phase')] })
    else conversions.push({ name: 'gre-mag', series: magnitude, wanted: gre('mag') }, { name: 'gre-phase', series: phase, wanted: gre('phase') })
  }
  const target = (name: string, selected: SelectedSeries | undefined, path: string): void => {
    if (selected !== undefined) conversions.push({ name, series: selected.series, wanted: [{ key: name, volume: selected.volumes[0]!, part: 'mag', path }] })
  }
  target('t1', plan.t1, join(anat, t1FileName()))
  target('fgatir', plan.fgatir, join(targetsDir, 'fgatir.nii.gz'))
  return conversions
}

async function convertNative(job: Job, series: DicomSeries, wanted: readonly Wanted[]): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {}
  for (const item of wanted) {
    await mkdir(dirname(item.path), { recursive: true })
    await volumeToNifti(series, item.volume, item.path, { signal: job.signal, phase: 'native' })
    outputs[item.key] = item.path
  }
  return outputs
}

/** One dcm2niix run on a folder of links to the wanted volumes' files; its outputs are matched to them by sidecar. */
async function convertDcm2niix(job: Job, dir: string, name: string, series: DicomSeries, wanted: readonly Wanted[]): Promise<Record<string, string>> {
  const staging = join(dir, 'dicom', name)
  const output = join(dir, 'dcm2niix', name)
  await mkdir(staging, { recursive: true })
  await mkdir(output, { recursive: true })
  const files = [...new Set(wanted.flatMap((item) => item.volume.frames.map((frame) => frame.path)))].sort()
  await Promise.all(files.map((file, index) => symlink(file, join(staging, `${String(index).padStart(6, '0')}.dcm`))))
  const gzip = wanted.every((item) => item.path.endsWith('.gz'))
  const step = `${CONVERT_STEP}-${name}`
  await runJobTool(job, step, 'dcm2niix', dcm2niixArgs({ input: staging, output, gzip }), { readOnly: [...new Set(files.map((file) => dirname(file)))], cwd: dir })
  const candidates = await dcm2niixOutputs(output)
  const outputs: Record<string, string> = {}
  for (const item of wanted) {
    const match = pickOutput(candidates, item)
    if (match === undefined) {
      throw new PacsflowError('QSMXT_TOOL_OUTPUT', `dcm2niix wrote no NIfTI for ${item.key} (volume ${item.volume.id} of series ${series.seriesNumber ?? series.seriesInstanceUid})`, {
        details: { tool: 'dcm2niix', step, volume: item.volume.id, written: candidates.map((c) => basename(c.nifti)), log: logFile(job, step), logTail: logTail(logFile(job, step)) },
      })
    }
    candidates.splice(candidates.indexOf(match), 1)
    await mkdir(dirname(item.path), { recursive: true })
    await rename(match.nifti, item.path)
    await writeFileAtomic(sidecarPath(item.path), `${JSON.stringify(match.sidecar, null, 2)}\n`)
    outputs[item.key] = item.path
  }
  return outputs
}

interface Dcm2niixOutput {
  readonly nifti: string
  readonly sidecar: Record<string, unknown>
  readonly voxels: number
  readonly part: 'mag' | 'phase' | 'other'
}

/** Every NIfTI dcm2niix wrote with its sidecar, told apart as magnitude, phase, or other (real, imaginary). */
async function dcm2niixOutputs(dir: string): Promise<Dcm2niixOutput[]> {
  const names = await readdir(dir)
  const found: Dcm2niixOutput[] = []
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const stem = name.slice(0, -5)
    const nifti = names.includes(`${stem}.nii`) ? `${stem}.nii` : names.includes(`${stem}.nii.gz`) ? `${stem}.nii.gz` : undefined
    if (nifti === undefined) continue
    const sidecar = JSON.parse(await readFile(join(dir, name), 'utf8')) as Record<string, unknown>
    const header = await readNiftiHeader(join(dir, nifti))
    const imageType = Array.isArray(sidecar.ImageType) ? sidecar.ImageType.map(String) : []
    // dcm2niix marks phase with the `_ph` suffix and keeps ImageType (P, PHASE; Philips 'PHASE MAP').
    const other = /_(real|imaginary)$/.test(stem) || imageType.some((t) => ['R', 'I', 'REAL', 'IMAGINARY'].includes(t))
    const phase = /_ph$/.test(stem) || imageType.some((t) => t === 'P' || t === 'PHASE' || t === 'PHASE MAP')
    found.push({ nifti: join(dir, nifti), sidecar, voxels: header.dims.slice(0, 3).reduce((a, b) => a * b, 1), part: other ? 'other' : phase ? 'phase' : 'mag' })
  }
  return found
}

function pickOutput(candidates: readonly Dcm2niixOutput[], item: Wanted): Dcm2niixOutput | undefined {
  const volume = item.volume
  const fitting = candidates.filter((c) => c.part === item.part && c.voxels === volume.rows * volume.columns * volume.slices)
  if (fitting.length <= 1) return fitting[0]
  const echoOf = (c: Dcm2niixOutput) => (typeof c.sidecar.EchoNumber === 'number' ? c.sidecar.EchoNumber : undefined)
  const timeOf = (c: Dcm2niixOutput) => (typeof c.sidecar.EchoTime === 'number' ? c.sidecar.EchoTime * 1000 : undefined)
  return (
    fitting.find((c) => volume.echoNumber !== undefined && echoOf(c) === volume.echoNumber) ??
    fitting.find((c) => volume.echoTime !== undefined && Math.abs((timeOf(c) ?? -1) - volume.echoTime) < 0.01)
  )
}

/** Sidecars with the fields QSMxT needs (EchoTime in s, MagneticFieldStrength in T, B0_dir for NIfTI input when given). */
async function writeSidecars(plan: InputPlan, outputs: Record<string, string>): Promise<void> {
  for (const echo of plan.echoes) {
    for (const part of ['mag', 'phase'] as const) {
      const nifti = outputs[echoKey(echo.echo, part)]!
      const path = sidecarPath(nifti)
      let sidecar: Record<string, unknown> = {}
      try {
        sidecar = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
      } catch {
        // NIfTI input: no sidecar yet
      }
      sidecar.EchoTime = echo.echoTimeMs / 1000
      if (typeof sidecar.MagneticFieldStrength !== 'number') sidecar.MagneticFieldStrength = plan.fieldStrengthT
      if (plan.b0Direction !== undefined) sidecar.B0_dir = await b0InVoxelAxes(nifti, plan.b0Direction)
      await writeFileAtomic(path, `${JSON.stringify(sidecar, null, 2)}\n`)
    }
  }
}

/** The B0 direction (RAS world) in the grid's voxel axes, where QSMxT's dipole kernel lives (an assumption; see the README). */
async function b0InVoxelAxes(nifti: string, b0: readonly [number, number, number]): Promise<number[]> {
  const a = (await readNiftiHeader(nifti)).affine
  const unit = (v: readonly number[]) => v.map((x) => x / Math.hypot(...v))
  const cols = [0, 1, 2].map((c) => unit([a[0][c]!, a[1][c]!, a[2][c]!]))
  const directions: Mat4 = [
    [cols[0]![0]!, cols[1]![0]!, cols[2]![0]!, 0],
    [cols[0]![1]!, cols[1]![1]!, cols[2]![1]!, 0],
    [cols[0]![2]!, cols[1]![2]!, cols[2]![2]!, 0],
    [0, 0, 0, 1],
  ]
  const inverse = invertAffine(directions)
  return unit([0, 1, 2].map((r) => inverse[r]![0]! * b0[0] + inverse[r]![1]! * b0[1] + inverse[r]![2]! * b0[2])).map((x) => Math.round(x * 1e9) / 1e9)
}

/** Every echo's magnitude and phase on echo 1's magnitude grid (dims and affine within 1e-3 mm); `QSM_INPUT` otherwise. */
async function checkEchoGrids(plan: InputPlan, outputs: Record<string, string>): Promise<void> {
  const reference = await readNiftiHeader(outputs[echoKey(1, 'mag')]!)
  for (const echo of plan.echoes) {
    for (const part of ['mag', 'phase'] as const) {
      const path = outputs[echoKey(echo.echo, part)]!
      const header = await readNiftiHeader(path)
      const spatial = (dims: readonly number[]) => [dims[0] ?? 1, dims[1] ?? 1, dims[2] ?? 1]
      const extra = header.dims.slice(3).some((n) => n > 1)
      const sameDims = spatial(header.dims).every((n, i) => n === spatial(reference.dims)[i])
      const sameAffine = header.affine.every((row, r) => row.every((value, c) => Math.abs(value - reference.affine[r]![c]!) <= 1e-3))
      if (extra || !sameDims || !sameAffine) {
        throw new PacsflowError('QSM_INPUT', `qsmxt: echo ${echo.echo} ${part === 'mag' ? 'magnitude' : 'phase'} is not on the grid of echo 1's magnitude (mismatched magnitude/phase grids)`, {
          details: { path, dims: header.dims, referenceDims: reference.dims, affine: header.affine, referenceAffine: reference.affine },
        })
      }
    }
  }
}

// Writes the engine's results as NIfTI on the GRE grid, and chi resampled onto the target grid (FGATIR > T1 > magnitude).
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isQsmDicomInput, niftiLayout, resampleToGrid, writeNifti, type Mat4, type QsmInput, type QsmTarget, type SelectedSeries } from '@pacsflow/imaging'
import type { QsmArrays } from './engine.js'

/** The target a result is resampled onto, with its grid (absent: the GRE grid). */
export interface ResolvedTarget extends QsmTarget {
  readonly grid?: { readonly dims: readonly [number, number, number]; readonly affine: Mat4 }
}

function onSeries(role: 'fgatir' | 't1', selected: SelectedSeries): ResolvedTarget {
  const volume = selected.volumes[0] ?? selected.series.volumes[0]
  if (volume === undefined) return { role: 'magnitude' }
  const layout = niftiLayout(volume, selected.series)
  return { role, series: selected.series, volumeId: volume.id, grid: { dims: layout.dims, affine: layout.affine } }
}

/** FGATIR when given, else the T1, else the GRE magnitude (the DICOM series, when the input has one). */
export function resolveTarget(input: QsmInput): ResolvedTarget {
  if (input.fgatir !== undefined) return onSeries('fgatir', input.fgatir)
  if (input.t1 !== undefined) return onSeries('t1', input.t1)
  if (isQsmDicomInput(input)) {
    const volume = input.magnitude.volumes[0]
    return { role: 'magnitude', series: input.magnitude.series, ...(volume === undefined ? {} : { volumeId: volume.id }) }
  }
  return { role: 'magnitude' }
}

export interface WrittenFiles {
  readonly chi: string
  readonly chiOnTarget: string
  readonly mask: string
  readonly localField: string
}

export interface WriteRequest {
  readonly dir: string
  readonly dims: readonly [number, number, number]
  readonly affine: Mat4
  readonly arrays: QsmArrays
  readonly target: ResolvedTarget
  readonly gzip: boolean
  readonly signal?: AbortSignal
}

/** Writes chi, mask and local field (float32 ppm / uint8) with the GRE's geometry, and chi on the target grid. */
export async function writeResults(request: WriteRequest): Promise<WrittenFiles> {
  const { dir, dims, affine, arrays, target } = request
  await mkdir(dir, { recursive: true })
  const extension = request.gzip ? '.nii.gz' : '.nii'
  const files = {
    chi: join(dir, `chi${extension}`),
    mask: join(dir, `mask${extension}`),
    localField: join(dir, `local-field${extension}`),
  }
  await writeNifti(files.chi, { data: arrays.chi, dims, affine, description: 'chi ppm;pacsflow qsm-native' })
  await writeNifti(files.mask, { data: arrays.mask, dims, affine, description: 'brain mask;pacsflow qsm-native' })
  await writeNifti(files.localField, { data: arrays.localField, dims, affine, description: 'local field ppm;pacsflow qsm-native' })
  if (target.grid === undefined) return { ...files, chiOnTarget: files.chi }
  request.signal?.throwIfAborted()
  const resampled = resampleToGrid(arrays.chi, dims, affine, target.grid.dims, target.grid.affine, {
    interpolation: 'trilinear',
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  })
  const chiOnTarget = join(dir, `chi-${target.role}${extension}`)
  await writeNifti(chiOnTarget, { data: resampled, dims: target.grid.dims, affine: target.grid.affine, description: `chi ppm on ${target.role};pacsflow qsm-native` })
  return { ...files, chiOnTarget }
}

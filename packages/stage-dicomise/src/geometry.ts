// The output slice grid in DICOM terms (LPS): the reference series' own grid, or the NIfTI's, and
// the per-slice ImagePositionPatient, orientation and spacing attributes derived from it.
import { PacsflowError } from '@pacsflow/core'
import {
  affineFromColumns,
  apply,
  lpsToRas,
  type DicomSeries,
  type DicomVolume,
  type Mat4,
  type Orientation,
  type Vec3,
} from '@pacsflow/imaging'

/** A reference image an output slice was resampled from (SourceImageSequence, PS3.3 C.7.6.1.1.4). */
export interface SourceImage {
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  /** 1-based ReferencedFrameNumber, for a multi-frame reference file. */
  readonly frameNumber?: number
}

/** Where each output pixel lies: column c, row r of slice k is at `affineLps * (c, r, k)`. */
export interface OutputGrid {
  readonly columns: number
  readonly rows: number
  readonly slices: number
  readonly affineLps: Mat4
  /** ImageOrientationPatient: unit row direction (along a row), then unit column direction. */
  readonly orientation: Orientation
  /** PixelSpacing: [between rows, between columns] in mm (PS3.3 C.7.6.2.1.1). */
  readonly pixelSpacing: readonly [number, number]
  /** ImagePositionPatient of each slice: the centre of its first transmitted pixel. */
  readonly positions: readonly Vec3[]
  /** Centre-to-centre distance of neighbouring slices (SpacingBetweenSlices), mm. */
  readonly sliceSpacing: number
  readonly sliceThickness: number
  /** The reference image behind each slice. */
  readonly sources: readonly SourceImage[]
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s]
const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
const norm = (a: Vec3): number => Math.hypot(a[0], a[1], a[2])
const unit = (a: Vec3): Vec3 => scale(a, 1 / norm(a))
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
const column = (m: Mat4, c: 0 | 1 | 2 | 3): Vec3 => [m[0][c], m[1][c], m[2][c]]

/** The volume of `series` to overlay: by id, or its first. */
export function referenceVolume(series: DicomSeries, id?: string): DicomVolume {
  const volume = id === undefined ? series.volumes[0] : series.volumes.find((candidate) => candidate.id === id)
  if (volume === undefined) {
    const problems = series.problems.map((problem) => `${problem.code}: ${problem.message}`).join('; ')
    throw new PacsflowError(
      'DICOMISE_REFERENCE',
      id === undefined
        ? `reference series ${series.seriesInstanceUid} has no volume${problems === '' ? '' : ` (${problems})`}`
        : `reference series ${series.seriesInstanceUid} has no volume '${id}' (it has ${series.volumes.map((v) => v.id).join(', ')})`,
      { details: { seriesInstanceUid: series.seriesInstanceUid, problems: series.problems } },
    )
  }
  return volume
}

/** The reference volume's own grid, slice for slice (its first timepoint), positions as the files have them. */
export function referenceGrid(series: DicomSeries, volume: DicomVolume): OutputGrid {
  const frames = volume.frames.slice(0, volume.slices)
  const byPath = new Map(series.instances.map((instance) => [instance.path, instance]))
  const sources = frames.map((frame) => {
    const instance = byPath.get(frame.path)
    return {
      sopClassUid: instance?.sopClassUid ?? series.sopClassUid,
      sopInstanceUid: frame.sopInstanceUid,
      ...((instance?.numberOfFrames ?? 1) > 1 ? { frameNumber: frame.frame + 1 } : {}),
    }
  })
  return {
    columns: volume.columns,
    rows: volume.rows,
    slices: volume.slices,
    affineLps: volume.affineLps,
    orientation: volume.orientation,
    pixelSpacing: volume.pixelSpacing,
    positions: frames.map((frame) => frame.position),
    sliceSpacing: volume.sliceSpacing,
    sliceThickness: volume.sliceThickness ?? volume.sliceSpacing,
    sources,
  }
}

/**
 * The NIfTI's own grid as DICOM slices: NIfTI voxel (i, j, k) is pixel (column i, row ny-1-j) of
 * slice k, the inverse of dcm2niix's row flip, and RAS becomes LPS (PS3.3 C.7.6.2.1.1; nifti1.h).
 * In-plane directions are orthonormalised (IOP must be orthonormal); a sheared grid is refused.
 */
export function ownGrid(affineRas: Mat4, dims: readonly [number, number, number], reference: OutputGrid): OutputGrid {
  const lps = lpsToRas(affineRas) // the same sign change maps RAS back to LPS
  const [nx, ny, nz] = dims
  const columnStep = column(lps, 0)
  const rowStep = scale(column(lps, 1), -1)
  const sliceStep = column(lps, 2)
  // Rounding residue (cos 90 degrees = 6e-17) is written as 0, not as "6.123233996e-17".
  const clean = (a: Vec3): Vec3 => a.map((c) => (Math.abs(c) < 1e-12 ? 0 : c)) as unknown as Vec3
  const u = clean(unit(columnStep))
  const rowAlong = sub(rowStep, scale(u, dot(rowStep, u)))
  const v = clean(unit(rowAlong))
  const shear = Math.abs(dot(unit(rowStep), u))
  const normal = cross(u, v)
  const sliceShear = nz > 1 ? norm(cross(unit(sliceStep), normal)) : 0
  if (!(shear < 1e-4 && sliceShear < 1e-4) || !Number.isFinite(shear + sliceShear)) {
    throw new PacsflowError('DICOMISE_INPUT', 'the NIfTI grid is sheared (its axes are not perpendicular): DICOM slices cannot describe it; resample it first', {
      details: { inPlaneCosine: shear, sliceAxisSine: sliceShear },
    })
  }
  const [dx, dy] = [norm(columnStep), norm(rowStep)]
  const spacing = nz > 1 ? Math.abs(dot(sliceStep, normal)) : norm(sliceStep)
  const step = scale(normal, Math.sign(dot(sliceStep, normal)) * spacing)
  const origin = apply(lps, [0, ny - 1, 0])
  const affineLps = affineFromColumns(scale(u, dx), scale(v, dy), step, origin)
  const positions = Array.from({ length: nz }, (_, k) => add(origin, scale(step, k)))
  const grid = {
    columns: nx,
    rows: ny,
    slices: nz,
    affineLps,
    orientation: [...u, ...v] as unknown as Orientation,
    pixelSpacing: [dy, dx] as const,
    positions,
    sliceSpacing: spacing,
    sliceThickness: spacing,
  }
  return { ...grid, sources: positions.map((_, k) => nearestSource(grid, k, reference)) }
}

/** The reference image whose plane passes closest to the centre of output slice k. */
function nearestSource(grid: Pick<OutputGrid, 'affineLps' | 'columns' | 'rows'>, k: number, reference: OutputGrid): SourceImage {
  const centre = apply(grid.affineLps, [(grid.columns - 1) / 2, (grid.rows - 1) / 2, k])
  const normal = cross(reference.orientation.slice(0, 3) as unknown as Vec3, reference.orientation.slice(3) as unknown as Vec3)
  let best = 0
  let bestDistance = Number.POSITIVE_INFINITY
  reference.positions.forEach((position, j) => {
    const distance = Math.abs(dot(sub(centre, position), normal))
    if (distance < bestDistance) [best, bestDistance] = [j, distance]
  })
  return reference.sources[best]!
}

/**
 * The same field of view with square pixels (the finer spacing), for systems that need them:
 * slice positions keep their plane, and the outer edge of the first pixel stays where it was.
 */
export function squarePixels(grid: OutputGrid): OutputGrid {
  const [rowSpacing, columnSpacing] = grid.pixelSpacing
  if (Math.abs(rowSpacing - columnSpacing) <= 1e-4 * Math.max(rowSpacing, columnSpacing)) return grid
  const size = Math.min(rowSpacing, columnSpacing)
  const u = grid.orientation.slice(0, 3) as unknown as Vec3
  const v = grid.orientation.slice(3) as unknown as Vec3
  const shift = add(scale(u, (size - columnSpacing) / 2), scale(v, (size - rowSpacing) / 2))
  const positions = grid.positions.map((position) => add(position, shift))
  return {
    ...grid,
    columns: Math.round((grid.columns * columnSpacing) / size),
    rows: Math.round((grid.rows * rowSpacing) / size),
    pixelSpacing: [size, size],
    positions,
    affineLps: affineFromColumns(scale(u, size), scale(v, size), column(grid.affineLps, 2), add(column(grid.affineLps, 3), shift)),
  }
}

/** Extent of the stack along the slice normal, first to last slice centre plus one thickness (mm). */
export function scanLength(grid: OutputGrid): number {
  return grid.sliceSpacing * (grid.slices - 1) + grid.sliceThickness
}

/**
 * PatientOrientation letters of a direction (PS3.3 C.7.6.1.1.1): L/R, P/A, H/F, the largest
 * component first, followed by the others that are not negligible (oblique directions).
 */
export function orientationLetters(direction: Vec3): string {
  const letters: [string, string][] = [['L', 'R'], ['P', 'A'], ['H', 'F']]
  return [0, 1, 2]
    .filter((axis) => Math.abs(direction[axis]!) > 1e-4)
    .sort((a, b) => Math.abs(direction[b]!) - Math.abs(direction[a]!))
    .map((axis) => letters[axis]![direction[axis]! > 0 ? 0 : 1])
    .join('')
}

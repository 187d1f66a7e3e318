// Where a DICOM volume's voxels go in NIfTI, and the RAS affine, exactly as dcm2niix lays them out.
import type { DicomSeries, DicomVolume } from '../series/types.js'
import { affineFromColumns, column, lpsToRas, scale, add, type Mat4 } from './matrix.js'
import { canonicalReorientation, isIdentityReorientation, type Reorientation } from './reorient.js'

export interface NiftiLayoutOptions {
  /**
   * Rotate single-volume 3D (non-EPI) acquisitions to the nearest canonical RAS layout, as
   * dcm2niix does by default (default true). 2D and 4D data keep their acquisition layout.
   */
  readonly reorient3d?: boolean
}

/** How a volume is written: rows flipped, then optionally reoriented; `affine` maps the result to RAS. */
export interface NiftiLayout {
  /** Spatial dims after reorientation: [x, y, z]. */
  readonly dims: readonly [number, number, number]
  readonly timepoints: number
  /** Voxel to RAS mm, for the final layout. */
  readonly affine: Mat4
  /** The reorientation applied after the row flip, when there is one. */
  readonly reorientation?: Reorientation
}

/**
 * The NIfTI layout of a volume. DICOM stores row 0 at the top of the image; NIfTI viewers put
 * voxel row 0 at the bottom, so rows are written last-first (dcm2niix's default "flip Y") and
 * the affine's second column is negated, its origin moved to the last row. Then LPS becomes RAS.
 */
export function niftiLayout(volume: DicomVolume, series: DicomSeries, options: NiftiLayoutOptions = {}): NiftiLayout {
  const lps = volume.affineLps
  const rowStep = column(lps, 1)
  const origin = add(column(lps, 3), scale(rowStep, volume.rows - 1))
  const flipped = lpsToRas(affineFromColumns(column(lps, 0), scale(rowStep, -1), column(lps, 2), origin))
  const dims: [number, number, number] = [volume.columns, volume.rows, volume.slices]
  if ((options.reorient3d ?? true) && isRotatable3d(volume, series)) {
    const reorientation = canonicalReorientation(flipped, dims)
    if (!isIdentityReorientation(reorientation)) {
      return { dims: reorientation.dims, timepoints: volume.timepoints, affine: reorientation.affine, reorientation }
    }
  }
  return { dims, timepoints: volume.timepoints, affine: flipped }
}

/** dcm2niix rotates 3D acquisitions that are not EPI, have several slices and one timepoint. */
function isRotatable3d(volume: DicomVolume, series: DicomSeries): boolean {
  const first = series.instances[0]
  const sequence = first?.sequenceName ?? ''
  const isEpi = (first?.scanningSequence ?? []).includes('EP') || /^\*?ep|epfid|epse|epi/i.test(sequence)
  return series.mrAcquisitionType === '3D' && !isEpi && volume.slices > 1 && volume.timepoints === 1
}

// The grouped data model: study -> series -> volumes, as JSON descriptors that travel between stages.
import type { SerializedError } from '@pacsflow/core'
import type { ComplexComponent, DicomInstance, Orientation, Vec3 } from '../dicom/types.js'
import type { Mat4 } from '../geometry/matrix.js'

/** The anatomical plane a grid is closest to. */
export type Plane = 'axial' | 'sagittal' | 'coronal'

/** One image of a volume: which file and frame, where it lies, and how its values scale. */
export interface SliceRef {
  readonly path: string
  readonly frame: number
  readonly sopInstanceUid: string
  readonly position: Vec3
  readonly rescaleSlope: number
  readonly rescaleIntercept: number
}

/**
 * A rectilinear grid of images: `slices` positions along the slice normal, `timepoints`
 * repetitions at each position (1 for a 3D volume).
 */
export interface DicomVolume {
  /** Unique within its series, e.g. `e2-phase` or `e1-magnitude-2`. */
  readonly id: string
  readonly seriesInstanceUid: string
  readonly echoNumber?: number
  /** Milliseconds. */
  readonly echoTime?: number
  readonly complexComponent?: ComplexComponent
  readonly imageType: readonly string[]
  readonly rows: number
  readonly columns: number
  readonly slices: number
  readonly timepoints: number
  /** [between rows, between columns], mm. */
  readonly pixelSpacing: readonly [number, number]
  readonly orientation: Orientation
  /** Unit normal of the slices, LPS (row direction x column direction). */
  readonly normal: Vec3
  /** Distance between neighbouring slices, mm (from the positions; thickness when there is one slice). */
  readonly sliceSpacing: number
  readonly sliceThickness?: number
  readonly plane: Plane
  /** Angle between the slice normal and the plane's axis, degrees. */
  readonly obliqueDegrees: number
  /**
   * Voxel (column, row, slice) to LPS mm, for data in DICOM order: row 0 first, slices in the
   * order of `frames`. NIfTI writers flip and convert this (see `niftiGeometry`).
   */
  readonly affineLps: Mat4
  /** `slices x timepoints` images, slice fastest: frame (t, k) is `frames[t * slices + k]`. */
  readonly frames: readonly SliceRef[]
}

/** One series with its volumes, and whatever kept some of its images from forming one. */
export interface DicomSeries {
  readonly seriesInstanceUid: string
  readonly studyInstanceUid: string
  readonly seriesNumber?: number
  readonly seriesDescription?: string
  readonly protocolName?: string
  readonly sequenceName?: string
  readonly modality?: string
  readonly manufacturer?: string
  readonly sopClassUid: string
  /** MRAcquisitionType, '2D' or '3D'. */
  readonly mrAcquisitionType?: string
  readonly frameOfReferenceUid?: string
  /** ImageType of the series' first instance. */
  readonly imageType: readonly string[]
  /** Distinct echo numbers among its volumes, ascending. */
  readonly echoNumbers: readonly number[]
  /** Distinct complex components among its volumes. */
  readonly components: readonly ComplexComponent[]
  readonly volumes: readonly DicomVolume[]
  /** Coded errors of images that could not form a volume (missing slice, mixed sizes...). */
  readonly problems: readonly SerializedError[]
  readonly instances: readonly DicomInstance[]
}

export interface DicomStudy {
  readonly studyInstanceUid: string
  readonly patientId?: string
  readonly patientName?: string
  readonly patientBirthDate?: string
  readonly patientSex?: string
  readonly studyDate?: string
  readonly studyTime?: string
  readonly studyDescription?: string
  readonly accessionNumber?: string
  /** Ordered by series number. */
  readonly series: readonly DicomSeries[]
}

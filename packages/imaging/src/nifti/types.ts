// The public data model of the NIfTI module: header, image, write input and the 4x4 affine.

import type { Mat4 } from '../geometry/matrix.js'

export type { Mat4 }

/** The voxel types this module reads (and, except where noted at `encodeNifti1`, writes). */
export type NiftiDatatype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64'

/** Voxel values as stored in the file (unscaled), x fastest. */
export type NiftiData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array

export type NiftiSpaceUnits = 'unknown' | 'meter' | 'mm' | 'micron'
export type NiftiTimeUnits = 'unknown' | 'sec' | 'msec' | 'usec' | 'hz' | 'ppm' | 'rads'

/** A NIfTI-1 or NIfTI-2 header, normalised to one shape. */
export interface NiftiHeader {
  readonly version: 1 | 2
  /** The used dimensions only (`dim[1..dim[0]]`), e.g. `[64, 64, 36]` or `[64, 64, 6, 4]`. */
  readonly dims: readonly number[]
  /** The spacing of each used dimension (`pixdim[1..dim[0]]`), same length as `dims`. */
  readonly pixdim: readonly number[]
  readonly datatype: NiftiDatatype
  /** As stored: 0 means "no scaling" (nifti1.h). */
  readonly sclSlope: number
  readonly sclInter: number
  readonly qformCode: number
  readonly sformCode: number
  /** From the quaternion fields, `qoffset_*`, `pixdim[1..3]` and qfac = `pixdim[0]` (method 2 of nifti1.h). */
  readonly qform: Mat4
  /** From `srow_x/y/z` (method 3 of nifti1.h), as stored even when `sformCode` is 0. */
  readonly sform: Mat4
  /** The affine to use: sform if `sformCode > 0`, else qform if `qformCode > 0`, else diag(pixdim) (method 1). */
  readonly affine: Mat4
  readonly spaceUnits: NiftiSpaceUnits
  readonly timeUnits: NiftiTimeUnits
  readonly description: string
  readonly intentCode: number
  readonly intentName: string
  readonly calMin: number
  readonly calMax: number
  /** Byte offset of the voxel data in the (uncompressed) file. */
  readonly voxOffset: number
}

/** A whole image: the header and the stored (unscaled) voxel values in native byte order. */
export interface NiftiImage {
  readonly header: NiftiHeader
  readonly data: NiftiData
}

/** What `encodeNifti1` and `writeNifti` need; the datatype follows the typed array's type. */
export interface NiftiWriteInput {
  readonly data: NiftiData
  /** 1 to 7 dimensions, x fastest; their product must equal `data.length`. */
  readonly dims: readonly number[]
  /**
   * Voxel to RAS+ mm. Written as the sform and, orthogonalised, as the qform (quaternion +
   * qfac); `pixdim[1..3]` are its column norms.
   */
  readonly affine: Mat4
  /**
   * Spacing per dimension, aligned with `dims` (so a read header's `pixdim` can be passed back).
   * Only entries 4+ are used (e.g. TR for time); the spatial ones come from the affine. Missing
   * entries are written as 1.
   */
  readonly pixdim?: readonly number[]
  /** Default 1 (1/0 is written when there is no scaling, as dcm2niix does). */
  readonly sclSlope?: number
  /** Default 0. */
  readonly sclInter?: number
  /** Default 1 (scanner anatomical). */
  readonly qformCode?: number
  /** Default 1 (scanner anatomical). */
  readonly sformCode?: number
  /** At most 79 bytes of UTF-8 are kept; longer text is truncated at a character boundary. */
  readonly description?: string
  /** Default `'mm'`. */
  readonly spaceUnits?: NiftiSpaceUnits
  /** Default `'sec'`. */
  readonly timeUnits?: NiftiTimeUnits
  /** Default 0 (none). */
  readonly intentCode?: number
  /** At most 15 bytes, truncated. */
  readonly intentName?: string
  readonly calMin?: number
  readonly calMax?: number
  /** zlib level for `.nii.gz` (0-9, default 6). */
  readonly gzipLevel?: number
}

/** The quaternion representation of a qform (nifti1.h method 2); `a` is implied (>= 0). */
export interface NiftiQuaternion {
  readonly b: number
  readonly c: number
  readonly d: number
  readonly qx: number
  readonly qy: number
  readonly qz: number
  readonly dx: number
  readonly dy: number
  readonly dz: number
  readonly qfac: 1 | -1
}

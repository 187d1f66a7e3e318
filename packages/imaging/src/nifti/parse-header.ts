// Parses NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers of either byte order into one NiftiHeader.
import { DATATYPES, datatypeFromCode, describeDatatypeCode } from './datatypes.js'
import { niftiError } from './nifti-error.js'
import { quaternionToAffine } from './quaternion.js'
import type { Mat4, NiftiDatatype, NiftiHeader, NiftiSpaceUnits, NiftiTimeUnits } from './types.js'

/** Enough bytes for either header version. */
export const MAX_HEADER_BYTES = 540

export interface ParsedHeader {
  readonly header: NiftiHeader
  readonly littleEndian: boolean
  /** Bytes of voxel data the dims and datatype announce. */
  readonly dataBytes: number
}

/** The fields both versions share, before validation (field names as in nifti1.h / nifti2.h). */
interface RawHeader {
  readonly version: 1 | 2
  readonly magic: string
  readonly dim: readonly number[]
  readonly pixdim: readonly number[]
  readonly datatype: number
  readonly voxOffset: number
  readonly sclSlope: number
  readonly sclInter: number
  readonly calMax: number
  readonly calMin: number
  readonly descrip: string
  readonly qformCode: number
  readonly sformCode: number
  readonly quatern: readonly [number, number, number]
  readonly qoffset: readonly [number, number, number]
  readonly srow: readonly (readonly number[])[]
  readonly xyztUnits: number
  readonly intentCode: number
  readonly intentName: string
}

const SPACE_UNITS: Readonly<Record<number, NiftiSpaceUnits>> = { 1: 'meter', 2: 'mm', 3: 'micron' }
const TIME_UNITS: Readonly<Record<number, NiftiTimeUnits>> = { 8: 'sec', 16: 'msec', 24: 'usec', 32: 'hz', 40: 'ppm', 48: 'rads' }

/** Parses the header at the start of `bytes` (the uncompressed file, or at least its first 540 bytes). */
export function parseNiftiHeader(bytes: Uint8Array, path: string | undefined): ParsedHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.byteLength < 4) {
    throw niftiError('NIFTI_INVALID', path, `not a NIfTI file: only ${bytes.byteLength} bytes`, { actualBytes: bytes.byteLength })
  }
  // sizeof_hdr doubles as the byte-order mark: 348/540 read in the wrong order is not 348/540.
  const sizes = [view.getInt32(0, true), view.getInt32(0, false)]
  const littleEndian = sizes[0] === 348 || sizes[0] === 540
  const size = littleEndian ? sizes[0] : sizes[1]
  if (size !== 348 && size !== 540) {
    throw niftiError('NIFTI_INVALID', path, `not a NIfTI file: sizeof_hdr is ${sizes[0]}, not 348 (NIfTI-1) or 540 (NIfTI-2)`, {
      sizeofHdr: sizes[0],
    })
  }
  if (bytes.byteLength < size) {
    throw niftiError('NIFTI_INVALID', path, `truncated header: ${bytes.byteLength} of ${size} bytes`, {
      expectedBytes: size,
      actualBytes: bytes.byteLength,
    })
  }
  const raw = size === 348 ? readNifti1(view, littleEndian) : readNifti2(view, littleEndian)
  return { ...normalise(raw, path), littleEndian }
}

function readNifti1(view: DataView, le: boolean): RawHeader {
  const f32 = (offset: number): number => view.getFloat32(offset, le)
  const i16 = (offset: number): number => view.getInt16(offset, le)
  return {
    version: 1,
    magic: text(view, 344, 4),
    dim: range(8, (i) => i16(40 + 2 * i)),
    pixdim: range(8, (i) => f32(76 + 4 * i)),
    datatype: i16(70),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    xyztUnits: view.getUint8(123),
    calMax: f32(124),
    calMin: f32(128),
    descrip: text(view, 148, 80),
    qformCode: i16(252),
    sformCode: i16(254),
    quatern: [f32(256), f32(260), f32(264)],
    qoffset: [f32(268), f32(272), f32(276)],
    srow: range(3, (row) => range(4, (i) => f32(280 + 16 * row + 4 * i))),
    intentCode: i16(68),
    intentName: text(view, 328, 16),
  }
}

function readNifti2(view: DataView, le: boolean): RawHeader {
  const f64 = (offset: number): number => view.getFloat64(offset, le)
  const i32 = (offset: number): number => view.getInt32(offset, le)
  const i64 = (offset: number): number => Number(view.getBigInt64(offset, le))
  return {
    version: 2,
    magic: text(view, 4, 4),
    dim: range(8, (i) => i64(16 + 8 * i)),
    pixdim: range(8, (i) => f64(104 + 8 * i)),
    datatype: view.getInt16(12, le),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    calMax: f64(192),
    calMin: f64(200),
    descrip: text(view, 240, 80),
    qformCode: i32(344),
    sformCode: i32(348),
    quatern: [f64(352), f64(360), f64(368)],
    qoffset: [f64(376), f64(384), f64(392)],
    srow: range(3, (row) => range(4, (i) => f64(400 + 32 * row + 8 * i))),
    xyztUnits: i32(500),
    intentCode: i32(504),
    intentName: text(view, 508, 16),
  }
}

function normalise(raw: RawHeader, path: string | undefined): Omit<ParsedHeader, 'littleEndian'> {
  checkMagic(raw, path)
  const { dims, datatype, dataBytes } = checkLayout(raw, path)
  const slopeValid = raw.sclSlope !== 0 && Number.isFinite(raw.sclSlope)
  if (slopeValid && !Number.isFinite(raw.sclInter)) {
    throw niftiError('NIFTI_INVALID', path, `scl_slope is ${raw.sclSlope} but scl_inter is ${raw.sclInter}`)
  }
  if (!Number.isFinite(raw.voxOffset) || raw.voxOffset < 0) {
    throw niftiError('NIFTI_INVALID', path, `invalid vox_offset ${raw.voxOffset}`)
  }
  // As nifti1_io does: a single file cannot have data inside its header, so a smaller
  // vox_offset (0 is common from old writers) means "right after the header".
  const voxOffset = Math.max(Math.trunc(raw.voxOffset), raw.version === 1 ? 352 : 544)
  const header: NiftiHeader = {
    version: raw.version,
    dims,
    pixdim: raw.pixdim.slice(1, dims.length + 1),
    datatype,
    sclSlope: raw.sclSlope,
    sclInter: raw.sclInter,
    qformCode: raw.qformCode,
    sformCode: raw.sformCode,
    ...affines(raw),
    spaceUnits: SPACE_UNITS[raw.xyztUnits & 0x07] ?? 'unknown',
    timeUnits: TIME_UNITS[raw.xyztUnits & 0x38] ?? 'unknown',
    description: raw.descrip,
    intentCode: raw.intentCode,
    intentName: raw.intentName,
    calMin: raw.calMin,
    calMax: raw.calMax,
    voxOffset,
  }
  return { header, dataBytes }
}

function checkMagic(raw: RawHeader, path: string | undefined): void {
  const single = raw.version === 1 ? 'n+1' : 'n+2'
  if (raw.magic === (raw.version === 1 ? 'ni1' : 'ni2')) {
    const message = 'a two-file NIfTI pair (.hdr/.img) is not supported; use a single .nii file'
    throw niftiError('NIFTI_UNSUPPORTED', path, message, { magic: raw.magic })
  }
  if (raw.magic !== single) {
    const message = `not a NIfTI-${raw.version} file: magic is ${JSON.stringify(raw.magic)}, not "${single}"`
    throw niftiError('NIFTI_INVALID', path, message, { magic: raw.magic })
  }
}

/** The used dims, the datatype, and the data size they imply. */
function checkLayout(raw: RawHeader, path: string | undefined): { dims: number[]; datatype: NiftiDatatype; dataBytes: number } {
  const rank = raw.dim[0] ?? 0
  if (!Number.isInteger(rank) || rank < 1 || rank > 7) {
    throw niftiError('NIFTI_INVALID', path, `dim[0] is ${rank}, not 1 to 7`, { dim: raw.dim })
  }
  const dims = raw.dim.slice(1, rank + 1)
  if (dims.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw niftiError('NIFTI_INVALID', path, `invalid dimensions ${dims.join('x')}`, { dim: raw.dim })
  }
  const datatype = datatypeFromCode(raw.datatype)
  if (datatype === undefined) {
    const message = `${describeDatatypeCode(raw.datatype)} is not supported`
    throw niftiError('NIFTI_UNSUPPORTED', path, message, { datatypeCode: raw.datatype })
  }
  const dataBytes = dims.reduce((a, b) => a * b, 1) * DATATYPES[datatype].bytes
  if (!Number.isSafeInteger(dataBytes)) {
    throw niftiError('NIFTI_INVALID', path, `dimensions ${dims.join('x')} are too large`, { dim: raw.dim })
  }
  return { dims, datatype, dataBytes }
}

/** The three coordinate methods of nifti1.h, and the one a reader should use. */
function affines(raw: RawHeader): { qform: Mat4; sform: Mat4; affine: Mat4 } {
  const [b, c, d] = raw.quatern
  const [qx, qy, qz] = raw.qoffset
  const [, dx = 1, dy = 1, dz = 1] = raw.pixdim
  // nifti1.h: qfac is pixdim[0], "which should be -1 or 1"; anything else is taken as 1.
  const qfac = (raw.pixdim[0] ?? 0) < 0 ? -1 : 1
  const qform = quaternionToAffine({ b, c, d, qx, qy, qz, dx, dy, dz, qfac })
  const row = (i: number): [number, number, number, number] => {
    const [a0 = 0, a1 = 0, a2 = 0, a3 = 0] = raw.srow[i] ?? []
    return [a0, a1, a2, a3]
  }
  const sform: Mat4 = [row(0), row(1), row(2), [0, 0, 0, 1]]
  const base: Mat4 = [
    [dx, 0, 0, 0],
    [0, dy, 0, 0],
    [0, 0, dz, 0],
    [0, 0, 0, 1],
  ]
  const affine = raw.sformCode > 0 ? sform : raw.qformCode > 0 ? qform : base
  return { qform, sform, affine }
}

function range<T>(n: number, f: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => f(i))
}

const decoder = new TextDecoder('utf-8')

/** A NUL-terminated string field. */
function text(view: DataView, offset: number, length: number): string {
  const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, length)
  const end = bytes.indexOf(0)
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end))
}

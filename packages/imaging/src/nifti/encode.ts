// Encodes an image as a single-file little-endian NIfTI-1 (.nii): 348-byte header, 4-byte extension flag, data.
import { DATATYPES, datatypeOfArray, HOST_LITTLE_ENDIAN } from './datatypes.js'
import { niftiError } from './nifti-error.js'
import { affineToQuaternion } from './quaternion.js'
import type { Mat4, NiftiDatatype, NiftiSpaceUnits, NiftiTimeUnits, NiftiWriteInput } from './types.js'

/** Where the voxel data starts: the header (348) plus the extension flag (4), as nifti1.h requires. */
export const NIFTI1_VOX_OFFSET = 352

const SPACE_CODES: Readonly<Record<NiftiSpaceUnits, number>> = { unknown: 0, meter: 1, mm: 2, micron: 3 }
const TIME_CODES: Readonly<Record<NiftiTimeUnits, number>> = { unknown: 0, sec: 8, msec: 16, usec: 24, hz: 32, ppm: 40, rads: 48 }

/** A single-file NIfTI-1 image (magic "n+1", vox_offset 352, no extensions), little endian. */
export function encodeNifti1(input: NiftiWriteInput): Uint8Array {
  return encode(input, undefined)
}

/** As `encodeNifti1`; `path` (when writing a file) is named in errors. */
export function encode(input: NiftiWriteInput, path: string | undefined): Uint8Array {
  const datatype = checkInput(input, path)
  const out = new Uint8Array(NIFTI1_VOX_OFFSET + input.data.byteLength)
  writeHeader(new DataView(out.buffer), input, datatype)
  out.set(new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength), NIFTI1_VOX_OFFSET)
  if (!HOST_LITTLE_ENDIAN) swapData(out.subarray(NIFTI1_VOX_OFFSET), DATATYPES[datatype].bytes)
  return out
}

function checkInput(input: NiftiWriteInput, path: string | undefined): NiftiDatatype {
  const invalid = (message: string, details: Record<string, unknown> = {}): Error =>
    niftiError('INVALID_OPTIONS', path, `cannot write NIfTI: ${message}`, details)
  const datatype = datatypeOfArray(input.data)
  if (datatype === undefined) throw invalid('data must be a Uint8/Int8/Int16/Uint16/Int32/Uint32/Float32/Float64Array')
  const { dims } = input
  if (!Array.isArray(dims) || dims.length < 1 || dims.length > 7 || dims.some((n) => !Number.isInteger(n) || n < 1)) {
    throw invalid(`dims must be 1 to 7 positive integers, got ${JSON.stringify(dims)}`, { dims })
  }
  if (dims.some((n) => n > 32767)) {
    throw niftiError('NIFTI_UNSUPPORTED', path, `dims ${dims.join('x')} exceed NIfTI-1's limit of 32767 per dimension`, { dims })
  }
  const count = dims.reduce((a, b) => a * b, 1)
  if (count !== input.data.length) {
    throw invalid(`dims ${dims.join('x')} hold ${count} voxels but data has ${input.data.length}`, { dims, length: input.data.length })
  }
  const affine: unknown = input.affine
  const square =
    Array.isArray(affine) &&
    affine.length === 4 &&
    affine.every((row: unknown) => Array.isArray(row) && row.length === 4 && row.every((v: unknown) => Number.isFinite(v)))
  if (!square) throw invalid('affine must be a 4x4 matrix of finite numbers')
  const numbers = { sclSlope: input.sclSlope, sclInter: input.sclInter, calMin: input.calMin, calMax: input.calMax }
  for (const [name, value] of Object.entries(numbers)) {
    if (value !== undefined && !Number.isFinite(value)) throw invalid(`${name} must be a finite number, got ${value}`)
  }
  for (const value of input.pixdim ?? []) {
    if (!Number.isFinite(value)) throw invalid(`pixdim must hold finite numbers, got ${JSON.stringify(input.pixdim)}`)
  }
  const codes = { qformCode: input.qformCode, sformCode: input.sformCode, intentCode: input.intentCode }
  for (const [name, value] of Object.entries(codes)) {
    if (value !== undefined && !(Number.isInteger(value) && value >= -32768 && value <= 32767)) {
      throw invalid(`${name} must be a 16-bit integer, got ${value}`)
    }
  }
  if (input.spaceUnits !== undefined && !(input.spaceUnits in SPACE_CODES)) throw invalid(`unknown spaceUnits ${input.spaceUnits}`)
  if (input.timeUnits !== undefined && !(input.timeUnits in TIME_CODES)) throw invalid(`unknown timeUnits ${input.timeUnits}`)
  return datatype
}

/** Field offsets are those of nifti1.h's `struct nifti_1_header`. */
function writeHeader(view: DataView, input: NiftiWriteInput, datatype: NiftiDatatype): void {
  const f32 = (offset: number, value: number): void => view.setFloat32(offset, value, true)
  const i16 = (offset: number, value: number): void => view.setInt16(offset, value, true)
  const q = affineToQuaternion(input.affine)
  view.setInt32(0, 348, true) // sizeof_hdr
  view.setUint8(38, 0x72) // regular = 'r', as ANALYZE readers expect
  i16(40, input.dims.length)
  for (let i = 1; i <= 7; i++) i16(40 + 2 * i, input.dims[i - 1] ?? 1)
  i16(68, input.intentCode ?? 0)
  i16(70, DATATYPES[datatype].code)
  i16(72, DATATYPES[datatype].bytes * 8) // bitpix
  const pixdim = [q.qfac, q.dx, q.dy, q.dz, ...[3, 4, 5, 6].map((i) => input.pixdim?.[i] ?? 1)]
  pixdim.forEach((value, i) => f32(76 + 4 * i, value))
  f32(108, NIFTI1_VOX_OFFSET)
  f32(112, input.sclSlope ?? 1)
  f32(116, input.sclInter ?? 0)
  view.setUint8(123, SPACE_CODES[input.spaceUnits ?? 'mm'] | TIME_CODES[input.timeUnits ?? 'sec'])
  f32(124, input.calMax ?? 0)
  f32(128, input.calMin ?? 0)
  writeText(view, 148, 80, input.description ?? '')
  i16(252, input.qformCode ?? 1)
  i16(254, input.sformCode ?? 1)
  ;[q.b, q.c, q.d, q.qx, q.qy, q.qz].forEach((value, i) => f32(256 + 4 * i, value))
  const affine: Mat4 = input.affine
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 4; col++) f32(280 + 16 * row + 4 * col, affine[row]![col]!)
  }
  writeText(view, 328, 16, input.intentName ?? '')
  ;[0x6e, 0x2b, 0x31, 0].forEach((byte, i) => view.setUint8(344 + i, byte)) // magic "n+1\0"
  // Bytes 348-351 stay zero: the extension flag says "no extensions follow".
}

/** Writes UTF-8 text NUL-terminated in a `size`-byte field, cut at a character boundary if too long. */
function writeText(view: DataView, offset: number, size: number, value: string): void {
  const bytes = new TextEncoder().encode(value)
  let length = Math.min(bytes.byteLength, size - 1)
  // Back off over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (length < bytes.byteLength && length > 0 && ((bytes[length] ?? 0) & 0xc0) === 0x80) length--
  new Uint8Array(view.buffer, view.byteOffset + offset, size).set(bytes.subarray(0, length))
}

function swapData(bytes: Uint8Array, size: 1 | 2 | 4 | 8): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (size === 2) buffer.swap16()
  else if (size === 4) buffer.swap32()
  else if (size === 8) buffer.swap64()
}

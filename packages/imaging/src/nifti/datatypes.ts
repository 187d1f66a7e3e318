// NIfTI datatype codes (nifti1.h DT_*) and the typed arrays that hold them.
import type { NiftiData, NiftiDatatype } from './types.js'

type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor

interface DatatypeInfo {
  readonly code: number
  readonly bytes: 1 | 2 | 4 | 8
  readonly array: TypedArrayConstructor
}

export const DATATYPES: Readonly<Record<NiftiDatatype, DatatypeInfo>> = {
  uint8: { code: 2, bytes: 1, array: Uint8Array },
  int16: { code: 4, bytes: 2, array: Int16Array },
  int32: { code: 8, bytes: 4, array: Int32Array },
  float32: { code: 16, bytes: 4, array: Float32Array },
  float64: { code: 64, bytes: 8, array: Float64Array },
  int8: { code: 256, bytes: 1, array: Int8Array },
  uint16: { code: 512, bytes: 2, array: Uint16Array },
  uint32: { code: 768, bytes: 4, array: Uint32Array },
}

const BY_CODE = new Map<number, NiftiDatatype>(
  Object.entries(DATATYPES).map(([name, info]) => [info.code, name as NiftiDatatype]),
)

/** Names of the codes nifti1.h defines that this module does not read, for error messages. */
const UNSUPPORTED_NAMES: Readonly<Record<number, string>> = {
  1: 'binary',
  32: 'complex64',
  128: 'rgb24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
}

export function datatypeFromCode(code: number): NiftiDatatype | undefined {
  return BY_CODE.get(code)
}

export function describeDatatypeCode(code: number): string {
  const name = UNSUPPORTED_NAMES[code] ?? BY_CODE.get(code)
  return name === undefined ? `datatype ${code}` : `datatype ${code} (${name})`
}

/** The datatype of a typed array; undefined for anything else (e.g. Uint8ClampedArray). */
export function datatypeOfArray(data: unknown): NiftiDatatype | undefined {
  // A Buffer is a Uint8Array subclass, so it counts as uint8.
  if (data instanceof Uint8Array) return 'uint8'
  if (data instanceof Int8Array) return 'int8'
  if (data instanceof Int16Array) return 'int16'
  if (data instanceof Uint16Array) return 'uint16'
  if (data instanceof Int32Array) return 'int32'
  if (data instanceof Uint32Array) return 'uint32'
  if (data instanceof Float32Array) return 'float32'
  if (data instanceof Float64Array) return 'float64'
  return undefined
}

/** A typed array of `datatype` over `bytes`, which must be aligned to the element size. */
export function viewAs(datatype: NiftiDatatype, bytes: Uint8Array<ArrayBuffer>): NiftiData {
  const { array, bytes: size } = DATATYPES[datatype]
  return new array(bytes.buffer, bytes.byteOffset, bytes.byteLength / size)
}

/** True when this machine stores numbers little endian (every platform Node ships for today). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

// Explicit VR Little Endian elements and the Part 10 file meta group, byte by byte (PS3.5 7.1.2, PS3.10 7.1):
// for writers that build files themselves (the synthetic exam, dicomise's per-slice elements, a received object's meta).

const ascii = new TextEncoder()

// VRs with a 2-byte reserved field and a 4-byte length in Explicit VR (PS3.5 7.1.2, Table 7.1-1).
const LONG_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])

/** True for the VRs whose Explicit VR header is 12 bytes (reserved field, 32-bit length); 8 bytes otherwise. */
export function isLongVr(vr: string): boolean {
  return LONG_VRS.has(vr)
}

/** The header of an element whose `length`-byte value follows it (written by the caller, e.g. pixel data in place). */
export function elementHeader(tag: number, vr: string, length: number): Uint8Array {
  const long = LONG_VRS.has(vr)
  if (length % 2 !== 0) throw new RangeError(`element ${tag.toString(16)}: odd value length ${length}`)
  if (!long && length > 0xffff) throw new RangeError(`element ${tag.toString(16)}: ${length} bytes do not fit VR ${vr}`)
  const out = new Uint8Array(long ? 12 : 8)
  const view = new DataView(out.buffer)
  view.setUint16(0, tag >>> 16, true)
  view.setUint16(2, tag & 0xffff, true)
  out[4] = vr.charCodeAt(0)
  out[5] = vr.charCodeAt(1)
  if (long) view.setUint32(8, length, true)
  else view.setUint16(6, length, true)
  return out
}

/** One element: header and value (already padded to even length, see {@link textValue}). */
export function encodeElement(tag: number, vr: string, value: Uint8Array): Uint8Array {
  const header = elementHeader(tag, vr, value.length)
  const out = new Uint8Array(header.length + value.length)
  out.set(header, 0)
  out.set(value, header.length)
  return out
}

/** Text values joined by `\` and padded to even length: with NUL for UI, with a space otherwise (PS3.5 6.2, 9.1). */
export function textValue(vr: string, values: readonly string[]): Uint8Array {
  const text = values.join('\\')
  return ascii.encode(text.length % 2 === 0 ? text : text + (vr === 'UI' ? '\0' : ' '))
}

/** The parts one after another, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/**
 * A Decimal String of at most 16 characters (PS3.5 6.2, VR DS) with as many significant digits
 * as fit: 15 for most coordinates, fewer for long negative numbers. `-0` becomes `0`.
 */
export function formatDs(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`DS cannot hold ${value}`)
  if (value === 0) return '0'
  for (let digits = 16; digits >= 1; digits--) {
    const text = compact(value.toPrecision(digits))
    if (text.length <= 16) return text
  }
  throw new RangeError(`DS cannot hold ${value}`)
}

/** toPrecision's output without trailing zeros and with a plain exponent (`1.5e-7`, `2e+21`). */
function compact(text: string): string {
  const [mantissa, exponent] = text.split('e') as [string, string | undefined]
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa
  const plain = trimmed === '-0' ? '0' : trimmed
  return exponent === undefined ? plain : `${plain}e${exponent.replace(/^\+/, '')}`
}

/** An Integer String (PS3.5 6.2, VR IS): a 32-bit signed integer. */
export function formatIs(value: number): string {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new RangeError(`IS cannot hold ${value}`)
  return String(value)
}

/** What the File Meta Information group says (PS3.10 Table 7.1-1). */
export interface FileMetaFields {
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  /** The data set's encoding. */
  readonly transferSyntaxUid: string
  readonly implementationClassUid: string
  /** At most 16 characters (SH). */
  readonly implementationVersionName: string
  /** Source Application Entity Title (0002,0016), e.g. the calling AE of a C-STORE; at most 16 characters. */
  readonly sourceAet?: string
}

/**
 * The 128-byte preamble, `DICM`, and group 0002 with its group length (PS3.10 7.1): version 00\01,
 * the SOP class and instance, the transfer syntax, the implementation, and the source AE when given.
 * The meta group is always Explicit VR Little Endian, whatever the data set's transfer syntax.
 */
export function encodeFileMeta(fields: FileMetaFields): Uint8Array {
  const elements = [
    encodeElement(0x00020001, 'OB', Uint8Array.of(0, 1)),
    encodeElement(0x00020002, 'UI', textValue('UI', [fields.sopClassUid])),
    encodeElement(0x00020003, 'UI', textValue('UI', [fields.sopInstanceUid])),
    encodeElement(0x00020010, 'UI', textValue('UI', [fields.transferSyntaxUid])),
    encodeElement(0x00020012, 'UI', textValue('UI', [fields.implementationClassUid])),
    encodeElement(0x00020013, 'SH', textValue('SH', [fields.implementationVersionName.slice(0, 16)])),
    ...(fields.sourceAet === undefined ? [] : [encodeElement(0x00020016, 'AE', textValue('AE', [fields.sourceAet.slice(0, 16)]))]),
  ]
  const body = concatBytes(elements)
  const groupLength = new Uint8Array(4)
  new DataView(groupLength.buffer).setUint32(0, body.length, true)
  const preamble = new Uint8Array(132)
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128)
  return concatBytes([preamble, encodeElement(0x00020000, 'UL', groupLength), body])
}

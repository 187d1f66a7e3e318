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
  if (length % 2 !== 0) throw new RangeError(`element ${tag.toString(16)}: odd value length ${length}`)
  const out = new Uint8Array(LONG_VRS.has(vr) ? 12 : 8)
  putHeader(new DataView(out.buffer), 0, tag, vr, length)
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
  const out = new Uint8Array(fileMetaLength(fields))
  writeFileMeta(out, fields)
  return out
}

/** The bytes {@link encodeFileMeta} makes of `fields`, preamble included. */
export function fileMetaLength(fields: FileMetaFields): number {
  return metaLength(metaTexts(fields))
}

function metaLength(texts: readonly MetaText[]): number {
  let length = PREAMBLE_BYTES + GROUP_LENGTH_BYTES + VERSION_BYTES
  for (const [, , text] of texts) length += 8 + evenLength(Buffer.byteLength(text, 'utf8'))
  return length
}

/**
 * What {@link encodeFileMeta} returns, written into `target` from `offset` without allocating
 * (a DICOM receiver writes it straight into the buffer its file is written from; making the
 * group element by element in fresh arrays took ~20 µs per object, measured, on its critical
 * path). Returns the offset after the group. RangeError when it does not fit: nothing is
 * promised of the bytes it wrote by then.
 */
export function writeFileMeta(target: Uint8Array, fields: FileMetaFields, offset = 0): number {
  const texts = metaTexts(fields)
  const end = offset + metaLength(texts)
  if (offset < 0 || end > target.length) throw new RangeError(`the file meta group needs ${end - offset} bytes from ${offset}; the buffer has ${target.length}`)
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
  target.fill(0, offset, offset + 128)
  target.set(DICM, offset + 128)
  let at = offset + PREAMBLE_BYTES
  at = putHeader(view, at, 0x00020000, 'UL', 4)
  view.setUint32(at, end - (at + 4), true)
  at += 4
  at = putHeader(view, at, 0x00020001, 'OB', 2)
  target[at++] = 0
  target[at++] = 1
  for (const [tag, vr, text] of texts) {
    const valueAt = at + 8
    const { read, written } = utf8.encodeInto(text, target.subarray(valueAt, end))
    if (read !== text.length) throw new RangeError(`element ${tag.toString(16)} does not fit the file meta group`)
    let length = written
    if (length % 2 !== 0) target[valueAt + length++] = vr === 'UI' ? 0 : 0x20
    putHeader(view, at, tag, vr, length)
    at = valueAt + length
  }
  return at
}

const utf8 = new TextEncoder()
const DICM = Uint8Array.of(0x44, 0x49, 0x43, 0x4d)
/** The preamble and `DICM` (PS3.10 7.1). */
const PREAMBLE_BYTES = 132
/** (0002,0000) UL: an 8-byte header and a 4-byte value. */
const GROUP_LENGTH_BYTES = 12
/** (0002,0001) OB 00\01: a 12-byte header and a 2-byte value. */
const VERSION_BYTES = 14

/** A text element of group 0002: [tag, VR, value]. */
type MetaText = [number, string, string]

/** The text elements of group 0002 after the version, in tag order. */
function metaTexts(fields: FileMetaFields): MetaText[] {
  const texts: MetaText[] = [
    [0x00020002, 'UI', fields.sopClassUid],
    [0x00020003, 'UI', fields.sopInstanceUid],
    [0x00020010, 'UI', fields.transferSyntaxUid],
    [0x00020012, 'UI', fields.implementationClassUid],
    [0x00020013, 'SH', fields.implementationVersionName.slice(0, 16)],
  ]
  if (fields.sourceAet !== undefined) texts.push([0x00020016, 'AE', fields.sourceAet.slice(0, 16)])
  return texts
}

function evenLength(length: number): number {
  return length + (length % 2)
}

/** An Explicit VR Little Endian element header at `at` (PS3.5 7.1.2); returns the offset after it. */
function putHeader(view: DataView, at: number, tag: number, vr: string, length: number): number {
  const long = LONG_VRS.has(vr)
  if (!long && length > 0xffff) throw new RangeError(`element ${tag.toString(16)}: ${length} bytes do not fit VR ${vr}`)
  view.setUint16(at, tag >>> 16, true)
  view.setUint16(at + 2, tag & 0xffff, true)
  view.setUint8(at + 4, vr.charCodeAt(0))
  view.setUint8(at + 5, vr.charCodeAt(1))
  if (!long) {
    view.setUint16(at + 6, length, true)
    return at + 8
  }
  view.setUint16(at + 6, 0, true)
  view.setUint32(at + 8, length, true)
  return at + 12
}

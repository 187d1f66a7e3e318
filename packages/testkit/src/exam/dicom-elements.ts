// A small Explicit VR Little Endian encoder (DICOM PS3.5 7.1.2): the exam's files are plain
// classic images whose every attribute is known here, so they are written byte by byte, not via dcmjs.
import { createHash } from 'node:crypto'

/** One data element; `value` is already padded to even length. */
export interface Element {
  readonly tag: number
  readonly vr: string
  readonly value: Uint8Array
}

const ascii = new TextEncoder()

// VRs with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1).
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])

/** Text values joined by `\`, padded to even length with NUL for UI and a space otherwise (PS3.5 6.2). */
export function text(tag: number, vr: string, ...values: readonly string[]): Element {
  const joined = values.join('\\')
  const padded = joined.length % 2 === 0 ? joined : joined + (vr === 'UI' ? '\0' : ' ')
  return { tag, vr, value: ascii.encode(padded) }
}

/** Decimal String values (at most 16 characters each, PS3.5 6.2). */
export function decimal(tag: number, ...values: readonly number[]): Element {
  return text(tag, 'DS', ...values.map(formatDecimal))
}

/** Integer String values. */
export function integer(tag: number, ...values: readonly number[]): Element {
  return text(tag, 'IS', ...values.map((v) => String(Math.round(v))))
}

/** Unsigned short values (US). */
export function ushort(tag: number, ...values: readonly number[]): Element {
  const bytes = new Uint8Array(values.length * 2)
  const view = new DataView(bytes.buffer)
  values.forEach((v, i) => view.setUint16(i * 2, v, true))
  return { tag, vr: 'US', value: bytes }
}

/**
 * A number as a DS of at most 16 characters with as many significant digits as fit; tiny
 * rounding residue (|v| < 1e-10) is written as 0 so orientation cosines read cleanly.
 */
export function formatDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`DS cannot hold ${value}`)
  if (Math.abs(value) < 1e-10) return '0'
  for (let digits = 15; digits >= 1; digits--) {
    let out = value.toPrecision(digits)
    if (out.includes('e')) {
      const [mantissa, exponent] = out.split('e') as [string, string]
      out = `${trimZeros(mantissa)}e${Number(exponent)}`
    } else out = trimZeros(out)
    if (out.length <= 16) return out
  }
  throw new RangeError(`DS cannot hold ${value}`)
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text
}

function header(tag: number, vr: string, length: number): Uint8Array {
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

/** The encoded length of some elements. */
function encodedLength(elements: readonly Element[]): number {
  return elements.reduce((sum, e) => sum + (LONG_VRS.has(e.vr) ? 12 : 8) + e.value.length, 0)
}

function writeElements(out: Uint8Array, at: number, elements: readonly Element[]): number {
  for (const element of elements) {
    const head = header(element.tag, element.vr, element.value.length)
    out.set(head, at)
    out.set(element.value, at + head.length)
    at += head.length + element.value.length
  }
  return at
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'

export interface Part10Identity {
  readonly sopClassUid: string
  readonly sopInstanceUid: string
  readonly implementationClassUid: string
  readonly implementationVersionName: string
}

/**
 * A Part 10 file (PS3.10 7.1): 128-byte preamble, `DICM`, the File Meta Information group with
 * its length, then `elements` in ascending tag order, then a Pixel Data (7FE0,0010) OW element
 * whose `pixelBytes` the caller fills at the returned `pixelOffset`.
 */
export function part10File(identity: Part10Identity, elements: readonly Element[], pixelBytes: number): { bytes: Uint8Array; pixelOffset: number } {
  const meta = [
    { tag: 0x00020001, vr: 'OB', value: Uint8Array.of(0, 1) },
    text(0x00020002, 'UI', identity.sopClassUid),
    text(0x00020003, 'UI', identity.sopInstanceUid),
    text(0x00020010, 'UI', EXPLICIT_VR_LITTLE_ENDIAN),
    text(0x00020012, 'UI', identity.implementationClassUid),
    text(0x00020013, 'SH', identity.implementationVersionName),
  ]
  const metaLength = encodedLength(meta)
  const sorted = [...elements].sort((a, b) => a.tag - b.tag)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.tag === sorted[i - 1]!.tag) throw new RangeError(`element ${sorted[i]!.tag.toString(16)} given twice`)
  }
  const total = 132 + 12 + metaLength + encodedLength(sorted) + 12 + pixelBytes
  const bytes = new Uint8Array(total)
  bytes.set([0x44, 0x49, 0x43, 0x4d], 128)
  const groupLength = new Uint8Array(4)
  new DataView(groupLength.buffer).setUint32(0, metaLength, true)
  let at = writeElements(bytes, 132, [{ tag: 0x00020000, vr: 'UL', value: groupLength }])
  at = writeElements(bytes, at, meta)
  at = writeElements(bytes, at, sorted)
  bytes.set(header(0x7fe00010, 'OW', pixelBytes), at)
  return { bytes, pixelOffset: at + 12 }
}

/**
 * A UID under the `2.25` root (PS3.5 B.2: the decimal form of a UUID, no registered root needed).
 * The UUID is 128 bits of SHA-256 over the length-prefixed parts with the RFC 9562 version 8
 * (custom) and variant bits set, so the same parts always give the same UID.
 */
export function uidFrom(...parts: readonly string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(`${part.length}:${part}`)
  const bytes = hash.digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`
}

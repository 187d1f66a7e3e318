// A small Explicit VR Little Endian encoder (DICOM PS3.5 7.1.2): the exam's files are plain
// classic images whose every attribute is known here, so they are written byte by byte, not via dcmjs.
import { elementHeader, encodeFileMeta, formatDs, isLongVr, textValue } from '@pacsflow/imaging'

/** One data element; `value` is already padded to even length. */
export interface Element {
  readonly tag: number
  readonly vr: string
  readonly value: Uint8Array
}

/** Text values joined by `\`, padded to even length with NUL for UI and a space otherwise (PS3.5 6.2). */
export function text(tag: number, vr: string, ...values: readonly string[]): Element {
  return { tag, vr, value: textValue(vr, values) }
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

/** A number as a DS (see formatDs); tiny rounding residue (|v| < 1e-10) is written as 0 so orientation cosines read cleanly. */
export function formatDecimal(value: number): string {
  return formatDs(Math.abs(value) < 1e-10 ? 0 : value)
}

/** The encoded length of some elements. */
function encodedLength(elements: readonly Element[]): number {
  return elements.reduce((sum, e) => sum + (isLongVr(e.vr) ? 12 : 8) + e.value.length, 0)
}

function writeElements(out: Uint8Array, at: number, elements: readonly Element[]): number {
  for (const element of elements) {
    const head = elementHeader(element.tag, element.vr, element.value.length)
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
  const meta = encodeFileMeta({ ...identity, transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN })
  const sorted = [...elements].sort((a, b) => a.tag - b.tag)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.tag === sorted[i - 1]!.tag) throw new RangeError(`element ${sorted[i]!.tag.toString(16)} given twice`)
  }
  const bytes = new Uint8Array(meta.length + encodedLength(sorted) + 12 + pixelBytes)
  bytes.set(meta, 0)
  const at = writeElements(bytes, meta.length, sorted)
  bytes.set(elementHeader(0x7fe00010, 'OW', pixelBytes), at)
  return { bytes, pixelOffset: at + 12 }
}


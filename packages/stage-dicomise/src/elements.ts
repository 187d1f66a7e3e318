// A minimal Explicit VR Little Endian element encoder for the few elements that change per slice
// (and the file meta group): dcmjs encodes everything else once per series (see template.ts).

const ascii = new TextEncoder()

// VRs with a 2-byte reserved field and a 4-byte length in Explicit VR (PS3.5 7.1.2, Table 7.1-1).
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])

/** One element: tag, VR, length and value (the value padded to even length by the caller). */
export function encodeElement(tag: number, vr: string, value: Uint8Array): Uint8Array {
  const header = elementHeader(tag, vr, value.length)
  const out = new Uint8Array(header.length + value.length)
  out.set(header, 0)
  out.set(value, header.length)
  return out
}

/** The header of an element whose `length`-byte value the caller writes after it (pixel data in place). */
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

/** Text values joined by `\` and padded to even length: with NUL for UI, with a space otherwise (PS3.5 6.2). */
export function textBytes(vr: string, values: readonly string[]): Uint8Array {
  const text = values.join('\\')
  const bytes = ascii.encode(text.length % 2 === 0 ? text : text + (vr === 'UI' ? '\0' : ' '))
  return bytes
}

export function uiElement(tag: number, uid: string): Uint8Array {
  return encodeElement(tag, 'UI', textBytes('UI', [uid]))
}

export function dsElement(tag: number, values: readonly number[]): Uint8Array {
  return encodeElement(tag, 'DS', textBytes('DS', values.map(formatDs)))
}

export function isElement(tag: number, value: number): Uint8Array {
  return encodeElement(tag, 'IS', textBytes('IS', [formatIs(value)]))
}

/** US or SS (one 16-bit value), as PixelRepresentation dictates for Smallest/LargestImagePixelValue (PS3.3 C.7.6.3). */
export function int16Element(tag: number, vr: 'US' | 'SS', value: number): Uint8Array {
  const bytes = new Uint8Array(2)
  const view = new DataView(bytes.buffer)
  if (vr === 'US') view.setUint16(0, value, true)
  else view.setInt16(0, value, true)
  return encodeElement(tag, vr, bytes)
}

/** A sequence of explicit-length items, each the concatenation of its encoded elements in tag order (PS3.5 7.5). */
export function sqElement(tag: number, items: readonly (readonly Uint8Array[])[]): Uint8Array {
  const encoded = items.map((elements) => {
    const body = concat(elements)
    const item = new Uint8Array(8 + body.length)
    const view = new DataView(item.buffer)
    view.setUint16(0, 0xfffe, true)
    view.setUint16(2, 0xe000, true)
    view.setUint32(4, body.length, true)
    item.set(body, 8)
    return item
  })
  return encodeElement(tag, 'SQ', concat(encoded))
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
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
